"""Just enough STUN (RFC 8489) to route a caller: is this a binding request, and whose
ufrag does its USERNAME name. Pure functions, tested directly; never raises on input."""

from __future__ import annotations

import struct

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
USERNAME = 0x0006
HEADER = 20


def is_stun(data: bytes) -> bool:
    """The first two bits are 0 and the magic cookie is in place (RFC 8489 §5, §6)."""
    return (
        len(data) >= HEADER
        and data[0] < 4
        and struct.unpack_from("!I", data, 4)[0] == MAGIC_COOKIE
        and struct.unpack_from("!H", data, 2)[0] + HEADER <= len(data)
    )


def binding_username(data: bytes) -> str | None:
    """The USERNAME of a binding request ("<receiver ufrag>:<sender ufrag>"), or None
    for anything else (not STUN, not a request, no or malformed USERNAME)."""
    if not is_stun(data):
        return None
    kind, length = struct.unpack_from("!HH", data, 0)
    if kind != BINDING_REQUEST:
        return None
    offset, end = HEADER, HEADER + length
    while offset + 4 <= end:
        attr, size = struct.unpack_from("!HH", data, offset)
        value = data[offset + 4 : offset + 4 + size]
        if len(value) < size:
            return None
        if attr == USERNAME:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return None
        offset += 4 + size + (-size % 4)  # attributes are padded to 4 bytes
    return None


def receiver_ufrag(data: bytes) -> str | None:
    """The ufrag of the agent a binding request is for (before the colon)."""
    username = binding_username(data)
    if not username or ":" not in username:
        return None
    ufrag = username.split(":", 1)[0]
    return ufrag or None
