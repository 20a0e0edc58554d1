"""The FastAPI application: routes, problem handlers, the demo page, life cycle.

One factory for every process kind:
- ``edgevoice serve``: the public API and a node in one process (the default: the
  in-memory store and directory; with ``--redis-url`` a cluster of one);
- ``edgevoice signalling``: the public API alone, nodes found in Redis;
- ``edgevoice node``: a node's public WHIP routes and its internal API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from .. import __version__
from ..cluster.directory import Directory, LocalDirectory
from ..cluster.eventbus import EventBus, NodeEventBus
from ..cluster.local import LocalNodeClient
from ..cluster.redisconn import connect
from ..node.metrics import NodeMetrics
from ..node.node import Node
from . import bodies, metrics, problems
from .docs import install_docs
from .keys import KeyStore, MemoryKeys, RedisKeys
from .nodeagent import NodeAgent
from .routes import dashboard, demo, health, internal, nodes, regions, sessions, usage, whip
from .routes import listeners as listener_routes
from .service import SessionService
from .settings import Settings
from .store import SessionStore, open_store

Cleanup = Callable[[], Awaitable[None]]
FIGURES_SECONDS = 10.0
log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    node: Node | None,
    store: SessionStore | None = None,
    *,
    directory: Directory | None = None,
    bus: EventBus | None = None,
    public_api: bool = True,
    registered: Callable[[], bool] = lambda: True,
    cleanups: Sequence[Cleanup] = (),
) -> FastAPI:
    store = store or open_store(settings.redis_url)
    if directory is None or bus is None:
        if node is None:
            raise ValueError("a process without a node needs the cluster's directory and bus")
        directory = directory or LocalDirectory(node)
        bus = bus or NodeEventBus(node)
    keys: KeyStore = RedisKeys(connect(settings.redis_url)) if settings.redis_url else MemoryKeys()
    svc = SessionService(settings, store, directory, bus, keys)
    agent = NodeAgent(node, store, directory) if node is not None else None

    node_metrics = NodeMetrics(node) if node is not None else None
    if isinstance(directory, LocalDirectory) and node_metrics is not None:
        directory.figures = node_metrics.figures

    async def record_figures() -> None:
        """Every 10 s: the model link's RTT, and a sample of the node's figures."""
        assert node is not None and node_metrics is not None
        link = node.models.local_url or (node.models.realtime_url if node.models.api_key else None)
        while True:
            await node_metrics.measure_model_link(link)
            try:
                sample = {"t": round(time.time(), 1), **node_metrics.figures()}
                await directory.record_figures(node.id, sample)
            except Exception as exc:  # Redis away: the dashboard misses a sample
                log.debug("figures not recorded: %s", exc)
            await asyncio.sleep(FIGURES_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        recorder = asyncio.create_task(record_figures()) if node is not None else None
        yield
        if recorder is not None:
            recorder.cancel()
        if node is not None:
            await node.shutdown()
        if agent is not None:
            await agent.drain()
        for cleanup in cleanups:
            await cleanup()
        await directory.close()
        await store.close()

    app = FastAPI(
        title="edgevoice",
        version=__version__,
        description="A self-hosted WebRTC edge for voice AI: WHIP/WHEP in, realtime models out.",
        lifespan=lifespan,
        docs_url=None,  # served below from the package's own Swagger UI files, no CDN
        redoc_url=None,
    )
    install_docs(app)
    app.state.service = svc
    app.state.settings = settings
    app.state.node = node
    app.state.agent = agent
    app.state.registered = registered
    registry = CollectorRegistry(auto_describe=True)
    requests = metrics.HttpRequests()
    registry.register(requests)
    app.state.cluster_view = metrics.ClusterView()
    registry.register(app.state.cluster_view)
    if node_metrics is not None:
        registry.register(node_metrics)
    app.state.node_metrics = node_metrics
    app.state.metrics_registry = registry
    app.add_middleware(bodies.BodyLimits, settings=settings)
    app.add_middleware(metrics.RequestCounter, requests=requests)
    app.include_router(metrics.router)
    problems.install(app)
    app.include_router(whip.router)
    app.include_router(health.router)
    app.include_router(regions.router)
    if node is not None:
        app.state.local_client = LocalNodeClient(node)
        if settings.cluster_secret:
            app.include_router(internal.router)
    if public_api:
        app.include_router(sessions.router)
        app.include_router(nodes.router)
        app.include_router(listener_routes.router)
        app.include_router(dashboard.router)
        app.include_router(usage.router)
        app.include_router(demo.router)
        web = resources.files("edgevoice.web")
        app.mount("/static", StaticFiles(directory=str(web)), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(str(web / "index.html"), media_type="text/html")

    return app
