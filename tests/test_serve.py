"""``edgevoice serve`` as a user runs it: the offline model comes and goes with it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_serve_starts_the_offline_model_and_takes_it_down_on_sigterm() -> None:
    port = free_port()
    env = {**os.environ, "EDGEVOICE_API_KEY": "evk_serve_test"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgevoice", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the ready banner is the event to wait for
            lines.append(line)
            if line.startswith("edgevoice ready"):
                break
        else:
            raise AssertionError("serve exited:\n" + "".join(lines))
        for line in proc.stdout:
            lines.append(line)
            if "demo page" in line:
                break
        banner = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in banner
        assert "model     local" in banner
        # a key from the environment is not printed (only one serve generated)
        assert "evk_serve_test" not in banner and "from EDGEVOICE_API_KEY" in banner
        config = httpx.get(f"http://127.0.0.1:{port}/v1/demo/config", timeout=5).json()
        assert config == {"models": ["echo", "local"], "default_model": "local"}
        models = _children(proc.pid)
        assert len(models) == 1 and _alive(models[0])
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        deadline = time.monotonic() + 10
        while _alive(models[0]) and time.monotonic() < deadline:
            time.sleep(0.05)  # a process's exit has no event to wait on from here
        assert not _alive(models[0]), "the offline model server outlived serve"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_a_killed_offline_model_server_is_started_again_and_calls_use_it() -> None:
    from tests.cluster.harness import API_KEY, AUTH, create, spawn, whip
    from tests.peers import Caller

    port = free_port()
    serve = await spawn("serve", "serve", "--port", str(port), "--model", "local",
                        env={"EDGEVOICE_API_KEY": API_KEY})  # fmt: skip
    try:
        await serve.wait_for("edgevoice ready", 120)
        (first,) = _children(serve.proc.pid)
        os.kill(first, signal.SIGKILL)
        await serve.wait_for("the offline model server is back", 120)
        assert "exited (-9); starting it again" in serve.output
        (second,) = _children(serve.proc.pid)
        assert second != first and _alive(second)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=20) as http:
            session = (await create(http, base, model="local")).json()
            caller = Caller("hello.wav")
            try:
                answer = await whip(http, session["whip_url"], session["client_secret"]["value"],
                                    await caller.offer())  # fmt: skip
                assert answer.status_code == 201, answer.text  # the model link opened
                await caller.accept(answer.text)
                async with asyncio.timeout(15):
                    await caller.next_event("state", state="connected")
            finally:
                await caller.close()
            assert (
                await http.get(f"{base}/v1/sessions/{session['id']}", headers=AUTH)
            ).status_code == 200
    finally:
        serve.signal(signal.SIGTERM)
        await serve.exited(30)
