"""``edgevoice bench``: ramp echo sessions (and fan-out listeners) until quality breaks."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from . import metrics, report, servers
from .audio import encode, probe_packets, speech_pcm
from .calibrate import calibrate
from .fanout import fanout_step
from .ramp import Audio, Limits, StepConfig, echo_step, ramp
from .servers import Target

DEFAULT_LEVELS = "2,5,10,15,20,30,40,50,60,70,80,90,100"
DEFAULT_FANOUT = "10,25,50,100,200,300,400,500"
SMOKE = {"levels": "2", "fanout_levels": "2", "window": 2.0, "settle": 1.0, "probes": 1}


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench", help="load-test a server: echo sessions and fan-out listeners", description=__doc__
    )
    p.add_argument("--target", help="bench this running server instead of starting servers")
    p.add_argument(
        "--api-key",
        default=os.environ.get("EDGEVOICE_API_KEY"),
        help="the target's API key (default $EDGEVOICE_API_KEY)",
    )
    p.add_argument("--server-pid", type=int, help="the target's pid, for CPU and memory")
    p.add_argument(
        "--servers",
        default="edgevoice,naive,fastrtc",
        help="servers to start and compare (edgevoice, naive, fastrtc)",
    )
    p.add_argument(
        "--mode",
        choices=["echo", "fanout", "both", "conversation"],
        default="both",
        help="conversation: voice-to-voice and barge-in at a caller, offline model "
        "(edgevoice/bench/conversation.py)",
    )
    p.add_argument("--conversation-runs", type=int, default=5, help="calls in conversation mode")
    p.add_argument(
        "--model-delay-ms", type=float, default=0.0, help="conversation: model link delay each way"
    )
    p.add_argument(
        "--levels",
        default=DEFAULT_LEVELS,
        help="echo session counts to ramp (then on in the last stride while no limit broke)",
    )
    p.add_argument(
        "--fanout-levels", default=DEFAULT_FANOUT, help="listener counts to ramp (likewise)"
    )
    p.add_argument("--fanout-servers", default="edgevoice,naive")
    p.add_argument("--window", type=float, default=6.0, help="seconds measured per step")
    p.add_argument("--settle", type=float, default=2.0, help="seconds before measuring")
    p.add_argument("--probes", type=int, default=6, help="callers that decode their echo")
    p.add_argument("--ingress-p99-ms", type=float, default=5.0)
    p.add_argument("--rtt-p99-ms", type=float, default=150.0, help="echo round trip bound")
    p.add_argument("--server-core", default="0", help="core the servers are pinned to, or none")
    p.add_argument("--loadgen-core", default="1", help="core the load generator uses, or none")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("bench-results"),
        help="folder for the JSON report, the PNG plot and server logs",
    )
    p.add_argument("--smoke", action="store_true", help="tiny N, ~10 s: keeps the bench working")
    p.add_argument(
        "--cluster",
        action="store_true",
        help="compare the cluster with one process: session setup, node CPU per session, "
        "serve --nodes 2 vs 1 (see edgevoice/bench/cluster.py)",
    )
    p.add_argument("--cluster-sessions", type=int, default=40, help="echo sessions per CPU step")
    p.add_argument("--cluster-setups", type=int, default=31, help="sessions timed for setup")
    p.add_argument("--cluster-rounds", type=int, default=2, help="alternating CPU rounds")
    from .soak import add_arguments as add_soak

    add_soak(p)
    p.set_defaults(handler=run)


def _core(text: str) -> int | None:
    return None if text.lower() == "none" or (os.cpu_count() or 1) < 2 else int(text)


def _levels(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def run(args: argparse.Namespace) -> int:
    if args.target and not args.api_key:
        print(
            "edgevoice bench: --target needs the server's API key: pass --api-key "
            "(the key `edgevoice serve` printed) or set EDGEVOICE_API_KEY",
            file=sys.stderr,
        )
        return 2
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
        if not args.target:
            args.servers = "edgevoice"
    from ..sfu.network import set_media_address

    set_media_address("127.0.0.1")
    progress = report.Progress()
    progress("timing SRTP and sendto on the server's core (machine calibration)")
    calibration = calibrate(_core(args.server_core))
    if args.mode == "conversation":
        return _conversation(args, calibration)
    loadgen_core = _core(args.loadgen_core)
    if loadgen_core is not None:
        os.sched_setaffinity(0, {loadgen_core})
    progress("encoding the speech samples to Opus (once)")
    audio = Audio(encode(speech_pcm()), probe_packets())
    cfg = StepConfig(settle_s=args.settle, window_s=args.window, probes=args.probes)
    limits = Limits(ingress_p99_ms=args.ingress_p99_ms, rtt_p99_ms=args.rtt_p99_ms)
    if args.soak:
        from .soak import run_soak

        return run_soak(args, audio, cfg, limits, progress, calibration)
    out: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(["edgevoice", *sys.argv[1:]]) if sys.argv else "edgevoice bench",
        "machine": {**metrics.machine(), "calibration": calibration},
        "versions": _versions(),
        "config": {
            "levels": _levels(args.levels),
            "fanout_levels": _levels(args.fanout_levels),
            "window_s": args.window,
            "settle_s": args.settle,
            "probes": args.probes,
            "limits": vars(limits),
            "server_core": args.server_core,
            "loadgen_core": args.loadgen_core,
            "smoke": args.smoke,
        },
        "echo": {},
        "fanout": {},
    }
    if args.cluster:
        from .cluster import render, run_cluster

        cores = (_core(args.server_core), _core(args.loadgen_core))
        out["cluster"] = run_cluster(args, audio, cfg, limits, progress, cores)
        progress.done()
        report.write_json(out, args.out / "cluster.json")
        print(render(out["cluster"]) + f"\n\nJSON: {args.out / 'cluster.json'}")
        return 0
    for name, opener in _targets(args):
        _bench_one(name, opener, args, audio, cfg, limits, progress, out)
    progress.done()
    out["ratios"] = report.ratios(out)
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    json_path = args.out / ("bench-smoke.json" if args.smoke else "bench.json")
    report.write_json(out, json_path)
    png = None if args.smoke else _plot(out, args.out / "bench.png")
    print(report.render(out))
    print(f"\nJSON: {json_path}" + (f"\nplot: {png}" if png else ""))
    return 0


def _conversation(args: argparse.Namespace, calibration: dict[str, Any]) -> int:
    from .conversation import main as conversation

    print(
        f"machine: SRTP protect {calibration['srtp_protect_us']} µs, loopback sendto "
        f"{calibration['loopback_sendto_us']} µs per packet (on the server's core)",
        flush=True,
    )
    return conversation(
        [
            *("--runs", str(args.conversation_runs)),
            *("--model-delay-ms", str(args.model_delay_ms)),
            *("--server-core", args.server_core, "--caller-core", args.loadgen_core),
            *("--out", str(args.out / "conversation")),
        ]
    )


def _plot(out: dict[str, Any], path: Path) -> Path | None:
    from .plot import plot

    return plot(out, path)


def _targets(args: argparse.Namespace) -> list[tuple[str, Callable[[], Target]]]:
    if args.target:
        key = args.api_key or ""
        return [("target", lambda: servers.attach(args.target, key, args.server_pid))]
    key = args.api_key or "evk_bench_key"
    core = _core(args.server_core)
    logs = args.out / "logs"
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    return [(n, _opener(n, core, key, logs)) for n in names]


def _opener(name: str, core: int | None, key: str, logs: Path) -> Callable[[], Target]:
    return lambda: servers.start(name, core=core, api_key=key, logs=logs)


def _bench_one(
    name: str,
    opener: Callable[[], Target],
    args: argparse.Namespace,
    audio: Audio,
    cfg: StepConfig,
    limits: Limits,
    progress: report.Progress,
    out: dict[str, Any],
) -> None:
    progress(f"starting {name}")
    try:
        target = opener()
    except (RuntimeError, OSError) as exc:
        out["echo"][name] = {"skipped": str(exc)[:400]}
        print(f"{name}: not benchmarked: {exc}", file=sys.stderr)
        return
    cores = (None, None) if args.target else (_core(args.server_core), _core(args.loadgen_core))
    with target:
        idle = metrics.sample(metrics.descendants(target.pid)) if target.pid else None
        if args.mode in ("echo", "both"):
            result = ramp(
                lambda n: echo_step(target, n, audio, cfg, limits, progress),
                _levels(args.levels),
                progress,
                _printer(name, "echo"),
                cores,
            )
            result["idle_rss_mib"] = round(idle.rss / 2**20, 1) if idle else None
            out["echo"][name] = result
        fanout_names = [*args.fanout_servers.split(","), "target"]
        if args.mode in ("fanout", "both") and name in fanout_names:
            result = ramp(
                lambda n: fanout_step(target, n, audio, cfg, limits, progress),
                _levels(args.fanout_levels),
                progress,
                _printer(name, "fanout"),
                cores,
            )
            result["capacity_streams"] = 2 * result["capacity"]
            out["fanout"][name] = result


def _printer(name: str, mode: str) -> Callable[[dict[str, Any]], None]:
    def show(step: dict[str, Any]) -> None:
        row = report.echo_row(step) if mode == "echo" else report.fanout_row(step)
        cols = report.ECHO_COLUMNS if mode == "echo" else report.FANOUT_COLUMNS
        text = "  ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True))
        print(
            f"\r\x1b[2K[{name} {mode}] {text}"
            if sys.stderr.isatty()
            else f"[{name} {mode}] {text}",
            flush=True,
        )

    return show


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("edgevoice", "aiortc", "aioice", "av", "uvloop"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[package] = metadata.version(package)
    return out
