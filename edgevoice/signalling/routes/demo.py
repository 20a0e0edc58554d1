"""The demo page's keyless session endpoint and its configuration.

Who may call it, with what and how often is decided in ``demoguard``: loopback clients
not behind a proxy (unless ``--demo``), a served ``Host``, only ``model`` (echo or local),
``voice`` and placement (``region``, ``client_rtt_ms``), a token bucket per client.
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request

from ...cluster.placement import models_offered
from ..demoguard import (
    DEMO_MODELS,
    RateLimiter,
    check_demo_body,
    client_key,
    demo_placement,
    demo_refusal,
)
from ..errors import BadRequest, TooManyRequests
from ..http import service
from ..schemas import CreateSession, SessionCreated

router = APIRouter(tags=["demo"])

DEMO_TOOL = {
    "type": "function",
    "name": "get_time",
    "description": "The current local time of the server.",
    "parameters": {"type": "object", "properties": {}},
}


def _guard(request: Request) -> None:
    client = request.client.host if request.client else None
    refusal = demo_refusal(service(request).settings, client, request.headers)
    if refusal is not None:
        raise refusal


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "demo_limiter", None)
    if limiter is None:
        limiter = request.app.state.demo_limiter = RateLimiter()
    return limiter


@router.get("/v1/demo/config")
async def demo_config(request: Request) -> dict[str, object]:
    """What the demo page may offer: the demo models the nodes can run, and the default."""
    _guard(request)
    svc = service(request)
    offered = models_offered(await svc.directory.nodes(), time.time())
    models = [m for m in DEMO_MODELS if m in offered]
    default = svc.settings.model if svc.settings.model in models else (models or ["echo"])[0]
    return {"models": models, "default_model": default}


@router.post("/v1/demo/sessions", status_code=201, response_model=SessionCreated)
async def demo_session(request: Request) -> SessionCreated:
    """For the demo page only: a session without the API key, with ``model`` (echo or
    local) and ``voice`` only. On by default only when the server binds a loopback
    address, and then only for local clients (``--demo`` / ``EDGEVOICE_DEMO`` to change)."""
    _guard(request)
    raw = await request.body()  # size, type and nesting checked by bodies.BodyLimits
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc
    svc = service(request)
    model, voice = check_demo_body(body, svc.settings.model)
    placement = demo_placement(body)
    client = request.client.host if request.client else None
    wait = _limiter(request).wait(client_key(client, request.headers), time.monotonic())
    if wait:
        raise TooManyRequests(f"too many demo sessions from this client; try in {wait} s", wait)
    session = CreateSession.model_validate({"model": model, "voice": voice, **placement})
    if model == "local":
        session.tools = [DEMO_TOOL]  # so the demo exercises the tool path offline
    return await svc.create(session, str(request.base_url))
