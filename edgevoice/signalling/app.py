"""The FastAPI application: routes, problem handlers, the demo page, life cycle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..node.node import Node
from . import problems
from .routes import health, sessions, whip
from .service import SessionService
from .settings import Settings
from .store import SessionStore, open_store


def create_app(settings: Settings, node: Node, store: SessionStore | None = None) -> FastAPI:
    store = store or open_store(settings.redis_url)
    svc = SessionService(settings, store, node)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await node.shutdown()
        await svc.drain()
        await store.close()

    app = FastAPI(
        title="edgevoice",
        version=__version__,
        description="A self-hosted WebRTC edge for voice AI: WHIP/WHEP in, realtime models out.",
        lifespan=lifespan,
    )
    app.state.service = svc
    problems.install(app)
    app.include_router(sessions.router)
    app.include_router(whip.router)
    app.include_router(health.router)

    web = resources.files("edgevoice.web")
    app.mount("/static", StaticFiles(directory=str(web)), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(str(web / "index.html"), media_type="text/html")

    return app
