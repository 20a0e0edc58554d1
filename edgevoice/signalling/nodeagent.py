"""A node's reports to the shared store: a session connected, a session ended.

Runs wherever a ``Node`` runs (``serve``, ``edgevoice node``). Writes are
compare-and-set, so a late report never resurrects an ended session; a store that is
unreachable costs the record its news, never the call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ..cluster.directory import Directory
from ..node.node import Node
from .records import SessionRecord, SessionState
from .store import SessionStore
from .usage import usage_entry

log = logging.getLogger(__name__)


class NodeAgent:
    def __init__(self, node: Node, store: SessionStore, directory: Directory) -> None:
        self.node = node
        self.store = store
        self.directory = directory
        self._tasks: set[asyncio.Task[None]] = set()
        node.on_session_connected(self._connected)
        node.on_session_ended(self._ended)

    def _spawn(self, what: str, coro: Any) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:  # the store is down: the call goes on regardless
                log.warning("could not record that %s: %s", what, exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _connected(self, session_id: str) -> None:
        def change(record: SessionRecord) -> bool:
            if record.state is not SessionState.CONNECTING:
                return False
            record.move(SessionState.CONNECTED)
            record.connected_at = time.time()
            return True

        self._spawn(f"{session_id} connected", self.store.update(session_id, change))

    def _ended(self, session_id: str, reason: str, final: dict[str, Any]) -> None:
        ended: list[SessionRecord] = []

        def change(record: SessionRecord) -> bool:
            if not record.end(SessionState.CLOSED, reason):
                return False
            record.final_stats = final.get("stats")
            record.transcript = final.get("transcript", [])
            ended[:] = [record]
            return True

        async def report() -> None:
            try:
                await self.store.update(session_id, change)
                entry = usage_entry(ended[0], final.get("stats")) if ended else None
                if entry is not None:
                    await self.store.add_usage(ended[0].tenant, entry)
            finally:
                await self.directory.release(self.node.id, session_id)

        self._spawn(f"{session_id} ended", report())

    async def drain(self) -> None:
        """Wait for pending reports (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
