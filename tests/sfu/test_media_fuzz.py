"""Random and mutated STUN, DTLS and RTP/RTCP datagrams at a live call's media port.

Half come from a stranger's socket, half from the caller's own ICE socket (an on-path
attacker can spoof the caller's address, so they pass the guard's source check and
reach aiortc's DTLS/SRTP stack). The call goes on (the echo keeps coming back), the
process stays up, and the node's counters account for what was dropped.
"""

from __future__ import annotations

import asyncio
import random
import struct
from typing import Any

import pytest

from edgevoice.sfu import counters
from tests.livecall import live_call
from tests.peers import Caller

from .test_hostile_datagrams import PROBE, burst, stun

SEED = 9


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        match rng.randrange(4):
            case 0 if out:
                out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
            case 1:
                del out[rng.randrange(len(out) + 1) :]
            case 2:
                out[rng.randrange(len(out) + 1) : 0] = rng.randbytes(rng.randint(1, 16))
            case _ if len(out) >= 4:
                at = rng.randrange(len(out) - 3)
                out[at : at + 2] = struct.pack("!H", rng.choice([0, 1, 3, 0xFFFF, len(out)]))
    return bytes(out)


def stun_like(rng: random.Random) -> bytes:
    attributes = b""
    for _ in range(rng.randint(0, 5)):
        kind = rng.choice([0x0001, 0x0006, 0x0008, 0x0009, 0x0020, 0x0024, 0x0025, 0x8028,
                           0x8029, 0x802A, rng.randrange(0x10000)])  # fmt: skip
        value = rng.randbytes(rng.choice([0, 1, 2, 3, 4, 8, 20, rng.randint(0, 64)]))
        attributes += struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)
    kind = rng.choice([0x0001, 0x0101, 0x0111, 0x0011, rng.randrange(0x4000)])
    return mutate(stun(kind, attributes), rng) if rng.random() < 0.5 else stun(kind, attributes)


def dtls_like(rng: random.Random) -> bytes:
    header = struct.pack(
        "!BHH6sH", rng.randint(20, 63), rng.choice([0xFEFD, 0xFEFF, 0xFEFC]),
        rng.randrange(4), rng.randbytes(6), rng.randint(0, 300),
    )  # fmt: skip
    return mutate(header + rng.randbytes(rng.randint(0, 300)), rng)


def rtp_like(rng: random.Random) -> bytes:
    payload_type = rng.choice([111, 0, 96, 200, 201, 202, 203, 204, 205, 206, rng.randrange(256)])
    header = struct.pack(
        "!BBHII", 0x80 | rng.randrange(64), payload_type, rng.randrange(65536),
        rng.randrange(2**32), rng.randrange(2**32),
    )  # fmt: skip
    return mutate(header + rng.randbytes(rng.randint(0, 200)), rng)


def hostile(rng: random.Random) -> bytes:
    maker = rng.choice([stun_like, dtls_like, rtp_like, lambda r: r.randbytes(r.randint(0, 1500))])
    return maker(rng)


def caller_socket(caller: Caller) -> tuple[Any, tuple[str, int]]:
    """The caller's nominated ICE pair: its transport and the node's address."""
    ice = caller.pc.getTransceivers()[0].sender.transport.transport
    pair = ice._connection._nominated[1]
    return pair.protocol.transport, pair.remote_addr


@pytest.mark.timeout(90)
async def test_fuzzed_datagrams_do_not_stop_the_call() -> None:
    rng = random.Random(SEED)
    async with live_call(Caller("hello.wav", loop_audio=True)) as call:
        received = await call.caller.track(0)
        before = counters.snapshot()
        transport, node_addr = caller_socket(call.caller)
        assert node_addr[1] == call.media_port
        for _ in range(10):
            await burst(call.media_port, [hostile(rng) for _ in range(100)])
            for _ in range(100):
                transport.sendto(hostile(rng), node_addr)
            await asyncio.sleep(0)  # let the node's loop read what is queued
        transport.sendto(b"", node_addr)
        transport.sendto(PROBE, node_addr)
        frames = received.frames
        async with asyncio.timeout(10):
            await received.wait_frames(frames + 50)  # a second more of the echo
        assert call.session.call.state.value == "connected"
        after = counters.snapshot()
        assert after["datagrams_foreign"] > before["datagrams_foreign"]
        assert after["datagrams_malformed"] > before["datagrams_malformed"]
    # the process is up and a new call connects on the same loop
    async with live_call(Caller("hello.wav")) as second:
        assert second.session.call.state.value == "connected"


def test_the_generators_make_each_kind() -> None:
    rng = random.Random(SEED)
    first_bytes = {hostile(rng)[:1] for _ in range(500)}
    assert any(b and b[0] < 4 for b in first_bytes)  # STUN
    assert any(b and 20 <= b[0] < 64 for b in first_bytes)  # DTLS
    assert any(b and 128 <= b[0] < 192 for b in first_bytes)  # RTP/RTCP
