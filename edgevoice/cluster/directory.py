"""Where the control plane finds nodes and reserves their slots.

``LocalDirectory`` is the embedded default: one node, in this process, slots counted in
memory. ``RedisDirectory`` is the cluster: nodes announce themselves under
``{prefix}node:{id}`` (expiring unless refreshed by the heartbeat) and in the
``{prefix}nodes`` index; a node's slots are a sorted set ``{prefix}slots:{id}`` of
session ids scored by the time the slot lapses. Reserving a slot is one Lua script, so
concurrent creates on any number of signalling instances never overfill a node.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import deque
from typing import Any, Protocol

import httpx
import redis.asyncio as redis

from ..node.node import Node
from .errors import NodeUnreachable
from .local import LocalNodeClient
from .nodeapi import NodeClient
from .nodeinfo import NODE_TTL_SECONDS, NodeInfo
from .remote import RemoteNodeClient

HISTORY_SAMPLES = 360  # one every 10 s: the last hour
PROBES_KEPT = 500

# Returns 1 when reserved, 0 when full, -1 when the node is gone, -2 when draining.
_RESERVE = """
local info = redis.call('GET', KEYS[2])
if not info then return -1 end
local node = cjson.decode(info)
if node['draining'] then return -2 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(node['capacity']) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('EXPIRE', KEYS[1], 86400)
return 1
"""


class Directory(Protocol):
    async def nodes(self) -> list[NodeInfo]:
        """Every live node, with its current load."""

    async def alive(self, node_id: str) -> bool: ...

    async def reserve(self, node: NodeInfo, session_id: str, until: float) -> bool:
        """Atomically take one of ``node``'s slots for ``session_id`` until ``until``."""

    async def release(self, node_id: str, session_id: str) -> None: ...

    async def client(self, node_id: str) -> NodeClient:
        """The interface to ``node_id``; raises NodeUnreachable if it is gone."""

    async def record_figures(self, node_id: str, sample: dict[str, Any]) -> None:
        """Append one timestamped sample of a node's figures to its history."""

    async def history(self, node_id: str) -> list[dict[str, Any]]:
        """A node's recent samples, oldest first (up to HISTORY_SAMPLES)."""

    async def add_probe(self, result: dict[str, Any]) -> None:
        """Keep a synthetic probe's result (``edgevoice probe --every``)."""

    async def probes(self) -> list[dict[str, Any]]:
        """Recent probe results, oldest first (up to PROBES_KEPT)."""

    async def close(self) -> None: ...


def local_info(node: Node, url: str = "", figures: dict[str, Any] | None = None) -> NodeInfo:
    now = time.time()
    return NodeInfo(
        id=node.id,
        region=node.region,
        url=url,
        capacity=node.max_sessions,
        load=node.load,
        draining=node.draining,
        media_address=node.media.public_ip,
        models=tuple(node.available_models()),
        heartbeat_at=now,
        started_at=node.started_at,
        extra={"figures": figures} if figures is not None else {},
    )


class LocalDirectory:
    def __init__(self, node: Node, figures: Any = None) -> None:
        self.node = node
        self.figures = figures  # a callable returning the node's figures, once known
        self._client = LocalNodeClient(node)
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY_SAMPLES)
        self._probes: deque[dict[str, Any]] = deque(maxlen=PROBES_KEPT)

    async def nodes(self) -> list[NodeInfo]:
        return [local_info(self.node, figures=self.figures() if self.figures else None)]

    async def alive(self, node_id: str) -> bool:
        return node_id == self.node.id

    async def reserve(self, node: NodeInfo, session_id: str, until: float) -> bool:
        return self.node.reserve(session_id, until)

    async def release(self, node_id: str, session_id: str) -> None:
        self.node.forget(session_id)  # frees the slot and ends a never-live event stream

    async def client(self, node_id: str) -> NodeClient:
        if node_id != self.node.id:
            raise NodeUnreachable(node_id)
        return self._client

    async def record_figures(self, node_id: str, sample: dict[str, Any]) -> None:
        self._history.append(sample)

    async def history(self, node_id: str) -> list[dict[str, Any]]:
        return list(self._history) if node_id == self.node.id else []

    async def add_probe(self, result: dict[str, Any]) -> None:
        self._probes.append(result)

    async def probes(self) -> list[dict[str, Any]]:
        return list(self._probes)

    async def close(self) -> None:
        return None


class RedisKeys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes = f"{prefix}nodes"

    def node(self, node_id: str) -> str:
        return f"{self.prefix}node:{node_id}"

    def slots(self, node_id: str) -> str:
        return f"{self.prefix}slots:{node_id}"

    def history(self, node_id: str) -> str:
        return f"{self.prefix}history:{node_id}"

    @property
    def probes(self) -> str:
        return f"{self.prefix}probes"


class RedisDirectory:
    def __init__(
        self,
        client: redis.Redis,
        secret: str,
        *,
        prefix: str = "edgevoice:",
        local: Node | None = None,
    ) -> None:
        self.redis = client
        self.keys = RedisKeys(prefix)
        self._secret = secret
        self._local = LocalNodeClient(local) if local is not None else None
        self._http = httpx.AsyncClient()
        self._reserve = client.register_script(_RESERVE)

    async def nodes(self) -> list[NodeInfo]:
        now = time.time()
        ids: Any = await self.redis.zrangebyscore(self.keys.nodes, now - NODE_TTL_SECONDS, "+inf")
        if not ids:
            return []
        raws = await self.redis.mget([self.keys.node(i) for i in ids])
        infos = [NodeInfo.from_json(raw) for raw in raws if raw]
        async with self.redis.pipeline(transaction=False) as pipe:
            for info in infos:
                pipe.zcount(self.keys.slots(info.id), now, "+inf")
            loads = await pipe.execute()
        return [dataclasses.replace(i, load=int(n)) for i, n in zip(infos, loads, strict=True)]

    async def info(self, node_id: str) -> NodeInfo | None:
        raw = await self.redis.get(self.keys.node(node_id))
        return None if raw is None else NodeInfo.from_json(raw)

    async def alive(self, node_id: str) -> bool:
        return bool(await self.redis.exists(self.keys.node(node_id)))

    async def reserve(self, node: NodeInfo, session_id: str, until: float) -> bool:
        keys = [self.keys.slots(node.id), self.keys.node(node.id)]
        result = await self._reserve(keys=keys, args=[time.time(), session_id, until])
        return int(result) == 1

    async def release(self, node_id: str, session_id: str) -> None:
        await self.redis.zrem(self.keys.slots(node_id), session_id)

    async def client(self, node_id: str) -> NodeClient:
        if self._local is not None and node_id == self._local.node_id:
            return self._local
        info = await self.info(node_id)
        if info is None:
            raise NodeUnreachable(node_id)
        return RemoteNodeClient(node_id, info.url, self._secret, self._http)

    async def record_figures(self, node_id: str, sample: dict[str, Any]) -> None:
        key = self.keys.history(node_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, json.dumps(sample))
            pipe.ltrim(key, -HISTORY_SAMPLES, -1)
            pipe.expire(key, 86400)
            await pipe.execute()

    async def history(self, node_id: str) -> list[dict[str, Any]]:
        raw: Any = await self.redis.lrange(self.keys.history(node_id), 0, -1)
        return [json.loads(item) for item in raw]

    async def add_probe(self, result: dict[str, Any]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(self.keys.probes, json.dumps(result))
            pipe.ltrim(self.keys.probes, -PROBES_KEPT, -1)
            await pipe.execute()

    async def probes(self) -> list[dict[str, Any]]:
        raw: Any = await self.redis.lrange(self.keys.probes, 0, -1)
        return [json.loads(item) for item in raw]

    async def close(self) -> None:
        await self._http.aclose()
