"""``edgevoice relay`` in front of a node, real processes on 127.0.0.1: the caller's
offer carries no candidates (the node cannot reach it), the answer names only the relay,
the echo comes back through it, and the call survives a relay restart."""

from __future__ import annotations

import asyncio
import signal

import httpx

from edgevoice.localport import free_port
from tests.cluster.harness import Proc, cluster, create, spawn, whip
from tests.peers import Caller


def without_candidates(sdp: str) -> str:
    """The offer with no way back to the caller: it is reachable only by answering the
    checks it sends (through the relay)."""
    keep = [line for line in sdp.split("\r\n")
            if not line.startswith(("a=candidate:", "a=end-of-candidates"))]  # fmt: skip
    return "\r\n".join(keep)


async def test_a_call_through_the_relay_survives_a_relay_restart() -> None:
    async with cluster() as c, httpx.AsyncClient(timeout=20) as http:
        relay_port = free_port()
        listen = f"127.0.0.1:{relay_port}"

        async def start_relay() -> Proc:
            relay = await spawn("relay", "relay", "--listen", listen, env=c.env)
            c.procs.append(relay)
            await relay.wait_for("edgevoice relay ready", 30)
            return relay

        relay = await start_relay()
        await c.node("behind-1", "eu", "--relay", listen)
        sig = await c.signalling("eu")
        session = (await create(http, sig.url)).json()
        caller = Caller("hello.wav", loop_audio=True)
        try:
            offer = without_candidates(await caller.offer())
            answer = await whip(http, session["whip_url"], session["client_secret"]["value"], offer)
            assert answer.status_code == 201, answer.text
            candidates = [ln for ln in answer.text.split("\r\n") if ln.startswith("a=candidate")]
            assert candidates == [
                f"a=candidate:relay 1 udp 2130706431 127.0.0.1 {relay_port} typ host"
            ]
            await caller.accept(answer.text)
            reply = await caller.track(0)
            async with asyncio.timeout(20):
                await caller.next_event("state", state="connected")
                await reply.wait_frames(50)

            relay.signal(signal.SIGTERM)
            assert await relay.exited(10) == 0
            restarted = await start_relay()
            assert "1 flows restored" in restarted.output
            frames = reply.frames
            async with asyncio.timeout(15):
                await reply.wait_frames(frames + 100)  # two more seconds of echo
            assert caller.pc.connectionState == "connected"
        finally:
            await caller.close()
