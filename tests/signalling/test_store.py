"""The store interface against both backends: in memory and a real Redis."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import AsyncIterator

import pytest

from edgevoice.signalling.records import SessionRecord, SessionState
from edgevoice.signalling.store import MemoryStore, RedisStore, SessionStore
from edgevoice.statemachine import IllegalTransition

REDIS_URL = os.environ.get("EDGEVOICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = RedisStore(REDIS_URL, prefix=f"edgevoice-test-{secrets.token_hex(4)}:")
    assert await redis_store.ping()
    yield redis_store
    await redis_store.close()


def record() -> SessionRecord:
    return SessionRecord(
        id="sess_" + secrets.token_hex(4),
        secret_hash=secrets.token_hex(32),
        model="echo",
        expires_at=time.time() + 60,
    )


async def test_lookup_by_id_secret_and_resource(store: SessionStore) -> None:
    r = record()
    await store.put(r)
    assert (await store.get(r.id)) == r
    assert (await store.by_secret(r.secret_hash)) == r
    assert await store.by_resource("nope") is None
    r.resource_id = "res1"
    r.move(SessionState.CONNECTING)
    await store.put(r)
    found = await store.by_resource("res1")
    assert found is not None and found.state is SessionState.CONNECTING
    assert await store.get("sess_missing") is None


async def test_only_one_claim_per_session(store: SessionStore) -> None:
    r = record()
    await store.put(r)
    assert await store.claim(r.id)
    assert not await store.claim(r.id)


async def test_records_are_copies_not_shared_objects(store: SessionStore) -> None:
    r = record()
    await store.put(r)
    r.metadata["changed"] = True
    stored = await store.get(r.id)
    assert stored is not None and "changed" not in stored.metadata


def test_session_states_refuse_illegal_moves() -> None:
    r = record()
    r.move(SessionState.CONNECTING)
    r.move(SessionState.CONNECTED)
    with pytest.raises(IllegalTransition):
        r.move(SessionState.CREATED)
    r.move(SessionState.CLOSED)
    assert r.finished
    with pytest.raises(IllegalTransition):
        r.move(SessionState.CONNECTED)
