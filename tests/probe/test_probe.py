"""``edgevoice probe`` against real servers on 127.0.0.1: a full echo session measured,
refusals and unreachable targets reported, ``--every`` storing results for /dashboard."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from edgevoice.localport import free_port
from edgevoice.probe.session import probe
from tests.conftest import API_KEY, Server
from tests.probe.endpoint import model_endpoint


async def test_a_probe_measures_a_full_echo_session(make_server: Callable[..., Any]) -> None:
    async with model_endpoint() as link, make_server(local_model_url=link) as server:
        ended = asyncio.Event()
        server.node.add_event_sink(
            lambda _id, event: ended.set() if event.get("type") == "session.ended" else None
        )
        result = await probe(server.url, API_KEY, seconds=8, limit_seconds=30)
        assert result.ok, result.reason
        assert (result.region, result.node) == ("local", "local")
        assert result.setup_ms is not None and 0 < result.setup_ms < 10_000
        assert result.rtt_ms is not None and 0 <= result.rtt_ms < 1000
        assert result.echo_rtt_ms is not None and 0 < result.echo_rtt_ms < 1000
        assert result.model_link_rtt_ms is not None and result.model_link_rtt_ms >= 0
        # the probe hung up: its session ended and freed the node
        async with asyncio.timeout(10):
            await ended.wait()
        assert not server.node.sessions


async def test_a_refused_key_and_an_unreachable_target_fail_with_a_reason(
    server: Server,
) -> None:
    refused = await probe(server.url, "evk_wrong", seconds=2, limit_seconds=10)
    assert not refused.ok and refused.reason is not None and "401" in refused.reason
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = await probe(nobody, API_KEY, seconds=2, limit_seconds=10)
    assert not unreachable.ok and "ConnectError" in (unreachable.reason or "")


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edgevoice", "probe", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "EDGEVOICE_API_KEY"},
    )  # fmt: skip
    async with asyncio.timeout(90):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_every_stores_results_and_thresholds_set_the_exit_status(
    server: Server,
) -> None:
    code, out, err = await _cli(
        server.url, "--api-key", API_KEY, "--json", "--every", "0.5", "--rounds", "2"
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and all(line["ok"] for line in lines)
    for line in lines:
        assert {"setup_ms", "rtt_ms", "echo_rtt_ms", "model_link_rtt_ms", "region", "node",
                "ok"} <= line.keys()  # fmt: skip
    stored = (await server.http.get("/v1/dashboard", headers=server.auth)).json()["probes"]
    assert [p["t"] for p in stored] == [line["t"] for line in lines]
    assert stored[0]["target"] == server.url and stored[0]["region"] == "local"

    code, out, err = await _cli(server.url, "--api-key", API_KEY, "--max-setup-ms", "0.01")
    assert code == 1
    assert "threshold crossed: setup" in err and "> --max-setup-ms 0.01" in err
    assert out.splitlines()[0].split()[:3] == ["target", "region", "node"]
    assert len((await server.http.get("/v1/dashboard", headers=server.auth)).json()["probes"]) == 2

    code, _, err = await _cli(server.url)  # no key in the environment
    assert code == 2 and "no API key" in err
