"""Liveness, readiness and the demo-only session endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..errors import NotFound
from ..http import service
from ..schemas import CreateSession, SessionCreated

router = APIRouter()

DEMO_TOOL = {
    "type": "function",
    "name": "get_time",
    "description": "The current local time of the server.",
    "parameters": {"type": "object", "properties": {}},
}


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["health"])
async def readyz(request: Request) -> JSONResponse:
    svc = service(request)
    node = svc.node
    ready = node.load < node.max_sessions and not node.draining
    body = {"ready": ready, "sessions": node.load, "max_sessions": node.max_sessions}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/v1/demo/config", tags=["demo"])
async def demo_config(request: Request) -> dict[str, object]:
    """What the demo page may offer: the models this node can run, and its default."""
    svc = service(request)
    if not svc.settings.demo_enabled:
        raise NotFound("the demo endpoint is off on this server")
    return {"models": svc.node.available_models(), "default_model": svc.settings.model}


@router.post("/v1/demo/sessions", status_code=201, response_model=SessionCreated, tags=["demo"])
async def demo_session(request: Request, body: CreateSession | None = None) -> SessionCreated:
    """For the demo page only: a session without the API key. On by default only when
    the server binds a loopback address (``--demo`` / ``EDGEVOICE_DEMO`` to change)."""
    svc = service(request)
    if not svc.settings.demo_enabled:
        raise NotFound("the demo endpoint is off on this server")
    body = body or CreateSession.model_validate({})
    if not body.tools and (body.model or svc.settings.model) == "local":
        body.tools = [DEMO_TOOL]  # so the demo exercises the tool path offline
    return await svc.create(body, str(request.base_url))
