"""A guard in front of aioice's per-socket protocol: hostile datagrams are dropped.

Anyone who learns a media port can send to it. Without the guard:

- a STUN message whose known attribute has the wrong length makes aioice's parser raise
  ``struct.error`` from ``datagram_received``, and asyncio logs a traceback per packet;
- an empty datagram reaches aiortc's DTLS loop, whose ``data[0]`` raises ``IndexError``
  and ends the DTLS transport: one empty packet hangs up the call;
- non-STUN data from any address is queued for DTLS/SRTP as if it came from the peer.

The guard drops empty datagrams, drops non-STUN data from an address that no ICE
candidate pair of this socket vouches for, and catches what aioice raises on the rest.
Each drop is counted (:mod:`.counters`); the log gets at most a line per interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .counters import COUNTERS, RateLimitedLog

log = logging.getLogger(__name__)
_malformed_log = RateLimitedLog(log)
_foreign_log = RateLimitedLog(log)

STUN_HEADER = 20
STUN_MAGIC = b"\x21\x12\xa4\x42"


def looks_like_stun(data: bytes) -> bool:
    """RFC 8489 framing: two zero top bits, the magic cookie, a 20-byte header."""
    return len(data) >= STUN_HEADER and data[0] < 4 and data[4:8] == STUN_MAGIC


def vouched_addresses(protocol: Any) -> set[tuple[str, int]]:
    """Remote addresses of this socket's candidate pairs (aioice's private check list).

    Remote candidates came from the signalled offer or, peer-reflexive, from a check
    that carried the session's ICE credentials.
    """
    connection = getattr(protocol, "receiver", None)
    pairs = getattr(connection, "_check_list", None)
    if pairs is None:
        return set()
    return {pair.remote_addr for pair in pairs if pair.protocol is protocol}


def guard_protocol(protocol: Any) -> None:
    """Wrap ``protocol.datagram_received`` (an aioice StunProtocol) with the guard."""
    original: Callable[[bytes, Any], None] = protocol.datagram_received
    known: set[tuple[str, int]] = set()

    def datagram_received(data: bytes, addr: Any) -> None:
        if not data:
            COUNTERS.datagrams_malformed += 1
            _malformed_log.warning("dropped an empty datagram from %s", addr)
            return
        if not looks_like_stun(data):
            source = (addr[0], addr[1])
            if source not in known:
                known.update(vouched_addresses(protocol))
                if source not in known:
                    COUNTERS.datagrams_foreign += 1
                    _foreign_log.warning(
                        "dropped non-STUN data from %s, which no ICE check vouched for", source
                    )
                    return
        try:
            original(data, addr)
        except Exception as exc:  # aioice raises struct.error, KeyError... on bad input
            COUNTERS.datagrams_malformed += 1
            _malformed_log.warning(
                "dropped a malformed datagram from %s (%s: %s)", addr, type(exc).__name__, exc
            )

    protocol.datagram_received = datagram_received
