"""``GET /metrics``: the figures a live call produces, in Prometheus text, with
low-cardinality labels only."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from edgevoice.signalling.app import create_app
from tests.conftest import API_KEY, Server
from tests.peers import Caller


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def _value(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    return sum(v for got, v in samples.get(name, []) if labels.items() <= got.items())


async def test_metrics_show_a_live_call(server: Server) -> None:
    caller = Caller("hello.wav", loop_audio=True)
    try:
        session = await server.connect(caller)
        async with asyncio.timeout(10):
            await caller.next_event("stats")
            await caller.next_event(
                "stats", where=lambda e: e["bridge"]["latency_ms"]["ingress"]["count"] > 100
            )
        response = await server.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        samples = _samples(response.text)
        assert _value(samples, "edgevoice_sessions", state="connected") == 1
        assert _value(samples, "edgevoice_peer_connections", state="connected") == 1
        assert _value(samples, "edgevoice_rtp_packets_total", direction="in") > 50
        assert _value(samples, "edgevoice_rtp_bytes_total", direction="out") > 1000
        assert _value(samples, "edgevoice_hop_latency_seconds_count", hop="ingress") > 50
        assert _value(
            samples, "edgevoice_hop_latency_seconds_bucket", hop="ingress", le="+Inf"
        ) == _value(samples, "edgevoice_hop_latency_seconds_count", hop="ingress")
        assert _value(samples, "edgevoice_rtt_seconds_count") >= 1
        assert (
            _value(samples, "edgevoice_http_requests_total", route="/v1/sessions", status="201")
            == 1
        )
        assert _value(samples, "edgevoice_http_requests_total", route="/v1/whip", status="201") == 1
        assert _value(samples, "edgevoice_cluster_nodes", region="local") == 1
        # no label carries a session id, secret or resource
        text = response.text
        assert session["id"] not in text and session["client_secret"]["value"] not in text
        openmetrics = await server.http.get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )
        assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
        assert openmetrics.text.rstrip().endswith("# EOF")
        # the call's packets stay counted after it ends
        await server.http.delete(f"/v1/sessions/{session['id']}", headers=server.auth)
        await server.service_tasks()
        after = _samples((await server.http.get("/metrics")).text)
        assert _value(after, "edgevoice_sessions", state="connected") == 0
        assert _value(after, "edgevoice_rtp_packets_total", direction="in") >= _value(
            samples, "edgevoice_rtp_packets_total", direction="in"
        )
        assert _value(after, "edgevoice_sessions_ended_total", reason="deleted") == 1
    finally:
        await caller.close()


async def test_metrics_beyond_loopback_need_a_key(server: Server) -> None:
    remote_app = create_app(server.settings, server.node, server.node_store)
    transport = httpx.ASGITransport(app=remote_app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 401 and "API key" in refused.json()["detail"]
        allowed = await http.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
        assert allowed.status_code == 200 and "edgevoice_sessions" in allowed.text
