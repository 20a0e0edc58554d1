"""The one store interface for shared state: in-memory for one process, Redis for many.

Records are looked up by id, by the hash of their client secret and by their WHIP
resource id. Finished records are kept for ``keep_seconds`` so their stats and
transcript stay readable, then dropped.
"""

from __future__ import annotations

import time
from typing import Protocol

import redis.asyncio as redis

from .records import SessionRecord

KEEP_FINISHED_SECONDS = 3600


class SessionStore(Protocol):
    async def put(self, record: SessionRecord) -> None: ...

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def by_secret(self, secret_hash: str) -> SessionRecord | None: ...

    async def by_resource(self, resource_id: str) -> SessionRecord | None: ...

    async def claim(self, session_id: str) -> bool:
        """True for the first caller only: one WHIP connect per session, store-wide."""

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
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _key(self, kind: str, value: str) -> str:
        return f"{self._prefix}{kind}:{value}"

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def put(self, record: SessionRecord) -> None:
        ttl = max(1, int(_retention(record, time.time())))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("session", record.id), record.model_dump_json(), ex=ttl)
            pipe.set(self._key("secret", record.secret_hash), record.id, ex=ttl)
            if record.resource_id:
                pipe.set(self._key("resource", record.resource_id), record.id, ex=ttl)
            await pipe.execute()

    async def get(self, session_id: str) -> SessionRecord | None:
        raw = await self._redis.get(self._key("session", session_id))
        return None if raw is None else SessionRecord.model_validate_json(raw)

    async def by_secret(self, secret_hash: str) -> SessionRecord | None:
        session_id = await self._redis.get(self._key("secret", secret_hash))
        return None if session_id is None else await self.get(str(session_id))

    async def by_resource(self, resource_id: str) -> SessionRecord | None:
        session_id = await self._redis.get(self._key("resource", resource_id))
        return None if session_id is None else await self.get(str(session_id))

    async def claim(self, session_id: str) -> bool:
        key = self._key("claim", session_id)
        return bool(await self._redis.set(key, "1", nx=True, ex=24 * 3600))

    async def close(self) -> None:
        await self._redis.aclose()


def open_store(redis_url: str | None) -> SessionStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
