"""A node's registration in Redis, refreshed while it runs.

Every ``HEARTBEAT_SECONDS`` the node writes its ``NodeInfo`` (expiring after
``NODE_TTL_SECONDS``), its entry in the node index, and re-asserts the slots of its live
calls, so after a Redis restart (even an empty one) the node is back, with its load,
on the next beat. While Redis is unreachable the node keeps its calls and says it is
not ready (``/readyz`` 503); it logs the outage once, and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import redis.asyncio as redis

from .directory import RedisKeys
from .nodeinfo import HEARTBEAT_SECONDS, NODE_TTL_SECONDS, NodeInfo
from .redisconn import REDIS_ERRORS

log = logging.getLogger(__name__)
LIVE_SLOT_SECONDS = 30.0  # a live call's slot lapses this long after its node's last beat


class Registration:
    def __init__(
        self,
        client: redis.Redis,
        keys: RedisKeys,
        describe: Callable[[], NodeInfo],
        live_sessions: Callable[[], list[str]],
    ) -> None:
        self._redis = client
        self._keys = keys
        self._describe = describe
        self._live = live_sessions
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.registered = False  # the last beat reached Redis
        self.beats = 0

    async def beat(self) -> None:
        info = self._describe()
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._keys.node(info.id), info.to_json(), px=int(NODE_TTL_SECONDS * 1000))
            pipe.zadd(self._keys.nodes, {info.id: now})
            live = self._live()
            if live:
                until = now + LIVE_SLOT_SECONDS
                pipe.zadd(self._keys.slots(info.id), dict.fromkeys(live, until))
                pipe.expire(self._keys.slots(info.id), 86400)
            await pipe.execute()
        self.beats += 1

    def nudge(self) -> None:
        """Beat now (draining started, load changed a lot)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except REDIS_ERRORS as exc:
                if self.registered:
                    log.warning("node registration failed, calls go on: %s", exc)
                self.registered = False
            else:
                if not self.registered:
                    log.info("node registered in Redis")
                self.registered = True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="heartbeat")

    async def stop(self, deregister: bool = True) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if deregister:
            node_id = self._describe().id
            with contextlib.suppress(*REDIS_ERRORS):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.delete(self._keys.node(node_id), self._keys.slots(node_id))
                    pipe.zrem(self._keys.nodes, node_id)
                    await pipe.execute()
        self.registered = False
