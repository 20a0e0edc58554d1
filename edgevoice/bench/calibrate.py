"""How fast this machine does the two things a forwarded frame costs: SRTP and ``sendto``.

Machines of the same nominal kind differ (another host CPU under the same "AMD EPYC"
name, a busy hypervisor), and the fan-out figures follow these two costs closely. Each
bench run records them, timed on the server's core, so runs on different machines can
be compared on what the machine itself can do.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from pylibsrtp import Policy, Session

from ..sfu.srtp import rtp_protector

_HEADER = bytes((0x80, 111)) + bytes(6) + (0x12345678).to_bytes(4, "big")
_PAYLOAD = bytes(range(90))  # a typical 20 ms speech frame at ~32 kbit/s


def _per_call_us(calls: int, run: Callable[[], None], tries: int = 20) -> float:
    """The best of many short timings: a moment's interference spoils only some."""
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return round(best / calls * 1e6, 3)


def srtp_protect_us(calls: int = 5000) -> float:
    """Microseconds to protect one 90-byte Opus packet (the writer's in-place path)."""
    policy = Policy(
        key=os.urandom(30),
        ssrc_type=Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    )
    protector = rtp_protector(Session(policy=policy), _HEADER)
    counter = iter(range(10**9))

    def run() -> None:
        protect = protector.protect
        for _ in range(calls):
            n = next(counter)
            protect(False, n & 0xFFFF, (n * 960) & 0xFFFFFFFF, _PAYLOAD)

    return _per_call_us(calls, run)


def loopback_sendto_us(calls: int = 2000, batch: int = 200) -> float:
    """Microseconds for one ``sendto`` of a 120-byte datagram to a socket on 127.0.0.1.

    Sent in batches the receiving socket's buffer holds, drained between batches
    (outside the timing), so every datagram is delivered rather than dropped.
    """
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        address = receiver.getsockname()
        datagram = bytes(120)
        best = float("inf")
        for _ in range(10):
            spent = 0.0
            for _ in range(calls // batch):
                start = time.perf_counter()
                for _ in range(batch):
                    sender.sendto(datagram, address)
                spent += time.perf_counter() - start
                try:
                    while True:
                        receiver.recv(2048)
                except BlockingIOError:
                    pass
            best = min(best, spent)
        return round(best / (calls // batch * batch) * 1e6, 3)


def calibrate(core: int | None) -> dict[str, float]:
    """Both figures, measured on ``core`` (then this process's affinity is restored)."""
    before = os.sched_getaffinity(0)
    try:
        if core is not None:
            os.sched_setaffinity(0, {core})
        return {"srtp_protect_us": srtp_protect_us(), "loopback_sendto_us": loopback_sendto_us()}
    finally:
        os.sched_setaffinity(0, before)
