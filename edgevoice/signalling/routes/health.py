"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ...node.node import Node

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers HTTP (a signalling instance, or a node, even while draining)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """A node: 200 once it is registered and can take sessions; 503 while draining,
    full, or unable to reach the cluster's Redis. A signalling alone: 200."""
    node: Node | None = request.app.state.node
    if node is None:
        return JSONResponse({"ready": True, "role": "signalling"})
    registered = request.app.state.registered()
    ready = registered and node.load < node.max_sessions and not node.draining
    body = {
        "ready": ready,
        "node": node.id,
        "region": node.region,
        "sessions": node.load,
        "max_sessions": node.max_sessions,
        "draining": node.draining,
        "registered": registered,
    }
    return JSONResponse(body, status_code=200 if ready else 503)
