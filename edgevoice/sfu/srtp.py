"""SRTP protection of one outgoing RTP stream, in place in a buffer of its own.

pylibsrtp's ``Session.protect`` takes a whole packet as ``bytes``: the caller joins
header and payload, and each call checks its argument, allocates a length cell, copies
the packet into the session's buffer and copies the result out. For a stream whose
header never changes but for marker, sequence number and timestamp, most of that can
be done once: :class:`RtpProtector` keeps the header in its own buffer (SRTP leaves the
RTP header in clear, so it survives each protect), and per packet writes seven header
bytes and the payload, then calls ``srtp_protect`` on the buffer.

It reaches into pylibsrtp 1.0 (its cffi ``lib`` and the session's ``_srtp`` context,
pinned in pyproject); :func:`rtp_protector` falls back to the public
``Session.protect`` when those are not there. ``tests/sfu/test_srtp.py`` checks both
against a receiving session.
"""

from __future__ import annotations

import struct
from typing import Any, Protocol

from .errors import SrtpProtectError

MTU = 1500
TRAILER = 16 + 128  # the longest SRTP tag plus MKI libsrtp may append
_MARK_SEQ_TS = struct.Struct("!BHI")


class Protector(Protocol):
    def protect(self, marker: bool, sequence: int, timestamp: int, payload: bytes) -> bytes:
        """The SRTP packet for ``payload`` with these header fields."""
        ...


def _check_header(header: bytes) -> None:
    if len(header) < 12 or header[0] >> 6 != 2:
        raise ValueError("not an RTP version 2 header")


class RtpProtector:
    """Protects packets of one stream: only 7 header bytes and the payload change."""

    def __init__(self, session: Any, header: bytes) -> None:
        from pylibsrtp._binding import ffi, lib

        _check_header(header)
        self._ctx = session._srtp[0]
        self._keep = session  # the context lives as long as the session object
        self._cdata = ffi.new("char[]", MTU)
        self._buffer: Any = ffi.buffer(self._cdata)
        self._length = ffi.new("int *")
        self._srtp_protect = lib.srtp_protect
        self._header_length = len(header)
        self._buffer[0 : len(header)] = header
        self._type = header[1] & 0x7F

    def protect(self, marker: bool, sequence: int, timestamp: int, payload: bytes) -> bytes:
        start = self._header_length
        end = start + len(payload)
        if end > MTU - TRAILER:
            raise ValueError(f"an RTP payload of {len(payload)} bytes does not fit the MTU")
        buffer = self._buffer
        buffer[1:8] = _MARK_SEQ_TS.pack(self._type | (0x80 if marker else 0), sequence, timestamp)
        buffer[start:end] = payload
        self._length[0] = end
        status = self._srtp_protect(self._ctx, self._cdata, self._length)
        if status:
            raise SrtpProtectError(f"srtp_protect failed with libsrtp status {status}")
        return buffer[0 : self._length[0]]  # type: ignore[no-any-return]


class SessionProtector:
    """The same through pylibsrtp's public ``Session.protect`` (one join per packet)."""

    def __init__(self, session: Any, header: bytes) -> None:
        _check_header(header)
        self._protect = session.protect
        self._first = header[0:1]
        self._type = header[1] & 0x7F
        self._tail = header[8:]

    def protect(self, marker: bool, sequence: int, timestamp: int, payload: bytes) -> bytes:
        head = _MARK_SEQ_TS.pack(self._type | (0x80 if marker else 0), sequence, timestamp)
        return self._protect(self._first + head + self._tail + payload)  # type: ignore[no-any-return]


def rtp_protector(session: Any, header: bytes) -> Protector:
    """The in-place protector where pylibsrtp's internals are as expected, else the public one."""
    try:
        return RtpProtector(session, header)
    except (ImportError, AttributeError, TypeError):
        return SessionProtector(session, header)
