"""A session's event stream: kept (bounded) for late readers, fanned out live."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

_END: dict[str, Any] = {"type": "session.ended"}


class EventLog:
    def __init__(
        self, keep: int = 500, on_append: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self._on_append = on_append  # e.g. a cluster node's publisher to Redis
        self._kept: deque[dict[str, Any]] = deque(maxlen=keep)
        self._readers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._ids = itertools.count(1)
        self.closed = False

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        stamped = {"seq": next(self._ids), "time": round(time.time(), 3), **event}
        self._kept.append(stamped)
        for queue in self._readers:
            if queue.qsize() < 1000:
                queue.put_nowait(stamped)
        if self._on_append is not None:
            self._on_append(stamped)
        return stamped

    def recent(self) -> list[dict[str, Any]]:
        return list(self._kept)

    async def follow(self, replay: bool = True) -> AsyncIterator[dict[str, Any]]:
        """Yield kept events (if ``replay``), then live ones until the session ends."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        if replay:
            for event in self._kept:
                queue.put_nowait(event)
        if self.closed:
            queue.put_nowait(_END)
        self._readers.add(queue)
        try:
            while (event := await queue.get()) is not _END:
                yield event
        finally:
            self._readers.discard(queue)

    def close(self) -> None:
        self.closed = True
        for queue in self._readers:
            queue.put_nowait(_END)
