"""Where the media plane's UDP sockets live: one address, a fixed port range.

aioice gathers host candidates on every interface except loopback and binds each to
an ephemeral port, with no option for either. A node needs both under control: a
fixed port range fits firewalls and containers, and the media address is a setting
(tests bind 127.0.0.1 so no packet leaves loopback). Two small hooks do it:

- the process's media address replaces aioice's interface scan (``set_media_address``);
- while :func:`port_range_scope` is active, UDP endpoints that aioice binds to port 0
  take the next free port of the range instead, get the hostile-datagram guard
  (:mod:`.guard`), and a socket bound to loopback never sends to a non-loopback address
  (a peer-reflexive candidate from another interface would otherwise get answers on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ipaddress
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aioice.ice

from .errors import MediaError, PortsExhausted
from .guard import guard_protocol


@dataclass
class PortRange:
    """An inclusive UDP port range, handed out round-robin; the OS says what is taken."""

    low: int
    high: int
    _cursor: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if not (1 <= self.low <= self.high <= 65535):
            raise MediaError(f"invalid port range {self.low}-{self.high}")

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """``"40000-40999"`` → PortRange(40000, 40999)."""
        try:
            low_s, high_s = text.split("-", 1)
            return cls(int(low_s), int(high_s))
        except ValueError as exc:
            raise MediaError(f"port range must look like 40000-40999, got {text!r}") from exc

    def __len__(self) -> int:
        return self.high - self.low + 1

    def candidates(self) -> Iterator[int]:
        """Every port once, starting after the last one handed out."""
        size = len(self)
        start = self._cursor
        for i in range(size):
            offset = (start + i) % size
            self._cursor = (offset + 1) % size
            yield self.low + offset

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.low <= port <= self.high


# aioice checks consent every 5 s (randomised 0.8-1.2x, each failed check 0.5 s more)
# and gave up after 6 failures in a row: a vanished caller held its slot up to 39 s
# after its last answer. Four: 18-26 s, within RFC 7675's 30 s.
aioice.ice.CONSENT_FAILURES = 4

_media_address: str | None = None
_UNSCOPED = PortRange(1, 1)
_scope: ContextVar[PortRange | None] = ContextVar("edgevoice_port_range", default=_UNSCOPED)
_original_host_addresses: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _media_address is None:
        return _original_host_addresses(use_ipv4, use_ipv6)
    version = ipaddress.ip_address(_media_address).version
    if (version == 4 and use_ipv4) or (version == 6 and use_ipv6):
        return [_media_address]
    return []


def set_media_address(address: str | None) -> None:
    """Gather ICE host candidates on ``address`` only (None: aioice's interface scan).

    Process-wide: a node process has one media address, and test peers in the same
    process then gather loopback candidates too.
    """
    global _media_address
    if address is not None:
        ipaddress.ip_address(address)  # raises ValueError on nonsense
    _media_address = address
    aioice.ice.get_host_addresses = _host_addresses


def media_address() -> str | None:
    return _media_address


@contextlib.contextmanager
def port_range_scope(ports: PortRange | None) -> Iterator[None]:
    """Within this block (and tasks it starts), aioice's sockets bind inside ``ports``."""
    _install_on_loop(asyncio.get_running_loop())
    token = _scope.set(ports)
    try:
        yield
    finally:
        _scope.reset(token)


def _install_on_loop(loop: asyncio.AbstractEventLoop) -> None:
    if getattr(loop, "_edgevoice_ports", False):
        return
    original = loop.create_datagram_endpoint

    async def create_datagram_endpoint(
        protocol_factory: Callable[[], Any], local_addr: Any = None, **kwargs: Any
    ) -> Any:
        scoped = _scope.get() is not _UNSCOPED
        if not scoped or local_addr is None or local_addr[1] != 0:
            return await original(protocol_factory, local_addr=local_addr, **kwargs)
        host = local_addr[0]
        ports = _scope.get()
        if ports is None:
            endpoint = await original(protocol_factory, local_addr=local_addr, **kwargs)
        else:
            endpoint = await _bind_in_range(original, protocol_factory, host, ports, kwargs)
        protocol = endpoint[1]
        guard_protocol(protocol)
        if is_loopback(host):
            protocol.transport = LoopbackOnly(protocol.transport)
        return endpoint

    loop.create_datagram_endpoint = create_datagram_endpoint  # type: ignore[method-assign,assignment]
    loop._edgevoice_ports = True  # type: ignore[attr-defined]


async def _bind_in_range(
    create: Callable[..., Any],
    protocol_factory: Callable[[], Any],
    host: str,
    ports: PortRange,
    kwargs: dict[str, Any],
) -> Any:
    for port in ports.candidates():
        try:
            return await create(protocol_factory, local_addr=(host, port), **kwargs)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise PortsExhausted(f"no free UDP port in {ports.low}-{ports.high} on {host}")


@functools.lru_cache(maxsize=1024)
def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackOnly:
    """A datagram transport proxy that drops anything addressed beyond loopback."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self.refused = 0

    @property
    def inner(self) -> Any:
        """The guarded transport, for a sender that checked its one address itself."""
        return self._transport

    def sendto(self, data: bytes, addr: Any = None) -> None:
        if addr is not None and not is_loopback(addr[0]):
            self.refused += 1
            return
        self._transport.sendto(data, addr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
