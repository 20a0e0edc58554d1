"""Callers the topology tests run inside the caller namespace (``ip netns exec``).

    python -m tests.topology.client get URL [--auth]
    python -m tests.topology.client rtts SIGNALLING      (each region's ping RTT)
    python -m tests.topology.client measure SIGNALLING [--region R ...] [--nearest]
    python -m tests.topology.client hold SIGNALLING --region R     (stdin: count | wait N | bye)

Each prints JSON on stdout. ``measure`` places, per region given (and/or once with
``--nearest``), one ``edgevoice probe`` call (first-hop RTT, echo round trip: the probe's
markers) and one voice call that times mouth-to-ear without a browser: tone bursts
spoken by :class:`~edgevoice.bench.caller.VoiceCaller` on its own 20 ms clock, the echo's
first audible packet at the caller minus the burst's mouth time (onset). ``hold`` keeps
an aiortc echo call up whose offer carries no candidates (only a relay can reach it)
and answers ``count`` with the echo packets heard so far.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

import httpx
import numpy as np

from edgevoice.bench.audio import probe_packets
from edgevoice.bench.caller import VoiceCaller
from edgevoice.bench.peers import BenchCaller
from edgevoice.bench.worker import Clock
from edgevoice.probe.nearest import region_rtts
from edgevoice.probe.session import probe

API_KEY = os.environ.get("EDGEVOICE_API_KEY", "")
AUTH = {"Authorization": f"Bearer {API_KEY}"}
RATE = 24_000
BURST_SECONDS = 0.1
BURST_EVERY = 0.8  # longer than the farthest echo (300 ms RTT) plus the burst


def burst_pcm() -> np.ndarray:
    """100 ms of a 1 kHz tone (about -12 dBFS), then silence up to ``BURST_EVERY``."""
    t = np.arange(int(RATE * BURST_SECONDS)) / RATE
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    return np.concatenate([tone, np.zeros(int(RATE * (BURST_EVERY - BURST_SECONDS)), np.int16)])


def strip_candidates(sdp: str) -> str:
    keep = [line for line in sdp.split("\r\n")
            if not line.startswith(("a=candidate:", "a=end-of-candidates"))]  # fmt: skip
    return "\r\n".join(keep)


async def create(http: httpx.AsyncClient, fields: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/v1/sessions", json={"model": "echo", **fields}, headers=AUTH)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def mouth_to_ear(target: str, fields: dict[str, Any], bursts: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=target, timeout=20) as http:
        session = await create(http, fields)
        caller = VoiceCaller()
        secret = session["client_secret"]["value"]
        resource: list[str] = []

        async def answer(offer: str) -> str:
            headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"}
            response = await http.post(session["whip_url"], content=offer, headers=headers)
            response.raise_for_status()
            resource.append(response.headers["location"])
            return response.text

        figures: list[float] = []
        try:
            async with asyncio.timeout(30):
                await caller.connect(answer)
                for _ in range(bursts):
                    utterance = caller.say(burst_pcm())
                    await utterance.sent.wait()
                    onset = caller.onset_time(utterance)
                    heard = await caller.audible_after(onset)
                    figures.append(round((heard - onset) * 1000, 1))
        finally:
            await caller.close()
            for url in resource:
                await http.delete(url, headers={"Authorization": f"Bearer {secret}"})
    return {"voice_node": session["node"]["id"], "mouth_to_ear_ms": figures,
            "mouth_to_ear_p50_ms": statistics.median(figures) if figures else None}  # fmt: skip


async def measure_one(target: str, fields: dict[str, Any], bursts: int) -> dict[str, Any]:
    result = await probe(target, API_KEY, seconds=6, limit_seconds=40, body=fields)
    voice = await mouth_to_ear(target, fields, bursts)
    return {**result.as_json(), **voice, "asked": fields}


async def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The pings first (``--nearest``), then every call at once (the nearest one first)."""
    asks: list[dict[str, Any]] = [{"region": r} for r in args.region]
    if args.nearest:
        asks.insert(0, {"client_rtt_ms": await region_rtts(args.target)})
    return list(await asyncio.gather(*(measure_one(args.target, f, args.bursts) for f in asks)))


async def hold(args: argparse.Namespace) -> None:
    caller = BenchCaller(probe_packets(), 0, probe=True)
    async with httpx.AsyncClient(base_url=args.target, timeout=20) as http:
        session = await create(http, {"region": args.region})
        secret = session["client_secret"]["value"]
        await caller.pc.setLocalDescription(await caller.pc.createOffer())
        offer = strip_candidates(caller.pc.localDescription.sdp)
        response = await http.post(session["whip_url"], content=offer, headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"})  # fmt: skip
        response.raise_for_status()
        caller.location, caller.token = response.headers.get("location"), secret
        from aiortc import RTCSessionDescription

        await caller.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        async with asyncio.timeout(20):
            await caller.connected.wait()
        clock = Clock([caller], asyncio.get_running_loop().time())
        candidates = [ln for ln in response.text.split("\r\n") if ln.startswith("a=candidate")]
        emit({"event": "connected", "session": session["id"], "node": session["node"],
              "candidates": candidates})  # fmt: skip
        loop = asyncio.get_running_loop()
        try:
            while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
                if line == "bye":
                    break
                if line.startswith("wait "):  # until N more echo packets came (or 15 s)
                    wanted = caller.inbound.packets + int(line.split()[1])
                    deadline = time.monotonic() + 15
                    while caller.inbound.packets < wanted and time.monotonic() < deadline:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                assert caller.ear is not None
                emit({"packets": caller.inbound.packets, "state": caller.pc.connectionState,
                      "echo_ms": [round(d * 1000, 1) for d in caller.ear.delays()]})  # fmt: skip
        finally:
            clock.stop()
            await caller.hang_up(http)


def emit(obj: Any) -> None:
    print(json.dumps(obj), flush=True)


async def get(args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        started = time.perf_counter()
        response = await http.get(args.url, headers=AUTH if args.auth else {})
        elapsed = time.perf_counter() - started
    body = response.json() if "json" in response.headers.get("content-type", "") else None
    return {"status": response.status_code, "body": body, "ms": round(elapsed * 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    from edgevoice.sfu.network import set_media_address

    parser = argparse.ArgumentParser(prog="python -m tests.topology.client")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("get")
    g.add_argument("url")
    g.add_argument("--auth", action="store_true")
    m = sub.add_parser("measure")
    m.add_argument("target")
    m.add_argument("--region", action="append", default=[])
    m.add_argument("--nearest", action="store_true")
    m.add_argument("--bursts", type=int, default=4)
    r = sub.add_parser("rtts")
    r.add_argument("target")
    h = sub.add_parser("hold")
    h.add_argument("target")
    h.add_argument("--region", required=True)
    parser.add_argument("--media-address", default="10.77.1.2")
    args = parser.parse_args(argv)
    set_media_address(args.media_address)
    if args.command == "get":
        emit(asyncio.run(get(args)))
    elif args.command == "rtts":
        emit(asyncio.run(region_rtts(args.target)))
    elif args.command == "measure":
        emit(asyncio.run(measure(args)))
    else:
        asyncio.run(hold(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
