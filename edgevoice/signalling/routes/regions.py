"""Where a caller can be placed, and how to measure it from the caller's side.

``GET /v1/regions`` (public, any origin) names each region with live nodes and a cheap
ping URL on one of them; a page times a few fetches of each ping URL and sends the
results as ``client_rtt_ms`` when its backend creates the session, so placement can
put the caller on the nearest region. ``GET /v1/ping`` answers on every process with an
empty ``204`` that no cache keeps.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from ..http import service

router = APIRouter(tags=["regions"])
OPEN = {"Access-Control-Allow-Origin": "*", "Timing-Allow-Origin": "*",
        "Cache-Control": "no-store"}  # fmt: skip


@router.get("/v1/regions")
async def regions(request: Request, response: Response) -> dict[str, Any]:
    """Regions with live nodes: name, node count, free slots, and a ping URL."""
    now = time.time()
    nodes = [n for n in await service(request).directory.nodes() if n.alive(now)]
    base = str(request.base_url).rstrip("/")
    out: dict[str, dict[str, Any]] = {}
    for node in sorted(nodes, key=lambda n: (n.load / n.capacity, n.id)):
        entry = out.setdefault(
            node.region,
            {"region": node.region, "ping_url": f"{node.url or base}/v1/ping", "nodes": 0,
             "free_slots": 0},
        )  # fmt: skip
        entry["nodes"] += 1
        if not node.draining:
            entry["free_slots"] += max(0, node.capacity - node.load)
    response.headers.update(OPEN)
    return {"regions": sorted(out.values(), key=lambda r: r["region"])}


@router.get("/v1/ping", status_code=204, response_class=Response)
async def ping() -> Response:
    """An empty answer for timing the round trip from a caller."""
    return Response(status_code=204, headers=OPEN)
