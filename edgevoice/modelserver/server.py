"""The ASGI app (Starlette): the Realtime WebSocket and the client-secrets endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import events as ev
from .config import SessionConfig, apply_update
from .errors import RealtimeError
from .items import new_id
from .models import Models, Progress, load_models
from .session import RealtimeSession

log = logging.getLogger(__name__)
SECRET_SECONDS = (10, 7200)


class ModelServerState:
    """Shared by every connection: the models and the issued client secrets."""

    def __init__(self, models: Models) -> None:
        self.models = models
        self.secrets: dict[str, tuple[float, SessionConfig]] = {}

    def session_for(self, websocket: WebSocket) -> SessionConfig | None:
        header = websocket.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        for protocol in websocket.scope.get("subprotocols", []):
            if protocol.startswith("openai-insecure-api-key."):
                token = protocol.removeprefix("openai-insecure-api-key.")
        issued = self.secrets.get(token)
        if issued is None or issued[0] < time.time():
            return None
        return issued[1]


async def realtime_endpoint(websocket: WebSocket) -> None:
    state: ModelServerState = websocket.app.state.modelserver
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol="realtime" if "realtime" in offered else None)
    outbox: asyncio.Queue[str | None] = asyncio.Queue()

    def emit(event: ev.ServerEvent) -> None:
        outbox.put_nowait(event.wire())

    async def writer() -> None:
        while (text := await outbox.get()) is not None:
            await websocket.send_text(text)

    config = state.session_for(websocket) or SessionConfig()
    requested = websocket.query_params.get("model")
    if requested:
        config = config.model_copy(update={"model": requested})
    session = RealtimeSession(state.models, emit, config)
    writing = asyncio.create_task(writer())
    session.start()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            await session.handle(data)
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()
        outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writing, timeout=1.0)
        writing.cancel()


def _problem(status: int, detail: str) -> JSONResponse:
    body = {"error": {"type": "invalid_request_error", "message": detail}}
    return JSONResponse(body, status_code=status)


async def client_secrets_endpoint(request: Request) -> JSONResponse:
    """``POST /v1/realtime/client_secrets``: an ephemeral key bound to a session config."""
    state: ModelServerState = request.app.state.modelserver
    try:
        body: Any = json.loads(await request.body() or b"{}")
    except ValueError:
        return _problem(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return _problem(400, "the body must be a JSON object")
    expires = body.get("expires_after") or {}
    seconds = expires.get("seconds", 600) if isinstance(expires, dict) else None
    if not isinstance(seconds, int) or not SECRET_SECONDS[0] <= seconds <= SECRET_SECONDS[1]:
        return _problem(400, "expires_after.seconds must be an integer from 10 to 7200")
    patch = body.get("session") or {}
    if not isinstance(patch, dict):
        return _problem(400, "session must be an object")
    try:
        config = apply_update(SessionConfig(), patch)
    except RealtimeError as exc:
        return _problem(400, exc.message)
    expires_at = int(time.time()) + seconds
    value = f"ek_{secrets.token_urlsafe(24)}"
    now = time.time()
    state.secrets = {k: v for k, v in state.secrets.items() if v[0] > now}
    state.secrets[value] = (float(expires_at), config)
    session = {"id": new_id("sess"), "object": "realtime.session", "expires_at": expires_at}
    session.update(config.wire())
    return JSONResponse({"value": value, "expires_at": expires_at, "session": session})


async def health_endpoint(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(models: Models | None = None, progress: Progress | None = None) -> Starlette:
    """The model server's ASGI app; loads the models now unless ``models`` is given."""
    loaded = models or load_models(progress)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if models is None:
            loaded.close()

    app = Starlette(
        routes=[
            WebSocketRoute("/v1/realtime", realtime_endpoint),
            Route("/v1/realtime/client_secrets", client_secrets_endpoint, methods=["POST"]),
            Route("/healthz", health_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.modelserver = ModelServerState(loaded)
    return app
