"""``edgevoice bench --cluster``: what the cluster costs against one process.

Three measurements, each against real processes on 127.0.0.1:

- session setup, at the client: ``POST /v1/sessions`` → WHIP → the caller's peer
  connection ``connected``, sequentially, through one process (``serve``) and through a
  signalling to a node in another process (the internal-API hop, Redis for the record,
  the slot and the events);
- a node's CPU per echo session, cluster node vs ``serve``, in alternating steps of the
  same N in one run (the node's process alone is measured; the signalling and Redis
  run on the load generator's core);
- ``serve --nodes 2`` against ``--nodes 1``: echo sessions at zero loss, unpinned (on a
  2-core machine the load generator shares the cores with the nodes: the figure is the
  machine's, not one node's).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from ..localport import free_port
from . import metrics, servers
from .peers import BenchCaller
from .ramp import Audio, Limits, StepConfig, echo_step, ramp
from .report import Progress
from .servers import Target

SECRET = "bench-cluster-secret"


def _spawn(
    command: list[str], core: int | None, log: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    if core is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(core), *command]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + servers.START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited: {log.read_text(errors='replace')[-600:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {servers.START_SECONDS:.0f} s")


@contextlib.contextmanager
def cluster_target(
    node_core: int | None, other_core: int | None, api_key: str, logs: Path
) -> Iterator[Target]:
    """A private redis-server, one node (pinned to ``node_core``) and one signalling
    (with Redis on ``other_core``); the target is the signalling, the pid the node's."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "EDGEVOICE_API_KEY": api_key, "EDGEVOICE_CLUSTER_SECRET": SECRET,
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis_port = free_port()
        redis_bin = shutil.which("redis-server") or "redis-server"
        procs.append(_spawn([redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"], other_core,
                            logs / "redis.log", env))  # fmt: skip
        env["EDGEVOICE_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        node_port, sig_port = free_port(), free_port()
        python = [sys.executable, "-m", "edgevoice"]
        node = _spawn([*python, "node", "--region", "bench", "--node-id", "bench-1",
                       "--host", "127.0.0.1", "--port", str(node_port), "--model", "echo",
                       "--max-sessions", "2000", "--log-level", "warning"], node_core,
                      logs / "node.log", env)  # fmt: skip
        procs.append(node)
        _wait_http(f"http://127.0.0.1:{node_port}", node, logs / "node.log")
        sig = _spawn([*python, "signalling", "--region", "bench", "--host", "127.0.0.1",
                      "--port", str(sig_port), "--log-level", "warning"], other_core,
                     logs / "signalling.log", env)  # fmt: skip
        procs.append(sig)
        _wait_http(f"http://127.0.0.1:{sig_port}", sig, logs / "signalling.log")
        yield Target("cluster", f"http://127.0.0.1:{sig_port}", api_key, node.pid)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _setup_times(target: Target, audio: Audio, count: int) -> list[float]:
    """Seconds from create to the caller's peer connection ``connected``, one at a time."""
    times = []
    async with httpx.AsyncClient(base_url=target.url, timeout=20) as http:
        for _ in range(count):
            caller = BenchCaller(list(audio.speech), 0, probe=False)
            started = time.perf_counter()
            await caller.connect(http, target.api_key)
            times.append(time.perf_counter() - started)
            await caller.hang_up(http)
    return times


def setup_latency(target: Target, audio: Audio, count: int) -> dict[str, Any]:
    times = asyncio.run(_setup_times(target, audio, count))
    return metrics.percentiles(times[1:])  # the first one warms imports and pools


def run_cluster(
    args: Any,
    audio: Audio,
    cfg: StepConfig,
    limits: Limits,
    progress: Progress,
    cores: tuple[int | None, int | None],
) -> dict[str, Any]:
    key = args.api_key or "evk_bench_key"
    logs = args.out / "logs"
    n = args.cluster_sessions
    out: dict[str, Any] = {"setup_ms": {}, "cpu": [], "nodes": {}}

    def standalone() -> Target:
        return servers.start("edgevoice", core=cores[0], api_key=key, logs=logs)

    def clustered() -> contextlib.AbstractContextManager[Target]:
        return cluster_target(cores[0], cores[1], key, logs)

    openers: dict[str, Callable[[], contextlib.AbstractContextManager[Target]]] = {
        "single process": standalone,
        "signalling + node": clustered,
    }
    for rnd in range(args.cluster_rounds):
        for name, opener in openers.items():
            progress(f"{name} (round {rnd + 1}): session setup x{args.cluster_setups}")
            with opener() as target:
                if rnd == 0:
                    out["setup_ms"][name] = setup_latency(target, audio, args.cluster_setups)
                progress(f"{name} (round {rnd + 1}): {n} echo sessions")
                step = echo_step(target, n, audio, cfg, limits, progress)
                out["cpu"].append({"setup": name, "round": rnd + 1, **_cpu_fields(step)})
    for count in (1, 2):
        progress(f"serve --nodes {count}: ramp (unpinned, load generator on the same cores)")
        with servers.start(
            "edgevoice", core=None, api_key=key, logs=logs, extra=["--nodes", str(count)]
        ) as target:

            def echo_at(k: int, t: Target = target) -> dict[str, Any]:
                return echo_step(t, k, audio, cfg, limits, progress)

            result = ramp(
                echo_at,
                [int(x) for x in args.levels.split(",") if x.strip()],
                progress,
                lambda step: progress(f"  N={step['n']} breaks={step['breaks']}"),
            )
        out["nodes"][str(count)] = {
            "capacity": result["capacity"],
            "limit": result["limit"],
            "steps": [_cpu_fields(s) for s in result["steps"]],
        }
    out["cpu_ratio"] = _ratio(out["cpu"])
    return out


def _cpu_fields(step: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "connected", "server_cpu_cores", "cpu_per_session", "frames_sent",
            "echo_missing", "caller_lost", "server_lost", "breaks", "loadgen_cpu_cores")  # fmt: skip  # noqa: E501
    return {k: step.get(k) for k in keys}


def _ratio(rows: list[dict[str, Any]]) -> float | None:
    """Cluster node CPU per session / serve's, over all rounds (means)."""

    def mean(name: str) -> float | None:
        values = [r["cpu_per_session"] for r in rows if r["setup"] == name]
        return sum(values) / len(values) if values else None

    single, node = mean("single process"), mean("signalling + node")
    return round(node / single, 3) if single and node else None


def render(out: dict[str, Any]) -> str:
    lines = ["cluster vs single process", "  session setup (create + WHIP until connected), ms:"]
    for name, p in out["setup_ms"].items():
        lines.append(f"    {name:18} p50 {p['p50']}  p99 {p['p99']}  (n={p['count']})")
    lines.append("  node CPU per echo session (cores):")
    for row in out["cpu"]:
        lines.append(f"    round {row['round']} {row['setup']:18} N={row['n']} "
                     f"{row['cpu_per_session']}  lost {row['caller_lost']}")  # fmt: skip
    lines.append(f"  cluster / single CPU per session: {out['cpu_ratio']}")
    for count, result in out["nodes"].items():
        lines.append(f"  serve --nodes {count}: {result['capacity']} echo sessions at zero loss "
                     f"(limit: {result['limit']})")  # fmt: skip
    return "\n".join(lines)
