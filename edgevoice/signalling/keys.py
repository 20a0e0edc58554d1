"""Tenants' API keys: created once (shown once), stored only as a hash, revocable.

A key belongs to a tenant; every session a key creates belongs to that tenant, and a key
sees only its tenant's sessions, events, transcripts and usage. ``EDGEVOICE_API_KEY``
keeps working as the key of the ``default`` tenant. Keys live in the store the servers
use (Redis in a cluster: ``{prefix}apikeys`` maps a key's SHA-256 to its record, and
``{prefix}apikey-ids`` a key id to that hash); in memory for one process.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, Protocol

from pydantic import BaseModel

from . import auth

DEFAULT_TENANT = "default"
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyRecord(BaseModel):
    id: str  # public, for listing and revoking ("key_…")
    tenant: str
    hint: str  # the key's first characters, so an operator can tell keys apart
    created_at: float
    revoked_at: float | None = None


def check_tenant(name: str) -> str:
    """A tenant name is 1-64 letters, digits, dot, dash or underscore."""
    if not TENANT_PATTERN.match(name):
        raise ValueError(
            f"tenant {name!r}: use 1-64 letters, digits, '.', '-' or '_' (starting with one "
            "of the first two)"
        )
    return name


def new_key(tenant: str) -> tuple[str, KeyRecord]:
    """A fresh key and its record (the key itself is never stored)."""
    key = auth.new_api_key()
    record = KeyRecord(
        id="key_" + secrets.token_hex(6),
        tenant=check_tenant(tenant),
        hint=key[:10],
        created_at=time.time(),
    )
    return key, record


class KeyStore(Protocol):
    async def add(self, key: str, record: KeyRecord) -> None: ...

    async def tenant_of(self, key: str) -> str | None:
        """The tenant of a valid, unrevoked key; None otherwise."""

    async def list(self) -> list[KeyRecord]: ...

    async def revoke(self, key_id: str) -> KeyRecord | None:
        """Revoke by id; the record, or None if there is no such key."""

    async def count(self) -> int:
        """Unrevoked keys."""


class MemoryKeys:
    def __init__(self) -> None:
        self._by_hash: dict[str, KeyRecord] = {}

    async def add(self, key: str, record: KeyRecord) -> None:
        self._by_hash[auth.hash_secret(key)] = record

    async def tenant_of(self, key: str) -> str | None:
        record = self._by_hash.get(auth.hash_secret(key))
        return None if record is None or record.revoked_at else record.tenant

    async def list(self) -> list[KeyRecord]:
        return sorted(self._by_hash.values(), key=lambda r: r.created_at)

    async def revoke(self, key_id: str) -> KeyRecord | None:
        for record in self._by_hash.values():
            if record.id == key_id:
                record.revoked_at = record.revoked_at or time.time()
                return record
        return None

    async def count(self) -> int:
        return sum(1 for r in self._by_hash.values() if not r.revoked_at)


class RedisKeys:
    def __init__(self, client: Any, prefix: str = "edgevoice:") -> None:
        self._redis = client
        self._keys = f"{prefix}apikeys"
        self._ids = f"{prefix}apikey-ids"

    async def add(self, key: str, record: KeyRecord) -> None:
        digest = auth.hash_secret(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._keys, digest, record.model_dump_json())
            pipe.hset(self._ids, record.id, digest)
            await pipe.execute()

    async def tenant_of(self, key: str) -> str | None:
        raw = await self._redis.hget(self._keys, auth.hash_secret(key))
        if raw is None:
            return None
        record = KeyRecord.model_validate_json(raw)
        return None if record.revoked_at else record.tenant

    async def list(self) -> list[KeyRecord]:
        raws = await self._redis.hvals(self._keys)
        return sorted((KeyRecord.model_validate_json(r) for r in raws), key=lambda r: r.created_at)

    async def revoke(self, key_id: str) -> KeyRecord | None:
        digest = await self._redis.hget(self._ids, key_id)
        raw = None if digest is None else await self._redis.hget(self._keys, digest)
        if raw is None:
            return None
        record = KeyRecord.model_validate_json(raw)
        record.revoked_at = record.revoked_at or time.time()
        await self._redis.hset(self._keys, digest, record.model_dump_json())
        return record

    async def count(self) -> int:
        return sum(1 for r in await self.list() if not r.revoked_at)
