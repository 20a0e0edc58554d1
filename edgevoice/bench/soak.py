"""``edgevoice bench --soak DURATION``: hold a fraction of capacity for a long time.

N = ``--soak-fraction`` x capacity echo callers (capacity given with
``--soak-capacity``, else measured first with the usual echo ramp) connect once and
talk for DURATION. Every ``--soak-interval`` seconds the soak records the server's RSS
and CPU, the echo round trip heard by the probe callers (percentiles over that
interval), the server's per-hop latency, and the frames lost so far. At the end:
the RSS slope (least squares over the samples after the first fifth of the run, in
MiB per hour), the frames lost in all, and the table over time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from . import metrics, report, servers
from .loadgen import Fleet
from .ramp import (
    TAIL_FRAMES,
    Audio,
    Limits,
    StepConfig,
    _hop,
    _spec,
    _split,
    _spread,
    echo_step,
    server_stats,
)
from .ramp import ramp as run_ramp

WARMUP_FRACTION = 0.2  # samples before this share of the run are left out of the slope


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--soak",
        type=duration,
        metavar="DURATION",
        help="soak mode: hold --soak-fraction of capacity for DURATION (90s, 5m, 30m, 1h)",
    )
    p.add_argument("--soak-fraction", type=float, default=0.8, help="share of capacity held")
    p.add_argument(
        "--soak-capacity", type=int, help="capacity in echo sessions (default: measure it)"
    )
    p.add_argument("--soak-interval", type=float, default=30.0, help="seconds per sample")


def duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``1h``, ``1h30m`` → seconds."""
    parts = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 5m, 30m, 1h)")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    seconds = h * 3600 + m * 60 + s
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the soak lasts more than 0 s")
    return seconds


def slope_per_hour(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, in value per hour."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 3600


def sessions_for(capacity: int, fraction: float) -> int:
    return max(1, round(capacity * fraction))


def _core(text: str) -> int | None:
    return None if text.lower() == "none" or (os.cpu_count() or 1) < 2 else int(text)


def _lost(
    counters: dict[str, Any], stats: Sequence[dict[str, Any]], connected: int, final: bool = True
) -> dict[str, int]:
    """Frames lost: sequence gaps at callers and server, late, dropped; at the end also
    echoes that never came back (beyond what a jitter buffer may still hold)."""
    tracks = [s.get("tracks", {}) for s in stats]
    server_lost = sum((t.get("caller_audio") or {}).get("lost", 0) or 0 for t in tracks)
    server_late = sum((t.get("caller_audio") or {}).get("late", 0) or 0 for t in tracks)
    dropped = sum((t.get("reply_audio") or {}).get("dropped_to_caller", 0) or 0 for t in tracks)
    out = {
        "caller_lost": int(counters.get("lost", 0)),
        "server_lost": server_lost,
        "server_late": server_late,
        "reply_dropped": dropped,
    }
    if final and "sent" in counters:
        missing = max(0, int(counters.get("sent", 0)) - int(counters.get("packets", 0)))
        out["echo_missing"] = max(0, missing - TAIL_FRAMES * connected)
    out["total"] = sum(out.values())
    return out


def run_soak(
    args: argparse.Namespace,
    audio: Audio,
    cfg: StepConfig,
    limits: Limits,
    progress: report.Progress,
    calibration: dict[str, Any],
) -> int:
    server_core, loadgen_core = _core(args.server_core), _core(args.loadgen_core)
    if args.target:
        target = servers.attach(args.target, args.api_key or "", args.server_pid)
    else:
        progress("starting edgevoice")
        target = servers.start(
            "edgevoice", core=server_core, api_key=args.api_key or "evk_bench_key",
            logs=args.out / "logs",
        )  # fmt: skip
    with target:
        capacity = args.soak_capacity
        ramp_result = None
        if capacity is None:
            progress("measuring capacity (echo ramp) before the soak")
            levels = [int(x) for x in args.levels.split(",") if x.strip()]
            ramp_result = run_ramp(
                lambda n: echo_step(target, n, audio, cfg, limits, progress),
                levels, progress, lambda step: None, (server_core, loadgen_core),
            )  # fmt: skip
            capacity = int(ramp_result["capacity"]) or 1
        result = soak(target, audio, cfg, args, capacity, progress)
    result["capacity_source"] = "given" if args.soak_capacity is not None else "measured"
    if ramp_result is not None:
        result["capacity_ramp"] = {k: ramp_result[k] for k in ("capacity", "limit")}
    out = {
        "started": result["started"],
        "command": " ".join(["edgevoice", *sys.argv[1:]]),
        "machine": {**metrics.machine(), "calibration": calibration},
        "soak": result,
    }
    progress.done()
    path = args.out / "soak.json"
    report.write_json(out, path)
    print(render(result) + f"\n\nJSON: {path}")
    return 0 if result["lost"]["total"] == 0 and result["connected"] == result["sessions"] else 1


def soak(
    target: servers.Target,
    audio: Audio,
    cfg: StepConfig,
    args: argparse.Namespace,
    capacity: int,
    progress: report.Progress,
) -> dict[str, Any]:
    n = sessions_for(capacity, args.soak_fraction)
    pids = metrics.descendants(target.pid) if target.pid else []
    fleet = Fleet()
    samples: list[dict[str, Any]] = []
    started_at = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        progress(f"soak: connecting {n} callers ({args.soak_fraction:g} of {capacity})")
        counts = _split(n, cfg.callers_per_worker)
        probes = _spread(cfg.probes, counts)
        specs = [
            _spec(target, audio, "callers", c, probes[i], 151 * i) for i, c in enumerate(counts)
        ]
        ready = fleet.start(specs)
        fleet.go()
        start = time.monotonic()
        before = metrics.sample(pids)
        fleet.snapshot()  # the counters start here
        while (elapsed := time.monotonic() - start) < args.soak:
            wait = min(args.soak_interval, args.soak - elapsed)
            progress(f"soak: {elapsed:6.0f} of {args.soak:.0f} s, N={n}")
            time.sleep(wait)  # the sampling period of a timed run
            snap = fleet.snapshot()
            after = metrics.sample(pids)
            stats = server_stats(target, ready["sessions"])
            samples.append(
                {
                    "t_s": round(time.monotonic() - start, 1),
                    "rss_mib": round(after.rss / 2**20, 2) if pids else None,
                    "server_cpu_cores": round(metrics.cpu_share(before, after), 3)
                    if pids
                    else None,
                    "rtt_ms": metrics.percentiles(snap.get("rtt_s", [])),
                    "tick_lag_ms": metrics.percentiles(snap.get("tick_lag_s", [])),
                    "ingress_ms": _hop(stats, "ingress"),
                    "egress_ms": _hop(stats, "egress"),
                    "lost_so_far": _lost(snap, stats, ready["connected"], final=False)["total"],
                    "loadavg": os.getloadavg()[0],
                }
            )
            before = after
        progress("soak: reading the server's final counters")
        stats = server_stats(target, ready["sessions"])
    finally:
        final = fleet.stop()
    lost = _lost(final, stats, ready["connected"])
    cut = args.soak * WARMUP_FRACTION
    rss_points = [(s["t_s"], s["rss_mib"]) for s in samples if s["rss_mib"] is not None]
    steady = [p for p in rss_points if p[0] >= cut]
    return {
        "started": started_at,
        "duration_s": args.soak,
        "interval_s": args.soak_interval,
        "capacity": capacity,
        "fraction": args.soak_fraction,
        "sessions": n,
        "connected": ready["connected"],
        "setup_errors": ready["errors"][:5],
        "frames_sent": final.get("sent", 0),
        "frames_back": final.get("packets", 0),
        "lost": lost,
        "rss_slope_mib_per_hour": _round(slope_per_hour(steady)),
        "rss_slope_all_mib_per_hour": _round(slope_per_hour(rss_points)),
        "rss_first_last_mib": [rss_points[0][1], rss_points[-1][1]] if rss_points else None,
        "samples": samples,
        "cpu_count": os.cpu_count(),
        "taskset": bool(shutil.which("taskset")),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def render(result: dict[str, Any]) -> str:
    lines = [
        f"soak: {result['sessions']} echo sessions ({result['fraction']:g} of capacity "
        f"{result['capacity']}, {result.get('capacity_source', '')}) for "
        f"{result['duration_s']:.0f} s; {result['connected']} connected",
        f"frames sent {result['frames_sent']}, back {result['frames_back']}; "
        f"lost in all {result['lost']['total']} ({_parts(result['lost'])})",
        f"RSS slope {result['rss_slope_mib_per_hour']} MiB/h after warm-up "
        f"({result['rss_slope_all_mib_per_hour']} over the whole run); "
        f"RSS first/last {result['rss_first_last_mib']} MiB",
        "",
        f"{'t s':>7} {'RSS MiB':>8} {'cpu':>6} {'RTT p50/p99 ms':>16} "
        f"{'ingress p99':>12} {'egress p99':>11} {'lost':>5} {'load':>5}",
    ]
    for s in result["samples"]:
        rtt = s["rtt_ms"]
        lines.append(
            f"{s['t_s']:>7} {_v(s['rss_mib']):>8} {_v(s['server_cpu_cores']):>6} "
            f"{_v(rtt['p50']) + '/' + _v(rtt['p99']):>16} {_v(s['ingress_ms']['p99']):>12} "
            f"{_v(s['egress_ms']['p99']):>11} {s['lost_so_far']:>5} {s['loadavg']:>5.2f}"
        )
    return "\n".join(lines)


def _parts(lost: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in lost.items() if k != "total")


def _v(value: Any) -> str:
    return "-" if value is None else str(value)
