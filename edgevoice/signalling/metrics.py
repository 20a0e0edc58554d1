"""``GET /metrics`` on every process: HTTP requests by route template and status, the
cluster as this process sees it, and, where a node runs, the node's own metrics.

Prometheus text (0.0.4) by default, OpenMetrics when the scraper asks for it. Open to
loopback scrapers; from anywhere else it takes the API key or the cluster secret as
Bearer token (a public edge should not tell the internet its load).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client import exposition as text_format
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics import exposition as openmetrics
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import auth
from .errors import Unauthorized
from .settings import is_loopback


class HttpRequests:
    """Counts requests by (method, route template, status); fed by ``RequestCounter``."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "edgevoice_http_requests", "HTTP requests by route template and status",
            labels=["method", "route", "status"],
        )  # fmt: skip
        for (method, route, status), count in sorted(self.counts.items()):
            family.add_metric([method, route, status], count)
        yield family


class RequestCounter:
    """ASGI middleware: one dict increment per request, labelled by the matched route's
    template (``/v1/sessions/{session_id}``), never the concrete path."""

    def __init__(self, app: ASGIApp, requests: HttpRequests) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            key = (scope.get("method", "GET"), template, str(status))
            self.requests.counts[key] = self.requests.counts.get(key, 0) + 1


class ClusterView:
    """The live nodes as this process's directory sees them (read at scrape time)."""

    def __init__(self) -> None:
        self.cached: list[Any] = []  # refreshed by the /metrics route before each scrape

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        nodes = GaugeMetricFamily("edgevoice_cluster_nodes", "Live nodes by region",
                                  labels=["region"])  # fmt: skip
        load = GaugeMetricFamily("edgevoice_cluster_node_load_sessions",
                                 "Sessions holding a slot, per live node",
                                 labels=["node", "region"])  # fmt: skip
        capacity = GaugeMetricFamily("edgevoice_cluster_node_capacity_sessions",
                                     "Slots per live node", labels=["node", "region"])  # fmt: skip
        regions: dict[str, int] = {}
        for node in self.cached:
            if not node.alive(now):
                continue
            regions[node.region] = regions.get(node.region, 0) + 1
            load.add_metric([node.id, node.region], node.load)
            capacity.add_metric([node.id, node.region], node.capacity)
        for region, count in sorted(regions.items()):
            nodes.add_metric([region], count)
        yield nodes
        yield load
        yield capacity


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=True)
async def metrics(request: Request) -> Response:
    """Prometheus/OpenMetrics exposition of this process."""
    state = request.app.state
    client = request.client.host if request.client else ""
    if not is_loopback(client):
        token = auth.bearer_token(request.headers.get("authorization"))
        keys = [k for k in (state.settings.api_key, state.settings.cluster_secret) if k]
        if not any(auth.same_secret(token, key) for key in keys):
            raise Unauthorized("/metrics from beyond loopback needs the API key or the "
                               "cluster secret as Bearer token")  # fmt: skip
    view: ClusterView = state.cluster_view
    view.cached = await state.service.directory.nodes()
    registry: CollectorRegistry = state.metrics_registry
    if "application/openmetrics-text" in request.headers.get("accept", ""):
        body = openmetrics.generate_latest(registry)  # type: ignore[no-untyped-call]
        return Response(body, media_type=openmetrics.CONTENT_TYPE_LATEST)
    return Response(
        text_format.generate_latest(registry), media_type=text_format.CONTENT_TYPE_LATEST
    )
