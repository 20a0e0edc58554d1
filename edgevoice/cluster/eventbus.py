"""Sessions' event streams, for readers on any process.

In one process the node's own event logs are the bus (``NodeEventBus``). In a cluster a
node publishes every event of its sessions to a Redis stream ``{prefix}events:{id}``
(``RedisEventPublisher``: queued and written in batches by one task, so the media path
never waits on Redis and a Redis outage only drops events), and any signalling instance
reads it (``RedisEventBus``). A stream ends with a ``session.ended`` entry; a reader of
a session that ended without one (never connected, node lost) is stopped by ``over()``.

Either way a reader more than about a thousand events behind is told so: it gets an
``events_lost`` event with the count where the gap is (``node.eventlog.lost_event``),
never a silent jump.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as redis

from ..node.eventlog import Reader, lost_event
from ..node.node import Node
from .redisconn import REDIS_ERRORS

log = logging.getLogger(__name__)
ENDED = "session.ended"
KEEP_EVENTS = 1000
KEEP_SECONDS = 3600
QUEUE_LIMIT = 10_000
OVER_POLL_SECONDS = 5.0  # a quiet in-process reader asks this often whether its session ended
Over = Callable[[], Awaitable[bool]]


class EventBus(Protocol):
    def follow(self, session_id: str, over: Over) -> AsyncIterator[dict[str, Any]]:
        """Kept events, then live ones, until the session ends (or ``over()`` says so)."""


class NodeEventBus:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def follow(self, session_id: str, over: Over) -> AsyncIterator[dict[str, Any]]:
        """Kept events, then live ones; an ended session's kept events, then the end."""
        log_ = self.node.ended_log(session_id)
        if log_ is None:
            if await over() and session_id not in self.node.sessions:
                return
            log_ = self.node.event_log(session_id)
        reader = log_.reader()
        try:
            while True:
                event = await reader.get(idle=OVER_POLL_SECONDS)
                if event is None:  # quiet: ended without a live call to close the log?
                    if session_id not in self.node.sessions and await over():
                        return
                    continue
                if Reader.is_end(event):
                    return
                yield event
        finally:
            log_.detach(reader)


class RedisEventBus:
    def __init__(self, client: redis.Redis, prefix: str = "edgevoice:", block_ms: int = 1000):
        self._redis = client
        self._prefix = prefix
        self._block_ms = block_ms

    async def follow(self, session_id: str, over: Over) -> AsyncIterator[dict[str, Any]]:
        key = f"{self._prefix}events:{session_id}"
        last = "0-0"
        seen: int | None = None  # the last sequence number delivered
        while True:
            reply: Any
            try:
                reply = await self._redis.xread({key: last}, count=100, block=self._block_ms)
            except REDIS_ERRORS:
                await asyncio.sleep(self._block_ms / 1000)
                reply = []
            entries: list[tuple[str, dict[str, str]]] = reply[0][1] if reply else []
            for entry_id, fields in entries:
                last = entry_id
                event = json.loads(fields["e"])
                if event.get("type") == ENDED:
                    return
                seq = event.get("seq")
                if isinstance(seq, int):
                    if seen is not None and seq > seen + 1:  # trimmed before we read them
                        yield lost_event(seen + 1, seq - 1, seq - 1 - seen)
                    seen = seq
                yield event
            if not entries and await over():
                return


class RedisEventPublisher:
    """``publish()`` never blocks: events queue here and one task writes them."""

    def __init__(self, client: redis.Redis, prefix: str = "edgevoice:") -> None:
        self._redis = client
        self._prefix = prefix
        self._queue: list[tuple[str, dict[str, Any]]] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self._last_warning = 0.0

    def publish(self, session_id: str, event: dict[str, Any]) -> None:
        if len(self._queue) >= QUEUE_LIMIT:
            self.dropped += 1
            return
        self._queue.append((session_id, event))
        self._ready.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="event-publisher")

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self.flush()

    async def flush(self) -> None:
        batch, self._queue = self._queue, []
        if not batch:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id, event in batch:
                    key = f"{self._prefix}events:{session_id}"
                    pipe.xadd(key, {"e": json.dumps(event)}, maxlen=KEEP_EVENTS, approximate=True)
                    pipe.expire(key, KEEP_SECONDS)
                await pipe.execute()
        except REDIS_ERRORS as exc:
            self.dropped += len(batch)
            now = time.monotonic()
            if now - self._last_warning > 10:
                self._last_warning = now
                log.warning("events not published (%d dropped so far): %s", self.dropped, exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.flush()
