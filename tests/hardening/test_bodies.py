"""JSON bodies at the door: size (413), type (415), nesting and metadata limits (400
with a detail), and every record that was accepted can be read back."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from edgevoice.node.node import Node
from edgevoice.sfu.peer import MediaConfig
from edgevoice.signalling.app import create_app
from edgevoice.signalling.bodies import body_problem, is_json_type, is_sdp_route
from edgevoice.signalling.limits import (
    METADATA_MAX_DEPTH,
    METADATA_MAX_KEYS,
    json_shape,
    metadata_problem,
)
from edgevoice.signalling.settings import Settings
from tests.conftest import API_KEY, Server
from tests.e2e.test_errors import problem

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"k": value}
    return value


# pure ------------------------------------------------------------------------------
def test_json_shape_counts_nesting_outside_strings() -> None:
    assert json_shape(b'{"a": [1, {"b": "[[[{{{"}]}') == (3, False)
    assert json_shape(b'"\\"[" ') == (0, False)
    assert json_shape(b"[" * 5000 + b"]" * 5000) == (5000, False)
    assert json_shape(b'{"x": NaN}')[1] and json_shape(b"[-Infinity]")[1]
    assert not json_shape(b'{"NaN": "Infinity", "n": null, "e": 1E5}')[1]


def test_metadata_limits() -> None:
    assert metadata_problem({"user": "u1", "tags": ["a", "b"], "n": {"x": 1}}) is None
    assert metadata_problem(nested(METADATA_MAX_DEPTH)) is None
    assert "deeper" in str(metadata_problem(nested(METADATA_MAX_DEPTH + 1)))
    assert "keys" in str(metadata_problem({str(i): i for i in range(METADATA_MAX_KEYS + 1)}))
    nested_keys = {str(i): {"a": 1, "b": 2} for i in range(30)}  # 90 keys in all
    assert "keys" in str(metadata_problem(nested_keys))
    assert "characters" in str(metadata_problem({"k" * 65: 1}))
    assert "characters" in str(metadata_problem({"k": "v" * 1025}))
    assert "bytes" in str(metadata_problem({"k": list(range(5000))}))


def test_which_routes_are_sdp_and_which_types_are_json() -> None:
    assert is_sdp_route("/v1/whip") and is_sdp_route("/v1/whip/abc")
    assert is_sdp_route("/v1/sessions/sess_1/whep")
    assert not is_sdp_route("/v1/sessions") and not is_sdp_route("/v1/demo/sessions")
    assert is_json_type("application/json; charset=utf-8") and is_json_type("application/x+json")
    assert not is_json_type("text/plain") and not is_json_type(None)
    assert body_problem(None, b"") is None
    refused = body_problem("text/plain", b"{}")
    assert refused is not None and refused.status == 415 and "text/plain" in refused.detail


# over HTTP -------------------------------------------------------------------------
async def test_the_issues_bodies_are_refused_with_a_detail(server: Server) -> None:
    http = server.http
    many = {"model": "echo", "metadata": {f"key{i:05}": "x" * 100 for i in range(20_000)}}
    problem(await http.post("/v1/sessions", json=many, headers=server.auth), 413, "limit")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        yield b'{"model": "echo", "metadata": {'
        for i in range(20_000):
            yield f'"key{i:05}": "{"x" * 100}", '.encode()
        yield b'"end": 1}}'

    chunked = await http.post(
        "/v1/sessions",
        content=chunks(),
        headers={**server.auth, "Content-Type": "application/json"},
    )
    problem(chunked, 413, "limit")
    keys = {"model": "echo", "metadata": {f"k{i}": i for i in range(10_000)}}
    problem(await http.post("/v1/sessions", json=keys, headers=server.auth), 400, "keys")
    for levels in (260, 600, 100_000):
        deep = {"model": "echo", "metadata": nested(levels)}
        body = json.dumps(deep) if levels < 1000 else _deep_text(levels)
        response = await http.post(
            "/v1/sessions",
            content=body,
            headers={**server.auth, "Content-Type": "application/json"},
        )
        problem(response, 400, "levels deep")
    shallow_but_too_deep = {"model": "echo", "metadata": nested(METADATA_MAX_DEPTH + 1)}
    problem(
        await http.post("/v1/sessions", json=shallow_but_too_deep, headers=server.auth),
        400,
        "metadata is nested deeper",
    )
    text = await http.post(
        "/v1/sessions",
        content=b'{"model": "echo"}',
        headers={**server.auth, "Content-Type": "text/plain"},
    )
    problem(text, 415, "application/json")
    bare = await http.post("/v1/sessions", content=b'{"model": "echo"}', headers=server.auth)
    problem(bare, 415, "no Content-Type")
    nan = await http.post(
        "/v1/sessions",
        content=b'{"model": "echo", "metadata": {"x": NaN}}',
        headers={**server.auth, "Content-Type": "application/json"},
    )
    problem(nan, 400, "NaN")
    demo = await http.post("/v1/demo/sessions", content=b"{}", headers={"Content-Type": "text/x"})
    problem(demo, 415, "application/json")
    # the limit holds: the largest metadata allowed round-trips
    ok = nested(METADATA_MAX_DEPTH, "v" * 1000)
    created = await server.create_session(metadata=ok)
    got = await http.get(f"/v1/sessions/{created['id']}", headers=server.auth)
    assert got.status_code == 200 and got.json()["metadata"] == ok


def _deep_text(levels: int) -> str:
    return '{"model": "echo", "metadata": {"k": ' + "[" * levels + "]" * levels + "}}"


async def test_internal_api_bodies_are_limited_too(make_server: Callable[..., Any]) -> None:
    async with make_server(cluster_secret="s3cret") as server:
        huge = {"reason": "x" * 3_000_000}
        response = await server.http.post(
            "/internal/v1/sessions/sess_x/end",
            json=huge,
            headers={"Authorization": "Bearer s3cret"},
        )
        problem(response, 413, "limit")


# every accepted record can be read back --------------------------------------------
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=70), inner, max_size=8)
    ),
    max_leaves=80,
)
_metadata = st.one_of(
    st.dictionaries(st.text(max_size=70), _json, max_size=70),
    st.integers(1, 700).map(lambda n: nested(n)),
    st.integers(0, 30).map(lambda n: {"big": "x" * (n * 600)}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata=_metadata)
def test_every_accepted_record_reads_back(metadata: dict[str, Any]) -> None:
    asyncio.run(_create_and_read(metadata))


_app = create_app(
    Settings(api_key=API_KEY, model="echo", max_sessions=100_000), Node(MediaConfig())
)


async def _create_and_read(metadata: dict[str, Any]) -> None:
    transport = httpx.ASGITransport(app=_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        body = json.dumps({"model": "echo", "metadata": metadata})
        created = await http.post(
            "/v1/sessions", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        event(f"status {created.status_code}")
        if created.status_code != 201:
            assert created.status_code in (400, 413), created.text
            assert created.headers["content-type"].startswith("application/problem+json")
            assert created.json()["detail"]
            return
        session_id = created.json()["id"]
        got = await http.get(f"/v1/sessions/{session_id}", headers=AUTH)
        assert got.status_code == 200, got.text
        assert got.json()["metadata"] == json.loads(body)["metadata"]
        assert not _has_nonfinite(metadata)
        deleted = await http.delete(f"/v1/sessions/{session_id}", headers=AUTH)
        assert deleted.status_code == 204


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nonfinite(v) for v in value)
    return False
