"""Hostile datagrams at a live call's media port: dropped and counted, the call goes on.

Malformed STUN (a known attribute with the wrong length makes aioice's parser raise
``struct.error``), empty datagrams (aiortc's DTLS loop reads ``data[0]``) and junk from
an address that is not the caller's are thrown at the port the node answered with,
from a plain UDP socket on 127.0.0.1. Each burst ends with a well-formed, unauthenticated
STUN binding request: the node's 400 answer to it says every earlier datagram of the
burst has been handled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct

import pytest

from edgevoice.sfu import counters
from tests.livecall import live_call
from tests.peers import Caller

MAGIC = 0x2112A442


def stun(message_type: int, attributes: bytes, transaction: bytes | None = None) -> bytes:
    transaction = transaction or os.urandom(12)
    return struct.pack("!HHI12s", message_type, len(attributes), MAGIC, transaction) + attributes


def attribute(kind: int, value: bytes, declared: int | None = None) -> bytes:
    length = len(value) if declared is None else declared
    return struct.pack("!HH", kind, length) + value + b"\x00" * (-len(value) % 4)


# PRIORITY (0x0024) is a 4-byte integer: two bytes make aioice's unpack raise struct.error.
BAD_PRIORITY = stun(0x0001, attribute(0x0024, b"\x00\x01"))
# LIFETIME (0x000D) of two bytes, in a binding response.
BAD_LIFETIME = stun(0x0101, attribute(0x000D, b"\x00\x01"))
# ICE-CONTROLLING (0x802A) is 8 bytes.
BAD_CONTROLLING = stun(0x0001, attribute(0x802A, b"\x00" * 3))
PROBE = stun(0x0001, b"")  # a binding request without USERNAME: answered 400


async def burst(port: int, datagrams: list[bytes]) -> None:
    """Send ``datagrams`` then the probe; return once the node has answered the probe."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        for data in datagrams:
            await loop.sock_sendto(sock, data, ("127.0.0.1", port))
        await loop.sock_sendto(sock, PROBE, ("127.0.0.1", port))
        async with asyncio.timeout(5):
            while True:
                answer = await loop.sock_recv(sock, 2048)
                if answer[8:20] == PROBE[8:20]:
                    return
    finally:
        sock.close()


@pytest.mark.timeout(60)
async def test_malformed_datagrams_are_dropped_counted_and_not_logged_per_packet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with live_call(Caller("hello.wav", loop_audio=True)) as call:
        port = call.media_port
        received = await call.caller.track(0)
        before = counters.snapshot()
        hostile = [BAD_PRIORITY, BAD_LIFETIME, BAD_CONTROLLING, b"", b"\x16\xfe\xfd" + b"\x00" * 40]
        with caplog.at_level(logging.DEBUG):
            for _ in range(20):
                await burst(port, hostile * 5)
            after = counters.snapshot()
            frames = received.frames
            async with asyncio.timeout(10):
                await received.wait_frames(frames + 25)  # the echo still comes back
        assert call.session.call.state.value == "connected"
        dropped = after["datagrams_malformed"] - before["datagrams_malformed"]
        assert dropped >= 20 * 5 * 4  # three bad STUN and one empty per round
        foreign = after["datagrams_foreign"] - before["datagrams_foreign"]
        assert foreign >= 20 * 5  # the DTLS-looking junk from an address ICE never checked
        tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
        assert not tracebacks, tracebacks[0].getMessage()
        noisy = [r for r in caplog.records if "malformed" in r.getMessage()]
        assert len(noisy) <= 2, [r.getMessage() for r in noisy]


def test_rate_limited_log_holds_back_and_reports_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    limited = counters.RateLimitedLog(logging.getLogger("test.limited"), 10.0, lambda: now[0])
    with caplog.at_level(logging.WARNING, "test.limited"):
        assert limited.warning("bad thing from %s", "a")
        assert not any(limited.warning("bad thing from %s", "b") for _ in range(99))
        now[0] = 10.5
        assert limited.warning("bad thing from %s", "c")
    assert [r.getMessage() for r in caplog.records] == [
        "bad thing from a",
        "bad thing from c (99 more like it since the last report)",
    ]
