"""Fixtures: a scripted Realtime peer on 127.0.0.1 and a real RealtimeClient on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from edgevoice.bridge import events as ev
from edgevoice.bridge.model import SessionSettings
from edgevoice.bridge.realtime_client import RealtimeClient
from edgevoice.bridge.reconnect import Backoff

from .peer import RealtimePeer, running_peer

E = TypeVar("E", bound=ev.ModelEvent)
WAIT_S = 5.0
FAST = Backoff(initial=0.02, cap=0.2, jitter=0.1, give_up_after=5.0)


class Events:
    """The client's events, read with a bound on every wait."""

    def __init__(self, client: RealtimeClient) -> None:
        self._iter = client.events().__aiter__()
        self.seen: list[ev.ModelEvent] = []

    async def next(self) -> ev.ModelEvent:
        async with asyncio.timeout(WAIT_S):
            event = await self._iter.__anext__()
        self.seen.append(event)
        return event

    async def expect(self, kind: type[E]) -> E:
        event = await self.next()
        assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
        return event

    async def until(self, kind: type[E]) -> E:
        while True:
            event = await self.next()
            if isinstance(event, kind):
                return event

    async def ended(self) -> bool:
        async with asyncio.timeout(WAIT_S):
            try:
                event = await self._iter.__anext__()
            except StopAsyncIteration:
                return True
        self.seen.append(event)
        return False


@pytest.fixture
async def peer() -> AsyncIterator[RealtimePeer]:
    async with running_peer() as peer:
        yield peer


MakeClient = Callable[..., RealtimeClient]


async def started(make_client: MakeClient, *args: Any, **kwargs: Any) -> RealtimeClient:
    """A client from ``make_client(*args, **kwargs)``, connected and configured."""
    client = make_client(*args, **kwargs)
    async with asyncio.timeout(5):
        await client.start()
    return client


@pytest.fixture
async def make_client(peer: RealtimePeer) -> AsyncIterator[MakeClient]:
    clients: list[RealtimeClient] = []

    def make(settings: SessionSettings | None = None, **kwargs: Any) -> RealtimeClient:
        kwargs.setdefault("api_key", "sk-test")
        kwargs.setdefault("backoff", FAST)
        kwargs.setdefault("handshake_timeout", 2.0)
        client = RealtimeClient(
            peer.url, settings or SessionSettings(model="gpt-realtime"), **kwargs
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        async with asyncio.timeout(WAIT_S):
            await client.close()
