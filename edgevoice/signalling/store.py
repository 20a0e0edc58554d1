"""The one store interface for shared state: in-memory for one process, Redis for many.

Records are looked up by id, by the hash of their client secret and by their WHIP
resource id. Finished records are kept for ``keep_seconds`` so their stats and
transcript stay readable, then dropped.

``put`` writes a new record; every later change goes through ``update``, a
compare-and-set (WATCH/MULTI in Redis): the change function sees the current record and
says whether to write, so two processes never overwrite each other's news and a late
write never resurrects a session that has ended (the state machine refuses the edge).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis.exceptions import WatchError

from ..cluster.redisconn import connect
from .records import SessionRecord

Change = Callable[[SessionRecord], bool]
CAS_ATTEMPTS = 100
USAGE_KEPT = 100_000  # entries per tenant in memory
USAGE_KEEP_SECONDS = 400 * 86400  # in Redis: a little over a year

KEEP_FINISHED_SECONDS = 3600


class SessionStore(Protocol):
    async def put(self, record: SessionRecord) -> None: ...

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def update(self, session_id: str, change: Change) -> SessionRecord | None:
        """Apply ``change`` to the current record atomically; written only if it returns
        True. The record as it now stands, or None if there is no such record."""

    async def by_secret(self, secret_hash: str) -> SessionRecord | None: ...

    async def by_resource(self, resource_id: str) -> SessionRecord | None: ...

    async def claim(self, session_id: str) -> bool:
        """True for the first caller only: one WHIP connect per session, store-wide."""

    async def add_usage(self, tenant: str, entry: dict[str, Any]) -> None:
        """Keep one ended call's usage (``usage.usage_entry``) for its tenant."""

    async def usage(self, tenant: str, start: float, end: float) -> list[dict[str, Any]]:
        """The tenant's entries whose call ended in [start, end)."""

    async def close(self) -> None: ...


def _retention(record: SessionRecord, now: float) -> float:
    """Seconds to keep a record: until its secret expires (plus margin), or after the end."""
    if record.finished:
        return KEEP_FINISHED_SECONDS
    if record.connected_at is None:
        return max(1.0, record.expires_at - now) + KEEP_FINISHED_SECONDS
    return 24 * 3600


class MemoryStore:
    def __init__(self) -> None:
        self._records: dict[str, tuple[SessionRecord, float]] = {}
        self._secrets: dict[str, str] = {}
        self._resources: dict[str, str] = {}
        self._claims: set[str] = set()
        self._usage: dict[str, list[dict[str, Any]]] = {}

    async def add_usage(self, tenant: str, entry: dict[str, Any]) -> None:
        entries = self._usage.setdefault(tenant, [])
        entries.append(entry)
        del entries[:-USAGE_KEPT]

    async def usage(self, tenant: str, start: float, end: float) -> list[dict[str, Any]]:
        return [e for e in self._usage.get(tenant, []) if start <= e["ended_at"] < end]

    async def claim(self, session_id: str) -> bool:
        if session_id in self._claims:
            return False
        self._claims.add(session_id)
        return True

    async def put(self, record: SessionRecord) -> None:
        now = time.time()
        self._purge(now)
        self._records[record.id] = (record.model_copy(deep=True), now + _retention(record, now))
        self._secrets[record.secret_hash] = record.id
        if record.resource_id:
            self._resources[record.resource_id] = record.id

    async def get(self, session_id: str) -> SessionRecord | None:
        entry = self._records.get(session_id)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0].model_copy(deep=True)

    async def update(self, session_id: str, change: Change) -> SessionRecord | None:
        record = await self.get(session_id)  # no await between read and write: atomic
        if record is not None and change(record):
            await self.put(record)
        return record

    async def by_secret(self, secret_hash: str) -> SessionRecord | None:
        session_id = self._secrets.get(secret_hash)
        return None if session_id is None else await self.get(session_id)

    async def by_resource(self, resource_id: str) -> SessionRecord | None:
        session_id = self._resources.get(resource_id)
        return None if session_id is None else await self.get(session_id)

    def _purge(self, now: float) -> None:
        for session_id, (record, until) in list(self._records.items()):
            if until < now:
                del self._records[session_id]
                self._claims.discard(session_id)
                self._secrets.pop(record.secret_hash, None)
                if record.resource_id:
                    self._resources.pop(record.resource_id, None)

    async def close(self) -> None:
        return None


class RedisStore:
    """Records as JSON under ``{prefix}session:{id}``, with index keys, all with TTLs."""

    def __init__(self, url: str, prefix: str = "edgevoice:") -> None:
        self._redis = connect(url)
        self._prefix = prefix

    def _key(self, kind: str, value: str) -> str:
        return f"{self._prefix}{kind}:{value}"

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def put(self, record: SessionRecord) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            self._write(pipe, record)
            await pipe.execute()

    def _write(self, pipe: Any, record: SessionRecord) -> None:
        ttl = max(1, int(_retention(record, time.time())))
        pipe.set(self._key("session", record.id), record.model_dump_json(), ex=ttl)
        pipe.set(self._key("secret", record.secret_hash), record.id, ex=ttl)
        if record.resource_id:
            pipe.set(self._key("resource", record.resource_id), record.id, ex=ttl)

    async def update(self, session_id: str, change: Change) -> SessionRecord | None:
        key = self._key("session", session_id)
        pipe: Any = self._redis.pipeline(transaction=True)
        async with pipe:
            for _ in range(CAS_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if raw is None:
                        await pipe.reset()
                        return None
                    record = SessionRecord.model_validate_json(raw)
                    if not change(record):
                        await pipe.reset()
                        return record
                    pipe.multi()
                    self._write(pipe, record)
                    await pipe.execute()
                    return record
                except WatchError:
                    await pipe.reset()
                    await asyncio.sleep(random.uniform(0, 0.005))  # let the winner finish
        raise RuntimeError(f"session {session_id}: record changed {CAS_ATTEMPTS} times under us")

    async def get(self, session_id: str) -> SessionRecord | None:
        raw = await self._redis.get(self._key("session", session_id))
        return None if raw is None else SessionRecord.model_validate_json(raw)

    async def by_secret(self, secret_hash: str) -> SessionRecord | None:
        session_id = await self._redis.get(self._key("secret", secret_hash))
        return None if session_id is None else await self.get(str(session_id))

    async def by_resource(self, resource_id: str) -> SessionRecord | None:
        session_id = await self._redis.get(self._key("resource", resource_id))
        return None if session_id is None else await self.get(str(session_id))

    async def add_usage(self, tenant: str, entry: dict[str, Any]) -> None:
        key = self._key("usage", tenant)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {json.dumps(entry, sort_keys=True): entry["ended_at"]})
            pipe.zremrangebyscore(key, "-inf", time.time() - USAGE_KEEP_SECONDS)
            await pipe.execute()

    async def usage(self, tenant: str, start: float, end: float) -> list[dict[str, Any]]:
        raw: Any = await self._redis.zrangebyscore(self._key("usage", tenant), start, f"({end}")
        return [json.loads(item) for item in raw]

    async def claim(self, session_id: str) -> bool:
        key = self._key("claim", session_id)
        return bool(await self._redis.set(key, "1", nx=True, ex=24 * 3600))

    async def close(self) -> None:
        await self._redis.aclose()


def open_store(redis_url: str | None) -> SessionStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
