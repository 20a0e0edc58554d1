"""deploy/grafana-dashboard.json queries only what ``GET /metrics`` really exposes: every
metric name in its PromQL, and every label it groups or filters by, is in the output of a
live server with calls on it (one live, one ended) and a measured model link."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.peers import Caller
from tests.probe.endpoint import model_endpoint

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"
NAME = re.compile(r"\bedgevoice_[a-z0-9_]+")
GROUPED = re.compile(r"\bby\s*\(([^)]*)\)")
MATCHER = re.compile(r"([a-z_]+)\s*(?:=~|!~|!=|=)\s*\"")


def _queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if v.get("definition")]
    return exprs


def test_the_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}  # fmt: skip
        assert not mine & cells, f"panel {panel['title']!r} overlaps another"
        cells |= mine
        if panel["type"] != "row":
            assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}"
    titles = " ".join(p["title"] for p in panels)
    for wanted in ("First-hop RTT", "Hop latency", "model link", "Sessions"):
        assert wanted.lower() in titles.lower()


async def test_every_metric_and_label_it_queries_is_exposed(
    make_server: Callable[..., Any],
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    async with model_endpoint() as link, make_server(local_model_url=link) as server:
        live, ended = Caller("hello.wav", loop_audio=True), Caller("hello.wav", loop_audio=True)
        try:
            await server.connect(live)
            gone = await server.connect(ended)
            async with asyncio.timeout(15):
                await live.next_event(
                    "stats",
                    where=lambda e: (
                        e.get("rtt_seconds") is not None
                        and e["bridge"]["latency_ms"]["ingress"]["count"] > 20
                    ),
                )
            await server.http.delete(f"/v1/sessions/{gone['id']}", headers=server.auth)
            await server.service_tasks()
            text = (await server.http.get("/metrics")).text
        finally:
            await live.close()
            await ended.close()

    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    exposed = {n for n in labels if n.startswith("edgevoice_")}
    missing: list[str] = []
    for expr in _queries(dashboard):
        names = set(NAME.findall(expr))
        assert names, f"no edgevoice metric in {expr!r}"
        for name in names:
            if name not in exposed:
                missing.append(f"{name} (in {expr})")
                continue
            used = {lbl.strip() for group in GROUPED.findall(expr) for lbl in group.split(",")}
            used |= set(MATCHER.findall(expr))
            used.discard("le")
            known = labels[name] | {label for n in names if n in labels for label in labels[n]}
            unknown = {u for u in used if u} - known
            assert not unknown, f"{expr!r} uses labels {unknown} that {name} lacks"
    assert not missing, "queried but not exposed: " + "; ".join(missing)
    # and the panels cover the figures an operator needs
    queried = {n for expr in _queries(dashboard) for n in NAME.findall(expr)}
    for wanted in ("edgevoice_sessions", "edgevoice_rtt_seconds_bucket",
                   "edgevoice_hop_latency_seconds_bucket", "edgevoice_rtp_packets_total",
                   "edgevoice_cluster_nodes", "edgevoice_model_link_rtt_seconds"):  # fmt: skip
        assert wanted in queried
