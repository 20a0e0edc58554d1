"""TURN REST credentials proven against Debian's coturn: a relay-only caller completes
an echo call through it (everything on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from edgevoice.localport import free_port
from tests.peers import Caller

SECRET = "turn-test-secret"


@pytest.fixture
async def coturn(tmp_path: Path) -> AsyncIterator[str]:
    binary = shutil.which("turnserver")
    assert binary, "coturn is not installed (scripts/test.sh installs it)"
    port = free_port()
    relay = free_port()
    proc = await asyncio.create_subprocess_exec(
        binary, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
        f"--listening-port={port}", f"--min-port={relay}", f"--max-port={relay + 20}",
        "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=edgevoice.test",
        "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp-relay",
        "--log-file=stdout", "--simple-log", "--no-multicast-peers",
        f"--pidfile={tmp_path / 'turn.pid'}", f"--db={tmp_path / 'turndb'}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    log: list[str] = []
    async with asyncio.timeout(15):
        async for line in proc.stdout:
            log.append(line.decode(errors="replace"))
            if b"Total General servers" in line:
                break
        else:
            raise AssertionError("coturn did not start:\n" + "".join(log))
    drain = asyncio.create_task(_collect(proc.stdout, log))
    try:
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        proc.terminate()
        await proc.wait()
        drain.cancel()


async def _collect(stream: asyncio.StreamReader, log: list[str]) -> None:
    async for line in stream:
        log.append(line.decode(errors="replace"))


async def test_relay_only_caller_completes_an_echo_call_through_coturn(
    coturn: str, make_server: Callable[..., Any]
) -> None:
    async with make_server(ice_servers=[coturn], turn_secret=SECRET) as server:
        session = await server.create_session()
        (turn,) = session["ice_servers"]
        assert turn["username"].endswith(":" + session["id"])  # TURN REST: expiry:user
        config = RTCConfiguration(
            iceServers=[RTCIceServer(turn["urls"], turn["username"], turn["credential"])],
            iceTransportPolicy=RTCIceTransportPolicy.RELAY,
        )
        caller = Caller("hello.wav", loop_audio=True, config=config)
        try:
            offer = await caller.offer()
            candidates = [line for line in offer.split("\r\n") if line.startswith("a=candidate")]
            assert candidates and all(" typ relay" in line for line in candidates), offer
            answer = await server.whip(session["client_secret"]["value"], offer)
            assert answer.status_code == 201, answer.text
            await caller.accept(answer.text)
            async with asyncio.timeout(20):
                await caller.next_event("state", state="connected")
                await (await caller.track(0)).wait_frames(25)
        finally:
            await caller.close()


async def test_wrong_turn_credentials_get_no_relay(coturn: str) -> None:
    config = RTCConfiguration(
        iceServers=[RTCIceServer(coturn, f"{int(time.time()) + 600}:nobody", "wrong")],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY,
    )
    caller = Caller(None, config=config)
    try:
        offer = await caller.offer()
        assert "typ relay" not in offer  # coturn refused the allocation
    finally:
        await caller.close()
