"""The operator's view of the cluster: every live node, its region and load (API key)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request

from ..http import require_operator, service

router = APIRouter(prefix="/v1/nodes", tags=["cluster"], dependencies=[Depends(require_operator)])


@router.get("")
async def list_nodes(request: Request) -> dict[str, Any]:
    """Live nodes (those that heartbeated within the last few seconds), by region, with
    load = sessions holding a slot (live calls and unused reservations)."""
    now = time.time()
    nodes = await service(request).directory.nodes()
    return {
        "nodes": [
            {
                "id": n.id,
                "region": n.region,
                "url": n.url or None,
                "load": n.load,
                "capacity": n.capacity,
                "draining": n.draining,
                "models": list(n.models),
                "media_address": n.media_address,
                "heartbeat_age_seconds": round(max(0.0, now - n.heartbeat_at), 3),
                "figures": n.extra.get("figures"),
            }
            for n in sorted(nodes, key=lambda n: (n.region, n.id))
        ]
    }
