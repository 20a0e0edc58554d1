"""The store interface against both backends: in memory and a real Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable

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


async def test_concurrent_updates_lose_nothing(store: SessionStore) -> None:
    """Fifty writers each add their own key through update(): every one lands (CAS)."""
    r = record()
    await store.put(r)

    def adder(i: int) -> Callable[[SessionRecord], bool]:
        def change(current: SessionRecord) -> bool:
            current.metadata[f"k{i}"] = i
            return True

        return change

    await asyncio.gather(*(store.update(r.id, adder(i)) for i in range(50)))
    stored = await store.get(r.id)
    assert stored is not None and len(stored.metadata) == 50


async def test_a_late_write_never_resurrects_an_ended_session(store: SessionStore) -> None:
    r = record()
    r.move(SessionState.CONNECTING)
    await store.put(r)
    closed = await store.update(r.id, lambda c: c.end(SessionState.CLOSED, "deleted by API"))
    assert closed is not None and closed.state is SessionState.CLOSED

    def connected(current: SessionRecord) -> bool:  # the node's report, arriving late
        if not current.can(SessionState.CONNECTED):
            return False
        current.move(SessionState.CONNECTED)
        return True

    after = await store.update(r.id, connected)
    assert after is not None and after.state is SessionState.CLOSED
    again = await store.update(r.id, lambda c: c.end(SessionState.FAILED, "node_lost"))
    assert again is not None and again.end_reason == "deleted by API"
    assert await store.update("sess_missing", connected) is None
