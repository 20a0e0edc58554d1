"""A caller that never completes ICE is ended after the connect timeout, freeing its
capacity slot, its UDP ports and its (pre-opened) model link."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import Server
from tests.peers import Caller
from tests.realtime.peer import running_peer


def candidate_ports(answer: str) -> set[int]:
    return {int(m) for m in re.findall(r"a=candidate:\S+ \d+ udp \d+ \S+ (\d+)", answer)}


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_a_caller_that_never_connects_is_ended_and_frees_everything(
    make_server: Callable[..., Any],
) -> None:
    async with running_peer() as model:
        async with make_server(
            model="local", local_model_url=model.url, connect_timeout=2, max_sessions=1
        ) as server:
            s: Server = server
            session = await s.create_session(model="local")
            caller = Caller(None)  # it offers, then never takes the answer: no ICE, no DTLS
            try:
                started = time.monotonic()
                answer = await s.whip(session["client_secret"]["value"], await caller.offer())
                assert answer.status_code == 201, answer.text
                link = await model.accept()  # the model link is pre-opened at the offer
                live = s.node.sessions[session["id"]]
                ports = candidate_ports(answer.text)
                assert ports and not any(port_is_free(p) for p in ports)
                full = await s.http.post("/v1/sessions", json={"model": "echo"}, headers=s.auth)
                assert full.status_code == 503  # the one slot is held

                async with asyncio.timeout(10):
                    await live.ended.wait()
                    await link.closed.wait()  # the model link is closed with it
                elapsed = time.monotonic() - started
                assert 1.5 <= elapsed < 8, elapsed
                await s.service_tasks()
                body = (await s.http.get(f"/v1/sessions/{session['id']}", headers=s.auth)).json()
                assert body["state"] == "closed" and body["end_reason"] == "connect_timeout"
                assert session["id"] not in s.node.sessions and s.node.load == 0
                assert all(port_is_free(p) for p in ports)
                again = await s.http.post("/v1/sessions", json={"model": "echo"}, headers=s.auth)
                assert again.status_code == 201, again.text  # the slot is back
            finally:
                await caller.close()


async def test_a_connected_call_outlives_the_connect_timeout(
    make_server: Callable[..., Any],
) -> None:
    async with make_server(connect_timeout=1) as server:
        caller = Caller("hello.wav", loop_audio=True)
        try:
            session = await server.connect(caller)
            async with asyncio.timeout(10):
                reply = await caller.track(0)
                await reply.wait_frames(100)  # 2 s of echo: past the connect timeout
            assert session["id"] in server.node.sessions
            assert not any(e.get("reason") == "connect_timeout" for e in caller.events)
        finally:
            await caller.close()
