"""The keyless demo endpoint: local clients only unless --demo, served Host names only,
model echo/local and voice only, rate-limited per client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgevoice.signalling.demoguard import (
    DEMO_BURST,
    RateLimiter,
    client_key,
    demo_refusal,
    host_name,
    take,
)
from edgevoice.signalling.settings import Settings
from tests.conftest import Server
from tests.e2e.test_errors import problem

LOCAL = Settings(host="127.0.0.1", port=8080)


# pure ------------------------------------------------------------------------------
def test_who_may_use_the_demo_endpoint() -> None:
    host = {"host": "127.0.0.1:8080"}
    assert demo_refusal(LOCAL, "127.0.0.1", host) is None
    assert demo_refusal(LOCAL, "::1", {"host": "[::1]:8080"}) is None
    refused = demo_refusal(LOCAL, "203.0.113.9", host)
    assert refused is not None and refused.status == 403
    proxied = demo_refusal(LOCAL, "127.0.0.1", {**host, "x-forwarded-for": "203.0.113.9"})
    assert proxied is not None and "proxy" in proxied.detail
    assert demo_refusal(LOCAL, "127.0.0.1", {**host, "forwarded": "for=203.0.113.9"})
    rebound = demo_refusal(LOCAL, "127.0.0.1", {"host": "attacker.example:8080"})
    assert rebound is not None and rebound.status == 403 and "Host" in rebound.detail
    public = Settings(host="0.0.0.0", port=8080)
    off = demo_refusal(public, "127.0.0.1", host)
    assert off is not None and off.status == 404
    opened = Settings(host="0.0.0.0", demo=True, demo_hosts="voice.example.com")
    forwarded = {"host": "voice.example.com", "x-forwarded-for": "203.0.113.9"}
    assert demo_refusal(opened, "203.0.113.7", forwarded) is None
    assert demo_refusal(opened, "127.0.0.1", {"host": "other.example"}) is not None


def test_host_names_and_client_keys() -> None:
    assert host_name("LocalHost:8080") == "localhost"
    assert host_name("[::1]:8080") == "::1" and host_name("::1") == "::1"
    assert host_name(None) == ""
    assert client_key("127.0.0.1", {"x-forwarded-for": "198.51.100.1, 203.0.113.9"}) == (
        "203.0.113.9"
    )
    assert client_key("203.0.113.7", {"x-forwarded-for": "198.51.100.1"}) == "203.0.113.7"


def test_token_bucket() -> None:
    bucket = None
    for _ in range(5):
        bucket, wait = take(bucket, 100.0, 5, 12.0)
        assert wait == 0
    bucket, wait = take(bucket, 100.0, 5, 12.0)
    assert wait == 12.0
    bucket, wait = take(bucket, 106.0, 5, 12.0)
    assert wait == 6.0
    bucket, wait = take(bucket, 112.0, 5, 12.0)
    assert wait == 0
    limiter = RateLimiter(burst=1, refill_seconds=10, max_clients=2)
    assert limiter.wait("a", 0) == 0 and limiter.wait("a", 0) == 10
    limiter.wait("b", 0)
    limiter.wait("c", 0)  # "a" is forgotten past the bound
    assert limiter.wait("a", 0) == 0


# over HTTP -------------------------------------------------------------------------
async def test_the_demo_endpoint_takes_only_a_demo_model_and_a_voice(server: Server) -> None:
    http = server.http
    load = server.node.load
    refused = {
        "webhook_url": "http://127.0.0.1:9/hook",
        "tools": [{"type": "function", "name": "get_time"}],
        "instructions": "say the secret",
        "metadata": {"a": 1},
        "ttl_seconds": 3600,
    }
    for field, value in refused.items():
        answer = await http.post("/v1/demo/sessions", json={"model": "echo", field: value})
        problem(answer, 400, field)
    problem(await http.post("/v1/demo/sessions", json={"model": "gpt-realtime"}), 400, "echo")
    problem(await http.post("/v1/demo/sessions", json=["echo"]), 400, "object")
    assert server.node.load == load  # nothing was created
    created = await http.post("/v1/demo/sessions", json={"model": "echo", "voice": "alloy"})
    assert created.status_code == 201, created.text
    assert created.json()["model"] == "echo"
    empty = await http.post("/v1/demo/sessions")
    assert empty.status_code == 201 and empty.json()["model"] == "echo"
    config = (await http.get("/v1/demo/config")).json()
    assert set(config["models"]) <= {"echo", "local"} and config["default_model"] == "echo"


async def test_proxied_and_rebound_requests_are_refused(server: Server) -> None:
    http = server.http
    for path, method in (("/v1/demo/sessions", "POST"), ("/v1/demo/config", "GET")):
        proxied = await http.request(method, path, headers={"X-Forwarded-For": "203.0.113.9"})
        problem(proxied, 403, "proxy")
        forwarded = await http.request(method, path, headers={"Forwarded": "for=203.0.113.9"})
        problem(forwarded, 403, "proxy")
        rebound = await http.request(method, path, headers={"Host": "attacker.example"})
        problem(rebound, 403, "Host")
    port = server.settings.port
    named = await http.post("/v1/demo/sessions", headers={"Host": f"localhost:{port}"})
    assert named.status_code == 201, named.text


async def test_demo_sessions_are_rate_limited_per_client(server: Server) -> None:
    for _ in range(DEMO_BURST):
        assert (await server.http.post("/v1/demo/sessions")).status_code == 201
    limited = await server.http.post("/v1/demo/sessions")
    body = problem(limited, 429, "too many")
    assert 1 <= int(limited.headers["retry-after"]) <= 13, body
    # the API key is not rate-limited by the demo's bucket
    assert (await server.http.post("/v1/sessions", json={}, headers=server.auth)).status_code == 201


async def test_an_explicit_demo_flag_opens_it_behind_a_proxy(
    make_server: Callable[..., Any],
) -> None:
    async with make_server(demo=True, demo_hosts="voice.example.com") as server:
        headers = {"X-Forwarded-For": "203.0.113.9", "Host": "voice.example.com"}
        for _ in range(DEMO_BURST):
            ok = await server.http.post("/v1/demo/sessions", headers=headers)
            assert ok.status_code == 201, ok.text
        problem(await server.http.post("/v1/demo/sessions", headers=headers), 429, "too many")
        other = {**headers, "X-Forwarded-For": "203.0.113.10"}  # another client behind it
        assert (await server.http.post("/v1/demo/sessions", headers=other)).status_code == 201
