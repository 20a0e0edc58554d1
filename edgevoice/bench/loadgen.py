"""The load generator's controller: a fleet of worker processes for one ramp step.

Workers are forked (the parent has aiortc imported already, so they start at once)
and inherit the controller's CPU affinity: by default the load generator stays on
its own core, away from the server's.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from . import worker
from .worker import WorkerSpec

READY_SECONDS = 90.0
REPLY_SECONDS = 30.0


class FleetError(RuntimeError):
    pass


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sum numeric counters, concatenate lists."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, list):
                out.setdefault(key, []).extend(value)
            elif isinstance(value, int | float):
                out[key] = out.get(key, 0) + value
    return out


class Fleet:
    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("fork")
        self._workers: list[tuple[BaseProcess, Connection]] = []
        self.ready: list[dict[str, Any]] = []
        self._stopping = False

    @property
    def pids(self) -> list[int]:
        return [p.pid for p, _ in self._workers if p.pid is not None]

    def start(self, specs: Sequence[WorkerSpec]) -> dict[str, Any]:
        """Fork one worker per spec; wait until every one has connected its peers."""
        for spec in specs:
            parent, child = self._ctx.Pipe()
            process = self._ctx.Process(target=worker.run, args=(spec, child), daemon=True)
            process.start()
            child.close()
            self._workers.append((process, parent))
        replies = self._collect("ready", READY_SECONDS)
        self.ready.extend(replies)
        sessions = [s for r in replies for s in r.get("sessions", []) if s]
        errors = [e for r in replies for e in r.get("errors", [])]
        return {
            "connected": sum(r["connected"] for r in replies),
            "errors": errors,
            "sessions": sessions,
        }

    def go(self, delay: float = 0.3) -> None:
        at = time.time() + delay
        for _, conn in self._workers:
            conn.send(("go", at))

    def snapshot(self) -> dict[str, Any]:
        for _, conn in self._workers:
            conn.send(("snapshot",))
        return merge(self._collect("snapshot", REPLY_SECONDS))

    def request_stop(self) -> None:
        """Tell every worker to stop its clock, drain and hang up (answer with ``stop``)."""
        for _, conn in self._workers:
            try:
                conn.send(("stop",))
            except OSError:
                pass
        self._stopping = True

    def stop(self) -> dict[str, Any]:
        if not self._stopping:
            self.request_stop()
        try:
            final = merge(self._collect("stopped", REPLY_SECONDS))
        finally:
            self.kill()
        return final

    def kill(self) -> None:
        for process, conn in self._workers:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(2)
            conn.close()
        self._workers = []
        self._stopping = False

    def _collect(self, kind: str, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        out: list[dict[str, Any]] = []
        for process, conn in self._workers:
            while not conn.poll(0.1):
                if time.monotonic() > deadline or not process.is_alive():
                    raise FleetError(f"worker {process.pid} gave no {kind!r} reply")
            try:
                reply = conn.recv()
            except EOFError as exc:
                raise FleetError(f"worker {process.pid} died before {kind!r}") from exc
            if reply[0] != kind:
                raise FleetError(f"worker {process.pid} answered {reply[0]!r}, not {kind!r}")
            out.append(reply[1])
        return out
