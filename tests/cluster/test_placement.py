"""Placement is a pure function: region first, then load, never a dead/draining/full node."""

from __future__ import annotations

from edgevoice.cluster.nodeinfo import NODE_TTL_SECONDS, NodeInfo
from edgevoice.cluster.placement import models_offered, rank

NOW = 1_000_000.0


def node(node_id: str, region: str, load: int = 0, capacity: int = 10, **kw: object) -> NodeInfo:
    fields: dict[str, object] = {"heartbeat_at": NOW - 1, "models": ("echo", "local"), **kw}
    return NodeInfo(
        id=node_id, region=region, url=f"http://{node_id}", capacity=capacity, load=load,
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def ids(nodes: list[NodeInfo]) -> list[str]:
    return [n.id for n in nodes]


def test_the_hinted_region_first_then_the_least_loaded() -> None:
    nodes = [node("eu-1", "eu", 5), node("eu-2", "eu", 2), node("us-1", "us", 0)]
    assert ids(rank(nodes, model="echo", now=NOW, region="eu")) == ["eu-2", "eu-1", "us-1"]
    assert ids(rank(nodes, model="echo", now=NOW, region="us")) == ["us-1", "eu-2", "eu-1"]


def test_without_a_hint_the_signallings_own_region() -> None:
    nodes = [node("eu-1", "eu", 1), node("us-1", "us", 0)]
    assert ids(rank(nodes, model="echo", now=NOW, home_region="eu"))[0] == "eu-1"
    assert ids(rank(nodes, model="echo", now=NOW))[0] == "us-1"  # no region: load alone


def test_load_is_relative_to_capacity() -> None:
    big = node("big", "eu", load=10, capacity=100)
    small = node("small", "eu", load=2, capacity=4)
    assert ids(rank([small, big], model="echo", now=NOW)) == ["big", "small"]


def test_never_draining_expired_full_or_without_the_model() -> None:
    nodes = [
        node("draining", "eu", draining=True),
        node("expired", "eu", heartbeat_at=NOW - NODE_TTL_SECONDS - 0.1),
        node("full", "eu", load=10),
        node("echo-only", "eu", models=("echo",)),
        node("ok", "us", load=9),
    ]
    assert ids(rank(nodes, model="local", now=NOW, region="eu")) == ["ok"]
    assert ids(rank(nodes, model="echo", now=NOW, region="eu")) == ["echo-only", "ok"]
    assert rank(nodes, model="gpt-realtime", now=NOW) == []


def test_ties_are_broken_deterministically() -> None:
    nodes = [node("b", "eu", 1), node("a", "eu", 1), node("c", "eu", 1)]
    assert ids(rank(nodes, model="echo", now=NOW)) == ["a", "b", "c"]
    assert ids(rank(list(reversed(nodes)), model="echo", now=NOW)) == ["a", "b", "c"]


def test_models_offered_by_live_nodes_only() -> None:
    nodes = [node("a", "eu", models=("echo",)),
             node("b", "eu", models=("gpt-realtime",), heartbeat_at=0.0)]  # fmt: skip
    assert models_offered(nodes, NOW) == ["echo"]


def test_node_info_round_trips_through_json() -> None:
    info = node("eu-1", "eu", 3, draining=True, media_address="203.0.113.7")
    assert NodeInfo.from_json(info.to_json()) == info


def test_measured_rtts_pick_the_nearest_region_with_room() -> None:
    nodes = [node("eu-1", "eu", 0), node("us-1", "us", 3), node("ap-1", "ap", 0)]
    rtts = {"eu": 80.0, "us": 12.5, "ap": 150.0}
    assert ids(rank(nodes, model="echo", now=NOW, client_rtt_ms=rtts)) == ["us-1", "eu-1", "ap-1"]
    full = [node("eu-1", "eu", 0), node("us-1", "us", 10), node("ap-1", "ap", 0)]
    assert ids(rank(full, model="echo", now=NOW, client_rtt_ms=rtts))[0] == "eu-1"
    # an explicit region wins over measurements; unmeasured regions come last
    assert ids(rank(nodes, model="echo", now=NOW, region="ap", client_rtt_ms=rtts))[0] == "ap-1"
    partial = {"ap": 150.0}
    assert ids(rank(nodes, model="echo", now=NOW, client_rtt_ms=partial))[0] == "ap-1"
