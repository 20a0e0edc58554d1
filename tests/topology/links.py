"""The topology's links and what the forwarder does to a packet: pure decisions.

Every endpoint namespace (the caller, the core, each POP) has one veth link to the
router namespace, on its own /24: ``10.77.<subnet>.0/24``, the router ``.1``, the
endpoint ``.2``. A packet between two endpoints is classified by its source and
destination addresses into a *pair* of endpoint names; each pair has a one-way delay
and a loss rate (both directions alike), 0 unless set.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NET = "10.77"
PREFIX = 24


@dataclass(frozen=True)
class Endpoint:
    name: str  # "caller", "core", or a POP's region
    subnet: int  # the third octet

    @property
    def address(self) -> str:
        return f"{NET}.{self.subnet}.2"

    @property
    def gateway(self) -> str:
        return f"{NET}.{self.subnet}.1"


@dataclass(frozen=True)
class Shaping:
    delay_ms: float = 0.0  # one way
    loss: float = 0.0  # 0..1, each way

    def __post_init__(self) -> None:
        if not 0 <= self.delay_ms <= 10_000:
            raise ValueError(f"delay_ms must be 0-10000, not {self.delay_ms}")
        if not 0 <= self.loss <= 1:
            raise ValueError(f"loss must be 0-1, not {self.loss}")


def pair(a: str, b: str) -> tuple[str, str]:
    """The order-free key of the link between ``a`` and ``b``."""
    return (a, b) if a <= b else (b, a)


def ipv4_ends(packet: bytes) -> tuple[int, int] | None:
    """The third octets of an IPv4 packet's source and destination in 10.77/16, or None
    for anything else (not IPv4, too short, another network)."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    src = packet[12:16]
    dst = packet[16:20]
    if src[:2] != b"\x0a\x4d" or dst[:2] != b"\x0a\x4d":
        return None
    return src[2], dst[2]


def udp_ports(packet: bytes) -> tuple[int, int] | None:
    """Source and destination ports of an IPv4 UDP packet (first fragment), else None."""
    if len(packet) < 20 or packet[9] != 17:
        return None
    start = (packet[0] & 0x0F) * 4
    if len(packet) < start + 4:
        return None
    return int.from_bytes(packet[start : start + 2]), int.from_bytes(packet[start + 2 : start + 4])


class Shaper:
    """Which pair a packet belongs to, and what happens to it (delay, or dropped).

    ``udp_only``: endpoints whose UDP the forwarder passes on one port only (a firewall
    in front of nodes that sit behind a relay: callers reach them through it alone)."""

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        rng: random.Random | None = None,
        udp_only: Mapping[str, int] | None = None,
    ) -> None:
        self.by_subnet = {e.subnet: e.name for e in endpoints}
        self.udp_only = dict(udp_only or {})
        self.links: dict[tuple[str, str], Shaping] = {}
        self.rng = rng or random.Random()
        self.forwarded = 0
        self.dropped = 0

    def set(self, a: str, b: str, shaping: Shaping) -> None:
        names = set(self.by_subnet.values())
        for name in (a, b):
            if name not in names:
                raise ValueError(f"no endpoint {name!r} (known: {', '.join(sorted(names))})")
        if a == b:
            raise ValueError("a link joins two different endpoints")
        self.links[pair(a, b)] = shaping

    def shaping(self, a: str, b: str) -> Shaping:
        return self.links.get(pair(a, b), Shaping())

    def decide(self, packet: bytes) -> float | None:
        """Seconds to hold ``packet`` before it goes on, or None to drop it."""
        ends = ipv4_ends(packet)
        src, dst = (None, None) if ends is None else (self.by_subnet.get(s) for s in ends)
        if src is None or dst is None:
            self.dropped += 1  # not between two of our endpoints: never forwarded
            return None
        if self.udp_only and not self._udp_allowed(packet, src, dst):
            self.dropped += 1
            return None
        shaping = self.shaping(src, dst)
        if shaping.loss and self.rng.random() < shaping.loss:
            self.dropped += 1
            return None
        self.forwarded += 1
        return shaping.delay_ms / 1000

    def _udp_allowed(self, packet: bytes, src: str, dst: str) -> bool:
        ports = udp_ports(packet)
        if ports is None:
            return True
        for name, port in zip((src, dst), ports, strict=True):
            if name in self.udp_only and port != self.udp_only[name]:
                return False
        return True

    def describe(self) -> dict[str, dict[str, float]]:
        return {f"{a}-{b}": {"delay_ms": s.delay_ms, "loss": s.loss}
                for (a, b), s in sorted(self.links.items())}  # fmt: skip


def load_links(shaper: Shaper, spec: Mapping[str, Mapping[str, float]]) -> None:
    """``{"caller-near": {"delay_ms": 10, "loss": 0}, ...}`` into ``shaper``."""
    for key, value in spec.items():
        a, _, b = key.partition("-")
        shaper.set(a, b, Shaping(float(value.get("delay_ms", 0)), float(value.get("loss", 0))))
