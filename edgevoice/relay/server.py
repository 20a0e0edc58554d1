"""The relay's UDP forwarding: one public socket, one upstream socket per caller flow.

A datagram from a caller the table knows goes out of that flow's upstream socket to the
node's socket, as it is. From a caller it does not know, only a STUN binding request is
looked at: its USERNAME's first half is the node's ufrag, which Redis maps to the node's
socket; the flow is created (and saved, with its upstream port) and the request
forwarded. Everything else from unknown addresses is dropped and counted. What a node
sends to a flow's upstream socket goes to that flow's caller from the public socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ..cluster.redisconn import REDIS_ERRORS
from .routes import Address, Flow, RelayRoutes
from .stun import receiver_ufrag

log = logging.getLogger(__name__)
FLOW_IDLE_SECONDS = 120.0  # a flow with no traffic either way this long is removed
PENDING_LIMIT = 8  # datagrams held per caller while its node is looked up


@dataclass
class Counters:
    packets_in: int = 0  # caller -> node
    packets_out: int = 0  # node -> caller
    bytes_in: int = 0
    bytes_out: int = 0
    unknown_dropped: int = 0  # not a binding request from an unknown caller
    unroutable: int = 0  # a binding request whose ufrag no node published
    flows_created: int = 0
    flows_restored: int = 0


@dataclass
class LiveFlow:
    flow: Flow
    transport: asyncio.DatagramTransport
    last: float = field(default_factory=time.monotonic)


class _Public(asyncio.DatagramProtocol):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.relay.from_caller(data, (addr[0], addr[1]))


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: Relay, caller: Address) -> None:
        self.relay = relay
        self.caller = caller

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.relay.from_node(data, self.caller, (addr[0], addr[1]))


class Relay:
    def __init__(self, routes: RelayRoutes, listen: Address, upstream_host: str) -> None:
        self.routes = routes
        self.listen = listen
        self.upstream_host = upstream_host
        self.counters = Counters()
        self.flows: dict[Address, LiveFlow] = {}
        self._pending: dict[Address, list[bytes]] = {}
        self._public: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._public, _ = await loop.create_datagram_endpoint(
            lambda: _Public(self), local_addr=self.listen
        )
        with contextlib.suppress(*REDIS_ERRORS):
            for flow in await self.routes.saved():
                with contextlib.suppress(OSError):
                    await self._open(flow)
                    self.counters.flows_restored += 1
        self._sweeper = loop.create_task(self._sweep())

    @property
    def address(self) -> Address:
        assert self._public is not None
        host, port = self._public.get_extra_info("sockname")[:2]
        return host, port

    async def _open(self, flow: Flow) -> LiveFlow:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Upstream(self, flow.caller),
            local_addr=(self.upstream_host, flow.upstream_port),
            remote_addr=flow.node,
        )
        port = transport.get_extra_info("sockname")[1]
        live = LiveFlow(Flow(flow.caller, flow.node, port), transport)
        self.flows[flow.caller] = live
        return live

    # the hot path ---------------------------------------------------------------
    def from_caller(self, data: bytes, caller: Address) -> None:
        live = self.flows.get(caller)
        if live is not None:
            live.last = time.monotonic()
            self.counters.packets_in += 1
            self.counters.bytes_in += len(data)
            live.transport.sendto(data)
            return
        pending = self._pending.get(caller)
        if pending is not None:  # its node is being looked up
            if len(pending) < PENDING_LIMIT:
                pending.append(data)
            return
        ufrag = receiver_ufrag(data)
        if ufrag is None:
            self.counters.unknown_dropped += 1
            return
        self._pending[caller] = [data]
        task = asyncio.get_running_loop().create_task(self._route(caller, ufrag))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def from_node(self, data: bytes, caller: Address, node: Address) -> None:
        live = self.flows.get(caller)
        if live is None or self._public is None:
            return
        live.last = time.monotonic()
        self.counters.packets_out += 1
        self.counters.bytes_out += len(data)
        self._public.sendto(data, caller)

    # the first packet of a caller ------------------------------------------------
    async def _route(self, caller: Address, ufrag: str) -> None:
        held = self._pending.get(caller, [])
        try:
            node = await self.routes.node_for(ufrag)
            if node is None:
                self.counters.unroutable += 1
                return
            live = await self._open(Flow(caller, node, 0))
            self.counters.flows_created += 1
            for data in held:
                self.from_caller(data, caller)
            with contextlib.suppress(*REDIS_ERRORS):
                await self.routes.remember(live.flow)
        except (OSError, ValueError, *REDIS_ERRORS) as exc:
            log.warning("no route for a caller with ufrag %s: %s", ufrag, exc)
        finally:
            self._pending.pop(caller, None)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(FLOW_IDLE_SECONDS / 4)
            cutoff = time.monotonic() - FLOW_IDLE_SECONDS
            for caller, live in list(self.flows.items()):
                if live.last < cutoff:
                    live.transport.close()
                    del self.flows[caller]
                    with contextlib.suppress(*REDIS_ERRORS):
                        await self.routes.forget(caller)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for task in list(self._tasks):
            task.cancel()
        for live in self.flows.values():
            live.transport.close()
        self.flows.clear()
        if self._public is not None:
            self._public.close()
