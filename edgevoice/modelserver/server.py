"""The ASGI app (Starlette): the Realtime WebSocket and the client-secrets endpoint.

Access: with an ``api_key`` the WebSocket takes that key or a client secret the
client-secrets endpoint issued (which itself takes only the key); without one, any
token. Whatever the key, a request carrying an ``Origin`` header (a browser page) is
refused unless that origin is allowed: a page on another site cannot reach the
server through the visitor's browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
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

    def __init__(
        self, models: Models, api_key: str | None = None, origins: Iterable[str] = ()
    ) -> None:
        self.models = models
        self.api_key = api_key or None
        self.origins = frozenset(origin.rstrip("/") for origin in origins)
        self.secrets: dict[str, tuple[float, SessionConfig]] = {}

    def origin_refused(self, conn: HTTPConnection) -> str | None:
        """Why a request's ``Origin`` is refused (None: no Origin, or an allowed one)."""
        origin = conn.headers.get("origin")
        if origin is None or origin.rstrip("/") in self.origins:
            return None
        return f"origin {origin[:100]!r} is not allowed"

    def has_key(self, token: str) -> bool:
        return self.api_key is not None and hmac.compare_digest(
            token.encode(), self.api_key.encode()
        )

    def session_for(self, websocket: WebSocket) -> SessionConfig | None:
        issued = self.secrets.get(_token(websocket))
        if issued is None or issued[0] < time.time():
            return None
        return issued[1]

    def admits(self, websocket: WebSocket) -> bool:
        """The key (when the server has one) or an issued, unexpired client secret."""
        if self.api_key is None:
            return True
        return self.has_key(_token(websocket)) or self.session_for(websocket) is not None


def _token(conn: HTTPConnection) -> str:
    token = conn.headers.get("authorization", "").removeprefix("Bearer ").strip()
    for protocol in conn.scope.get("subprotocols", []):
        if protocol.startswith("openai-insecure-api-key."):
            token = protocol.removeprefix("openai-insecure-api-key.")
    return token


async def realtime_endpoint(websocket: WebSocket) -> None:
    state: ModelServerState = websocket.app.state.modelserver
    refused = state.origin_refused(websocket)
    if refused is not None or not state.admits(websocket):
        log.warning("refused a realtime connection: %s", refused or "no valid key")
        await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
        return
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
    refused = state.origin_refused(request)
    if refused is not None:
        return _problem(403, refused)
    if state.api_key is not None and not state.has_key(_token(request)):
        return _problem(401, "this server needs its key as a Bearer token")
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


def create_app(
    models: Models | None = None,
    progress: Progress | None = None,
    *,
    api_key: str | None = None,
    origins: Iterable[str] = (),
) -> Starlette:
    """The model server's ASGI app; loads the models now unless ``models`` is given.

    ``api_key``: required of clients when set; ``origins``: browser origins allowed."""
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
    app.state.modelserver = ModelServerState(loaded, api_key, origins)
    return app
