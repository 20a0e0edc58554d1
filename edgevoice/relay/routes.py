"""Where the relay sends a caller: learnt from Redis, remembered across restarts.

A node behind the relay writes ``{prefix}relay:ufrag:{ufrag}`` = ``host:port`` (its
socket for that session) when it answers, and deletes it when the session ends. The
relay keeps each caller's flow (caller address → node socket, and the local port it
forwards from) in ``{prefix}relay:flows:{listen}``, so a restarted relay binds the same
ports again and both sides see the same addresses: calls go on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis

Address = tuple[str, int]


def parse_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Flow:
    caller: Address
    node: Address
    upstream_port: int

    def to_json(self) -> str:
        return json.dumps({"node": list(self.node), "upstream_port": self.upstream_port})


class RelayRoutes:
    def __init__(self, client: redis.Redis, listen: str, prefix: str = "edgevoice:") -> None:
        self._redis = client
        self._prefix = prefix
        self._flows_key = f"{prefix}relay:flows:{listen}"

    def ufrag_key(self, ufrag: str) -> str:
        return f"{self._prefix}relay:ufrag:{ufrag}"

    async def node_for(self, ufrag: str) -> Address | None:
        raw = await self._redis.get(self.ufrag_key(ufrag))
        return None if raw is None else parse_address(str(raw))

    async def remember(self, flow: Flow) -> None:
        caller = f"{flow.caller[0]}:{flow.caller[1]}"
        await self._redis.hset(self._flows_key, caller, flow.to_json())

    async def forget(self, caller: Address) -> None:
        await self._redis.hdel(self._flows_key, f"{caller[0]}:{caller[1]}")

    async def saved(self) -> list[Flow]:
        raw: Any = await self._redis.hgetall(self._flows_key)
        flows = []
        for caller, value in raw.items():
            data = json.loads(value)
            flows.append(Flow(parse_address(caller), (data["node"][0], int(data["node"][1])),
                              int(data["upstream_port"])))  # fmt: skip
        return flows


async def publish_session(
    client: redis.Redis, ufrag: str, node: Address, ttl_seconds: int, prefix: str = "edgevoice:"
) -> None:
    """A node says: binding requests for ``ufrag`` go to my socket ``node``."""
    await client.set(f"{prefix}relay:ufrag:{ufrag}", f"{node[0]}:{node[1]}", ex=ttl_seconds)


async def withdraw_session(client: redis.Redis, ufrag: str, prefix: str = "edgevoice:") -> None:
    await client.delete(f"{prefix}relay:ufrag:{ufrag}")
