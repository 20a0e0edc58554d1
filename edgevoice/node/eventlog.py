"""A session's event stream: kept (bounded) for late readers, fanned out live.

Each reader has its own bounded backlog. A reader that falls more than
``READER_BACKLOG`` events behind loses the newest ones, never silently: where the gap
is, it reads one ``events_lost`` event with the count and the range of sequence
numbers it missed, then the events that came after.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

READER_BACKLOG = 1000
# A call emits a full ``stats`` event every second: kept 500 deep they would hold about a
# megabyte per call after eight minutes. Only the latest few are kept for replay (live
# readers still get every one); the other events keep the long history.
STATS_KEPT = 3
EVENTS_LOST = "events_lost"
_END: dict[str, Any] = {"type": "session.ended"}


def lost_event(first_seq: int, last_seq: int, count: int) -> dict[str, Any]:
    """The marker a reader gets in place of events it fell too far behind to receive;
    its ``seq`` is the last one missed, so a resuming reader's position stays right."""
    return {
        "type": EVENTS_LOST,
        "seq": last_seq,
        "time": round(time.time(), 3),
        "count": count,
        "first_seq": first_seq,
    }


class Reader:
    """One follower's backlog: at most ``limit`` events, then a loss marker."""

    def __init__(self, limit: int = READER_BACKLOG) -> None:
        self._limit = limit
        self._items: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        self.lost = 0  # events this reader never received

    def push(self, event: dict[str, Any]) -> None:
        if event is not _END and len(self._items) >= self._limit:
            self.lost += 1
            seq = int(event.get("seq", 0))
            last = self._items[-1]
            if last.get("type") == EVENTS_LOST:
                last["count"] += 1
                last["seq"] = seq
            else:  # the marker may take the backlog one past its limit
                self._items.append(lost_event(seq, seq, 1))
        else:
            self._items.append(event)
        self._ready.set()

    async def get(self, idle: float | None = None) -> dict[str, Any] | None:
        """The next event (``None`` after ``idle`` seconds without one)."""
        while not self._items:
            self._ready.clear()
            try:
                async with asyncio.timeout(idle):
                    await self._ready.wait()
            except TimeoutError:
                return None
        return self._items.popleft()

    @staticmethod
    def is_end(event: dict[str, Any]) -> bool:
        return event is _END


class EventLog:
    def __init__(
        self, keep: int = 500, on_append: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self._on_append = on_append  # e.g. a cluster node's publisher to Redis
        self._kept: deque[dict[str, Any]] = deque(maxlen=keep)
        self._stats: deque[dict[str, Any]] = deque(maxlen=STATS_KEPT)
        self._readers: set[Reader] = set()
        self._ids = itertools.count(1)
        self.closed = False

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        stamped = {"seq": next(self._ids), "time": round(time.time(), 3), **event}
        (self._stats if event.get("type") == "stats" else self._kept).append(stamped)
        for reader in self._readers:
            reader.push(stamped)
        if self._on_append is not None:
            self._on_append(stamped)
        return stamped

    def recent(self) -> list[dict[str, Any]]:
        """The kept events in order: the history, and the latest ``stats`` among it."""
        return sorted([*self._kept, *self._stats], key=lambda e: int(e["seq"]))

    def reader(self, replay: bool = True, limit: int = READER_BACKLOG) -> Reader:
        """A new follower: kept events first (if ``replay``), then live ones, then the
        end once the session has ended. ``detach`` it when done."""
        reader = Reader(limit)
        if replay:
            for event in self.recent():
                reader.push(event)
        if self.closed:
            reader.push(_END)
        else:
            self._readers.add(reader)
        return reader

    def detach(self, reader: Reader) -> None:
        self._readers.discard(reader)

    async def follow(self, replay: bool = True) -> AsyncIterator[dict[str, Any]]:
        """Yield kept events (if ``replay``), then live ones until the session ends."""
        reader = self.reader(replay)
        try:
            while (event := await reader.get()) is not None and not Reader.is_end(event):
                yield event
        finally:
            self.detach(reader)

    def close(self) -> None:
        self.closed = True
        for reader in self._readers:
            reader.push(_END)
        self._readers.clear()
