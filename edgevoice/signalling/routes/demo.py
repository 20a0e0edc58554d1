"""The demo page's keyless session endpoint and its configuration."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from ...cluster.placement import models_offered
from ..errors import NotFound
from ..http import service
from ..schemas import CreateSession, SessionCreated

router = APIRouter(tags=["demo"])

DEMO_TOOL = {
    "type": "function",
    "name": "get_time",
    "description": "The current local time of the server.",
    "parameters": {"type": "object", "properties": {}},
}


@router.get("/v1/demo/config")
async def demo_config(request: Request) -> dict[str, object]:
    """What the demo page may offer: the models the nodes can run, and the default."""
    svc = service(request)
    if not svc.settings.demo_enabled:
        raise NotFound("the demo endpoint is off on this server")
    models = models_offered(await svc.directory.nodes(), time.time())
    order = {"echo": 0, "local": 1}
    models.sort(key=lambda m: (order.get(m, 2), m))
    return {"models": models, "default_model": svc.settings.model}


@router.post("/v1/demo/sessions", status_code=201, response_model=SessionCreated)
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
