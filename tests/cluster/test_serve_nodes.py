"""``edgevoice serve --nodes N`` as a user runs it, and the clear refusals of cluster
processes started without what a cluster needs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from edgevoice.localport import free_port
from tests.cluster.harness import API_KEY, AUTH, create, spawn, whip
from tests.peers import Caller
from tests.test_serve import _alive, _children


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


async def test_serve_nodes_2_runs_one_signalling_and_two_nodes() -> None:
    port = free_port()
    proc = await spawn(
        "serve", "serve", "--nodes", "2", "--model", "echo", "--port", str(port),
        "--drain-seconds", "5", env={"EDGEVOICE_API_KEY": API_KEY},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await proc.wait_for("edgevoice ready", 120)
        assert "started a private redis-server" in proc.output
        pids = _children(proc.proc.pid)
        children = [_cmdline(pid) for pid in pids]
        assert sum("redis-server" in c for c in children) == 1
        assert sum(" node " in c for c in children) == 2
        async with httpx.AsyncClient(timeout=20) as http:
            nodes = (await http.get(f"{base}/v1/nodes", headers=AUTH)).json()["nodes"]
            assert len(nodes) == 2 and len({n["url"] for n in nodes}) == 2
            first = (await create(http, base)).json()
            second = (await create(http, base)).json()
            assert first["node"]["id"] != second["node"]["id"]  # least loaded first
            caller = Caller("hello.wav", loop_audio=True)
            try:
                answer = await whip(http, first["whip_url"], first["client_secret"]["value"],
                                    await caller.offer())  # fmt: skip
                assert answer.status_code == 201, answer.text
                await caller.accept(answer.text)
                async with asyncio.timeout(15):
                    await caller.next_event("state", state="connected")
                    await (await caller.track(0)).wait_frames(25)
            finally:
                await caller.close()
        proc.signal(signal.SIGTERM)
        assert await proc.exited(30) == 0
        assert not [pid for pid in pids if _alive(pid)]  # serve took its children down
    finally:
        proc.signal(signal.SIGKILL)


def _run(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEVOICE_")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "edgevoice", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cluster_processes_refuse_to_start_without_what_a_cluster_needs() -> None:
    signalling = _run("signalling", "--redis-url", "redis://127.0.0.1:1/0")  # no Redis, no keys
    assert signalling.returncode == 2
    assert "EDGEVOICE_API_KEY" in signalling.stderr
    assert "EDGEVOICE_CLUSTER_SECRET" in signalling.stderr
    node = _run("node", "--region", "eu")
    assert node.returncode == 2 and "--redis-url" in node.stderr
    no_redis = _run(
        "serve", "--nodes", "2", "--model", "echo", path=str(Path(sys.executable).parent)
    )
    assert no_redis.returncode == 2
    assert "redis-server" in no_redis.stderr and "--redis-url" in no_redis.stderr
    bad = _run("serve", "--nodes", "zero")
    assert bad.returncode == 2 and "--nodes" in bad.stderr
