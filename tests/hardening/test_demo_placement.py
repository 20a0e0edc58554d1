"""The demo endpoint takes where to place the call: ``region`` and ``client_rtt_ms`` (what
the page measured to each region's ping URL), checked like ``POST /v1/sessions``."""

from __future__ import annotations

import pytest

from edgevoice.signalling.demoguard import demo_placement
from edgevoice.signalling.errors import BadRequest
from tests.conftest import Server
from tests.e2e.test_errors import problem


def test_placement_fields_are_checked() -> None:
    assert demo_placement({"model": "echo"}) == {}
    assert demo_placement(None) == {}
    assert demo_placement({"region": "eu", "client_rtt_ms": {"eu": 12, "us": 80.5}}) == {
        "region": "eu",
        "client_rtt_ms": {"eu": 12.0, "us": 80.5},
    }
    for bad in (
        {"region": ""},
        {"region": 7},
        {"region": "x" * 65},
        {"client_rtt_ms": [12]},
        {"client_rtt_ms": {"eu": -1}},
        {"client_rtt_ms": {"eu": 60_001}},
        {"client_rtt_ms": {"eu": "fast"}},
        {"client_rtt_ms": {"eu": True}},
        {"client_rtt_ms": {"x" * 65: 1}},
        {"client_rtt_ms": {f"r{i}": 1 for i in range(65)}},
    ):
        with pytest.raises(BadRequest):
            demo_placement(bad)


async def test_the_demo_endpoint_places_by_region_and_client_rtt(server: Server) -> None:
    http = server.http
    load = server.node.load
    for body, needle in (
        ({"client_rtt_ms": {"local": -5}}, "client_rtt_ms"),
        ({"client_rtt_ms": "near"}, "client_rtt_ms"),
        ({"region": 3}, "region"),
    ):
        problem(await http.post("/v1/demo/sessions", json={"model": "echo", **body}), 400, needle)
    assert server.node.load == load  # nothing was created
    measured = await http.post(
        "/v1/demo/sessions", json={"model": "echo", "client_rtt_ms": {"local": 3.2, "far": 90}}
    )
    assert measured.status_code == 201, measured.text
    hinted = await http.post("/v1/demo/sessions", json={"model": "echo", "region": "local"})
    assert hinted.status_code == 201, hinted.text
    assert hinted.json()["node"]["region"] == "local"
