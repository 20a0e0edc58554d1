"""One load-generator process: several peers on one event loop, one shared 20 ms clock.

The controller (``loadgen.Fleet``) talks to it over a pipe: the worker connects its
peers and answers ``ready``; ``go`` starts the clock at an agreed wall time so every
worker sends in step; ``snapshot`` returns cumulative counters; ``stop`` drains,
hangs up and exits. A worker that hears nothing for ``IDLE_SECONDS`` exits by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx

from ..sfu.network import set_media_address
from .peers import BenchCaller, BenchListener

TICK = 0.020
IDLE_SECONDS = 120.0
CONNECT_PARALLEL = 4
DRAIN_SECONDS = 1.5


@dataclass(frozen=True)
class WorkerSpec:
    target: str
    api_key: str
    role: str  # "callers" or "listeners"
    count: int
    probes: int
    offset: int
    speech: Sequence[bytes]
    probe: Sequence[bytes]
    session_id: str | None = None


class Clock:
    """Calls every caller's ``tick`` each 20 ms from ``start`` (loop time); records lag."""

    def __init__(self, callers: list[BenchCaller], start: float) -> None:
        self.callers = callers
        self.next = start
        self.ticks = 0
        self.lags: list[float] = []
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_at(start, self._fire)

    def _fire(self) -> None:
        self.lags.append(self._loop.time() - self.next)
        now = time.perf_counter()
        for caller in self.callers:
            caller.tick(now)
        self.ticks += 1
        self.next += TICK
        self._handle = self._loop.call_at(self.next, self._fire)

    def stop(self) -> None:
        self._handle.cancel()


def run(spec: WorkerSpec, conn: Connection) -> None:
    """Process entry point."""
    set_media_address("127.0.0.1")
    try:
        import uvloop

        uvloop.run(_main(spec, conn))
    except ImportError:  # pragma: no cover - uvloop is installed with edgevoice[fast]
        asyncio.run(_main(spec, conn))


async def _main(spec: WorkerSpec, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

    def _readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except EOFError:
            loop.remove_reader(conn.fileno())
            inbox.put_nowait(("stop",))

    loop.add_reader(conn.fileno(), _readable)
    async with httpx.AsyncClient(base_url=spec.target, timeout=30) as http:
        peers, errors = await _connect(spec, http)
        callers = [p for p in peers if isinstance(p, BenchCaller)]
        sessions = [c.session_id for c in callers]
        conn.send(("ready", {"connected": len(peers), "errors": errors, "sessions": sessions}))
        clock: Clock | None = None
        try:
            while True:
                try:
                    command = await asyncio.wait_for(inbox.get(), IDLE_SECONDS)
                except TimeoutError:
                    break
                if command[0] == "go":
                    start = loop.time() + max(0.0, command[1] - time.time())
                    clock = Clock(callers, start)
                elif command[0] == "snapshot":
                    conn.send(("snapshot", _counters(peers, clock)))
                elif command[0] == "stop":
                    break
        finally:
            if clock is not None:
                clock.stop()
            await asyncio.sleep(DRAIN_SECONDS)
            final = _counters(peers, clock)
            await asyncio.gather(*(p.hang_up(http) for p in peers), return_exceptions=True)
            with contextlib.suppress(OSError):
                conn.send(("stopped", final))
            loop.remove_reader(conn.fileno())


async def _connect(
    spec: WorkerSpec, http: httpx.AsyncClient
) -> tuple[list[BenchCaller | BenchListener], list[str]]:
    gate = asyncio.Semaphore(CONNECT_PARALLEL)
    peers: list[BenchCaller | BenchListener] = []
    errors: list[str] = []

    async def one(i: int) -> None:
        peer: BenchCaller | BenchListener
        if spec.role == "listeners":
            peer = BenchListener()
        else:
            probe = i < spec.probes
            packets = list(spec.probe if probe else spec.speech)
            peer = BenchCaller(packets, 0 if probe else spec.offset + 37 * i, probe)
        async with gate:
            try:
                if isinstance(peer, BenchListener):
                    await peer.connect(http, spec.session_id or "", spec.api_key)
                else:
                    await peer.connect(http, spec.api_key)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                await peer.pc.close()
                return
        peers.append(peer)

    await asyncio.gather(*(one(i) for i in range(spec.count)))
    return peers, errors


def _counters(peers: Sequence[BenchCaller | BenchListener], clock: Clock | None) -> dict[str, Any]:
    totals: dict[str, Any] = {"peers": len(peers), "failed": sum(p.failed for p in peers)}
    for peer in peers:
        for key, value in peer.counters().items():
            totals[key] = totals.get(key, 0) + value
    delays: list[float] = []
    for peer in peers:
        if isinstance(peer, BenchCaller) and peer.ear is not None:
            delays += peer.ear.delays()
    totals["rtt_s"] = delays
    lags = clock.lags if clock is not None else []
    totals["tick_lag_s"] = lags
    if clock is not None:
        clock.lags = []
        totals["ticks"] = clock.ticks
    return totals
