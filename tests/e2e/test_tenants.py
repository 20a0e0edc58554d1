"""Tenants: keys made with ``edgevoice keys`` in the servers' Redis, isolation between
tenants, usage per tenant, revocation."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.peers import Caller
from tests.signalling.test_store import REDIS_URL


def _keys(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgevoice", "keys", *args, "--redis-url", REDIS_URL],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def _new_key(tenant: str) -> dict[str, Any]:
    made = _keys("create", "--tenant", tenant, "--json")
    assert made.returncode == 0, made.stderr
    created: dict[str, Any] = json.loads(made.stdout)
    return created


async def test_tenants_see_only_their_own_sessions_and_usage(
    make_server: Callable[..., Any],
) -> None:
    suffix = str(int(time.time() * 1000))
    a, b = _new_key(f"acme-{suffix}"), _new_key(f"globex-{suffix}")
    listed = json.loads(_keys("list", "--json").stdout)
    assert {a["id"], b["id"]} <= {k["id"] for k in listed}
    assert all("key" not in k for k in listed)  # only hashes are stored
    as_a = {"Authorization": f"Bearer {a['key']}"}
    as_b = {"Authorization": f"Bearer {b['key']}"}
    async with make_server(redis_url=REDIS_URL) as server:
        http = server.http
        created = await http.post("/v1/sessions", json={"model": "echo"}, headers=as_a)
        assert created.status_code == 201, created.text
        session = created.json()
        caller = Caller("hello.wav", loop_audio=True)
        try:
            answer = await server.whip(session["client_secret"]["value"], await caller.offer())
            await caller.accept(answer.text)
            async with asyncio.timeout(10):
                await caller.next_event("state", state="connected")
                await (await caller.track(0)).wait_frames(50)
            url = f"/v1/sessions/{session['id']}"
            for other in (as_b, server.auth):  # another tenant, and the default tenant
                assert (await http.get(url, headers=other)).status_code == 404
                assert (await http.delete(url, headers=other)).status_code == 404
                assert (await http.get(url + "/events", headers=other)).status_code == 404
            assert (await http.get(url, headers=as_a)).json()["state"] == "connected"
            assert (await http.delete(url, headers=as_a)).status_code == 204
            await server.service_tasks()
        finally:
            await caller.close()

        usage_a = (await http.get("/v1/usage", headers=as_a)).json()
        assert usage_a["tenant"] == a["tenant"] and usage_a["sessions"] == 1
        assert 0.5 < usage_a["call_seconds"] < 30 and usage_a["call_seconds"] != int(
            usage_a["call_seconds"]
        )  # fractional seconds, not whole minutes
        assert usage_a["bytes_in"] > 1000 and usage_a["bytes_out"] > 1000
        assert usage_a["model_seconds"] == 0  # the echo model has no model link
        assert usage_a["by_model"]["echo"]["sessions"] == 1
        assert (await http.get("/v1/usage", headers=as_b)).json()["sessions"] == 0
        before = await http.get("/v1/usage?to=2001-01-01T00:00:00Z", headers=as_a)
        assert before.json()["sessions"] == 0
        window = await http.get(f"/v1/usage?from={time.time() - 600:.0f}", headers=as_a)
        assert window.json()["sessions"] == 1
        bad = await http.get("/v1/usage?from=yesterday", headers=as_a)
        assert bad.status_code == 400 and "ISO 8601" in bad.json()["detail"]

        for operator_view in ("/v1/nodes", "/v1/dashboard"):  # the operator's, not a tenant's
            forbidden = await http.get(operator_view, headers=as_b)
            assert forbidden.status_code == 403 and "operator" in forbidden.json()["detail"]
            assert (await http.get(operator_view, headers=server.auth)).status_code == 200
        revoked = _keys("revoke", a["id"])
        assert revoked.returncode == 0 and a["tenant"] in revoked.stdout
        again = await http.get("/v1/usage", headers=as_a)
        assert again.status_code == 401
    assert _keys("revoke", "key_nosuchkey").returncode == 1
    bad_name = _keys("create", "--tenant", "no spaces please")
    assert bad_name.returncode == 2 and "tenant" in bad_name.stderr
