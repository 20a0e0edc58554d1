"""What a node announces about itself in the registry, and how long that holds."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

HEARTBEAT_SECONDS = 2.0
NODE_TTL_SECONDS = 6.0  # a node that misses three heartbeats is gone (the contract: < 10 s)


@dataclass(frozen=True)
class NodeInfo:
    id: str
    region: str
    url: str  # the node's HTTP base URL: its WHIP endpoint and internal API
    capacity: int
    load: int = 0  # sessions holding a slot (live calls and unused reservations)
    draining: bool = False
    media_address: str | None = None  # the address its SDP answers announce
    models: tuple[str, ...] = ("echo",)
    heartbeat_at: float = 0.0
    started_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> NodeInfo:
        data = json.loads(raw)
        data["models"] = tuple(data.get("models", ()))
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self) -> dict[str, str]:
        """What a session's creator is told: which node, in which region."""
        return {"id": self.id, "region": self.region}

    def alive(self, now: float) -> bool:
        return now - self.heartbeat_at <= NODE_TTL_SECONDS
