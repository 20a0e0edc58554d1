"""Conversation latency at the caller: voice-to-voice and barge-in over several turns.

``python -m edgevoice.bench.conversation`` starts the offline model server and
``edgevoice serve --model local`` pinned to the server core (optionally with the model
link delayed by ``--model-delay-ms`` each way through :class:`DelayProxy`), then runs
a scripted conversation (:data:`PLAN`) ``--runs`` times with one :class:`VoiceCaller`
per run, and prints p50/p99 of each figure with the per-turn waterfall the bridge
reports. ``run_plan`` is what the tests use against an in-process session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ..bridge.latency import percentile
from ..localport import free_port
from .audio import DATA, wav_pcm
from .caller import Answerer, VoiceCaller, run_end
from .delayproxy import DelayProxy

API_KEY = "evk_conversation_bench"
TURN_TIMEOUT = 15.0
INTO_REPLY = 0.8  # the caller talks over the reply this long after it started


@dataclass(frozen=True)
class Step:
    kind: str  # "answer", "barge" (talk over the reply) or "cough" (a short noise over it)
    say: str
    over: str | None = None


PLAN = (
    Step("answer", "hello.wav"),
    Step("barge", "book_appointment.wav", "goodbye.wav"),
    Step("answer", "what_time.wav"),
    Step("barge", "hello.wav", "book_appointment.wav"),
    Step("cough", "goodbye.wav"),
)


def wav24k(name: str) -> np.ndarray:
    return wav_pcm(DATA / name)


def cough(source: np.ndarray, ms: int = 60) -> np.ndarray:
    """``ms`` of the loudest part of ``source``: a short noise the edge VAD hears but a
    model's VAD (100 ms of speech to start a turn) does not (pure)."""
    n = 24 * ms
    energy = np.convolve(source.astype(np.float32) ** 2, np.ones(n), "valid")
    start = int(np.argmax(energy))
    out: np.ndarray = source[start : start + n].copy()
    return out


async def _answered(caller: VoiceCaller, pcm: np.ndarray) -> tuple[float, float]:
    """Say ``pcm``, wait for the reply's first audio: (speech end, first audio) times."""
    utterance = caller.say(pcm)
    await utterance.sent.wait()
    end = caller.end_time(utterance)
    return end, await caller.audible_after(end)


async def run_step(caller: VoiceCaller, step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": step.kind, "say": step.say}
    async with asyncio.timeout(TURN_TIMEOUT):
        end, first = await _answered(caller, wav24k(step.say))
        out["voice_to_voice_ms"] = round((first - end) * 1000, 1)
        await caller.until(lambda: caller.event("turn", end) is not None)
        out["waterfall"] = caller.event("turn", end)
        if step.kind == "answer":
            await caller.quiet()
            return out
        await caller.until(lambda: caller.heard[-1][0] >= first + INTO_REPLY)
        over = cough(wav24k(step.say)) if step.kind == "cough" else wav24k(step.over or "")
        utterance = caller.say(over)
        await utterance.sent.wait()
        onset = caller.onset_time(utterance)
        out["barge_in_ms"] = round((run_end(caller.heard, onset) - onset) * 1000, 1)
        if step.kind == "cough":
            # the reply must go on once the pause found no confirmation
            await caller.until(lambda: caller.count("reply.resumed", onset) > 0)
            resumed_at = time.perf_counter()
            await caller.audible_after(resumed_at)
            out["resumed"] = True
            out["truncated"] = caller.count("barge_in", onset) > 0
            await caller.quiet()
            return out
        out["truncated"] = caller.count("barge_in", onset) > 0
        end2 = caller.end_time(utterance)
        first2 = await caller.audible_after(end2)
        out["answer_after_barge_ms"] = round((first2 - end2) * 1000, 1)
        await caller.quiet()
    return out


async def run_plan(answerer: Answerer, plan: tuple[Step, ...] = PLAN) -> dict[str, Any]:
    """One call through ``plan``: every step's figures, and the events' tallies."""
    caller = VoiceCaller()
    try:
        await caller.connect(answerer)
        await asyncio.sleep(0.3)  # let the model session settle before the first turn
        steps = [await run_step(caller, step) for step in plan]
        transcripts = [e for _, e in caller.events if e.get("type") == "transcript"]
        return {
            "steps": steps,
            "barge_in_events": caller.count("barge_in"),
            "pauses": caller.count("reply.paused"),
            "resumes": caller.count("reply.resumed"),
            "transcripts": transcripts,
        }
    finally:
        await caller.close()


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p99 of each figure over every step of every run (pure)."""

    def pct(values: list[float]) -> dict[str, Any]:
        ordered = sorted(values)
        if not ordered:
            return {"n": 0}
        return {
            "n": len(ordered),
            "p50": round(percentile(ordered, 50), 1),
            "p99": round(percentile(ordered, 99), 1),
            "min": ordered[0],
            "max": ordered[-1],
        }

    steps = [s for run in runs for s in run["steps"]]
    v2v = [s["voice_to_voice_ms"] for s in steps] + [
        s["answer_after_barge_ms"] for s in steps if "answer_after_barge_ms" in s
    ]
    parts: dict[str, list[float]] = {}
    for s in steps:
        for key, value in (s.get("waterfall") or {}).items():
            if key.endswith("_ms") and isinstance(value, int | float):
                parts.setdefault(key, []).append(float(value))
    return {
        "voice_to_voice_ms": pct(v2v),
        "barge_in_ms": pct([s["barge_in_ms"] for s in steps if s["kind"] == "barge"]),
        "cough_pause_ms": pct([s["barge_in_ms"] for s in steps if s["kind"] == "cough"]),
        "waterfall_p50_ms": {k: pct(v)["p50"] for k, v in parts.items()},
        "spurious_barge_ins": sum(
            r["barge_in_events"] - sum(1 for s in r["steps"] if s.get("truncated")) for r in runs
        ),
    }


# ---- the bench run: servers in subprocesses ---------------------------------------------
def _pinned(command: list[str], core: str) -> list[str]:
    if core != "none" and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", core, *command]
    return command


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} after {seconds:.0f} s")


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _bench(args: argparse.Namespace) -> dict[str, Any]:
    logs = Path(args.out)
    logs.mkdir(parents=True, exist_ok=True)
    model_port, http_port, proxy_port = free_port(), free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "EDGEVOICE_API_KEY": API_KEY}
    python = [sys.executable, "-m", "edgevoice"]
    model = [*python, "model-server", "--host", "127.0.0.1", "--port", str(model_port)]
    port = proxy_port if args.model_delay_ms else model_port
    serve = [
        *python, "serve", "--model", "local", "--host", "127.0.0.1", "--port", str(http_port),
        "--media-address", "127.0.0.1", "--log-level", "warning",
    ]  # fmt: skip
    serve_env = {**env, "EDGEVOICE_LOCAL_MODEL_URL": f"ws://127.0.0.1:{port}/v1/realtime"}
    procs = [_start(_pinned(model, args.server_core), env, logs / "model-server.log")]
    try:
        _wait_port(model_port, procs[0])
        procs.append(_start(_pinned(serve, args.server_core), serve_env, logs / "serve.log"))
        _wait_port(http_port, procs[1])
        if args.caller_core != "none" and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {int(args.caller_core)})
        runs = asyncio.run(_runs(args, http_port, model_port, proxy_port))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "model_delay_ms_each_way": args.model_delay_ms,
        "server_core": args.server_core,
        "caller_core": args.caller_core,
        "summary": summarize(runs),
        "runs": runs,
    }


def _loadavg() -> list[str]:
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


async def _runs(
    args: argparse.Namespace, http_port: int, model_port: int, proxy_port: int
) -> list[dict[str, Any]]:
    from ..sfu.network import set_media_address

    set_media_address("127.0.0.1")
    runs = []
    async with (
        DelayProxy(model_port, args.model_delay_ms / 1000, proxy_port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=20) as http,
    ):
        for index in range(args.runs):
            load = _loadavg()
            run = await run_plan(_whip(http))
            run["loadavg_before"] = load
            runs.append(run)
            print(json.dumps({"run": index, "load": load, **summarize([run])}), flush=True)
    return runs


def _whip(http: httpx.AsyncClient) -> Answerer:
    async def answer(offer: str) -> str:
        auth = {"Authorization": f"Bearer {API_KEY}"}
        created = await http.post("/v1/sessions", json={"model": "local"}, headers=auth)
        created.raise_for_status()
        body = created.json()
        secret = body["client_secret"]["value"]
        response = await http.post(
            body["whip_url"],
            content=offer,
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"},
        )
        response.raise_for_status()
        return response.text

    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model-delay-ms", type=float, default=0.0, help="each way")
    parser.add_argument("--server-core", default="0")
    parser.add_argument("--caller-core", default="1")
    parser.add_argument("--out", default="bench-results/conversation")
    args = parser.parse_args(argv)
    result = _bench(args)
    path = Path(args.out) / f"conversation-delay{int(args.model_delay_ms)}.json"
    path.write_text(json.dumps(result, indent=1))
    print(json.dumps(result["summary"], indent=1))
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
