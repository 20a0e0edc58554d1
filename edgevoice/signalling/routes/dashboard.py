"""The operator's dashboard: the page (static; it asks for the API key) and its data.

``GET /v1/dashboard`` (API key) returns every live node with its region, load and
figures (first-hop RTT p50/p95, hop latency, model link RTT), each node's recent
history (a sample every 10 s, the last hour) and recent probe results.
``POST /v1/probes`` (API key) is where ``edgevoice probe --every`` keeps its results.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from ..http import require_operator, service

router = APIRouter(tags=["operations"])
PROBES_SHOWN = 200


@router.get("/dashboard", include_in_schema=False)
async def dashboard_page() -> FileResponse:
    page = resources.files("edgevoice.web") / "dashboard.html"
    return FileResponse(str(page), media_type="text/html")


@router.get("/v1/dashboard", dependencies=[Depends(require_operator)])
async def dashboard_data(request: Request) -> dict[str, Any]:
    directory = service(request).directory
    now = time.time()
    nodes = []
    for node in sorted(await directory.nodes(), key=lambda n: (n.region, n.id)):
        if not node.alive(now):
            continue
        nodes.append(
            {
                "id": node.id,
                "region": node.region,
                "url": node.url or None,
                "load": node.load,
                "capacity": node.capacity,
                "draining": node.draining,
                "figures": node.extra.get("figures"),
                "history": await directory.history(node.id),
            }
        )
    probes = (await directory.probes())[-PROBES_SHOWN:]
    return {"generated_at": round(now, 3), "nodes": nodes, "probes": probes}


class ProbeResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(max_length=500)
    t: float = Field(description="when the probe ran (Unix seconds)")
    ok: bool
    region: str | None = Field(None, max_length=64)
    node: str | None = Field(None, max_length=128)
    setup_ms: float | None = None
    rtt_ms: float | None = Field(None, description="first-hop RTT")
    echo_rtt_ms: float | None = None
    model_link_rtt_ms: float | None = None
    flagged: bool = Field(False, description="RTT above this region's recent baseline")
    reason: str | None = Field(None, max_length=500)
    client_rtt_ms: dict[str, float] | None = Field(
        None, max_length=64, description="the probe's own ping RTT to each region (--nearest)"
    )


@router.post("/v1/probes", status_code=204, dependencies=[Depends(require_operator)])
async def add_probe(body: ProbeResult, request: Request) -> Response:
    await service(request).directory.add_probe(body.model_dump())
    return Response(status_code=204)
