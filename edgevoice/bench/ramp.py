"""Ramp steps: N callers (echo) or N listeners (fan-out), measured over a steady window.

Each step starts fresh peers, lets every one connect before any audio flows (so the
server's latency windows hold steady-state samples only), starts all clocks at once,
settles, measures CPU and memory of the server's processes over a window, reads the
server's own stats, stops, and counts every frame that did not come back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from . import metrics
from .loadgen import Fleet
from .servers import Target
from .worker import WorkerSpec

Progress = Callable[[str], None]
# Frames a server may still hold when the callers stop sending: aiortc's audio jitter
# buffer keeps up to 4 (its prefetch) and only releases them when newer packets come.
# Loss in the middle of a stream shows in the sequence counters, which have no allowance.
TAIL_FRAMES = 4


@dataclass(frozen=True)
class Limits:
    ingress_p99_ms: float = 5.0
    rtt_p99_ms: float = 150.0


@dataclass(frozen=True)
class StepConfig:
    settle_s: float = 2.0
    window_s: float = 6.0
    callers_per_worker: int = 10
    listeners_per_worker: int = 25
    probes: int = 3


@dataclass(frozen=True)
class Audio:
    speech: Sequence[bytes]
    probe: Sequence[bytes]


def _split(total: int, per: int) -> list[int]:
    return [min(per, total - i) for i in range(0, total, per)]


def _spread(probes: int, counts: Sequence[int]) -> list[int]:
    """Probe callers spread over the workers, one each round, within each one's count."""
    out = [0] * len(counts)
    while probes > 0 and any(o < c for o, c in zip(out, counts, strict=True)):
        for i, count in enumerate(counts):
            if probes > 0 and out[i] < count:
                out[i] += 1
                probes -= 1
    return out


def _spec(
    target: Target,
    audio: Audio,
    role: str,
    count: int,
    probes: int,
    offset: int,
    session_id: str | None = None,
) -> WorkerSpec:
    return WorkerSpec(
        target.url,
        target.api_key,
        role,
        count,
        probes,
        offset,
        audio.speech,
        audio.probe,
        session_id,
    )


def _hop(stats: Sequence[dict[str, Any]], hop: str) -> dict[str, float | int | None]:
    """One hop over all sessions: median p50, worst p99 and max, total count."""
    parts = [s.get("bridge", {}).get("latency_ms", {}).get(hop) or {} for s in stats]
    parts = [p for p in parts if p.get("p50") is not None]
    if not parts:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    p50s = sorted(p["p50"] for p in parts)
    return {
        "count": sum(p["count"] for p in parts),
        "p50": p50s[len(p50s) // 2],
        "p99": max(p["p99"] for p in parts),
        "max": max(p["max"] for p in parts),
    }


def server_stats(target: Target, sessions: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {target.api_key}"}
    with httpx.Client(base_url=target.url, timeout=10) as http:
        for session_id in sessions:
            try:
                response = http.get(f"/v1/sessions/{session_id}", headers=headers)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                out.append(response.json().get("stats") or {})
    return out


class Window:
    """CPU and memory of the server and of the load generator across one window."""

    def __init__(self, target: Target, fleet: Fleet) -> None:
        self.server = metrics.descendants(target.pid) if target.pid else []
        self.fleet = fleet
        self.before = metrics.sample(self.server)
        self.load_before = metrics.sample(fleet.pids)
        self.cores_before = metrics.core_times()

    def close(self) -> dict[str, Any]:
        after, load_after = metrics.sample(self.server), metrics.sample(self.fleet.pids)
        return {
            "cores_busy": metrics.core_busy(self.cores_before, metrics.core_times()),
            "server_sys": metrics.cpu_share(self.before, after, kernel_only=True),
            "server_cpu": metrics.cpu_share(self.before, after),
            "server_rss": after.rss,
            "loadgen_cpu": metrics.cpu_share(self.load_before, load_after),
        }


def _measure(
    fleet: Fleet, target: Target, cfg: StepConfig, progress: Progress, n: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    fleet.go()
    time.sleep(cfg.settle_s)
    fleet.snapshot()  # resets the round-trip and clock-lag lists
    window = Window(target, fleet)
    end = time.monotonic() + cfg.window_s
    while (left := end - time.monotonic()) > 0:
        progress(f"  N={n}: measuring, {left:4.1f} s left")
        time.sleep(min(1.0, left))
    figures = window.close()
    return figures, fleet.snapshot()


def echo_step(
    target: Target, n: int, audio: Audio, cfg: StepConfig, limits: Limits, progress: Progress
) -> dict[str, Any]:
    pids = metrics.descendants(target.pid) if target.pid else []
    rss_before = metrics.sample(pids).rss
    fleet = Fleet()
    try:
        progress(f"  N={n}: connecting {n} callers")
        counts = _split(n, cfg.callers_per_worker)
        probes = _spread(cfg.probes, counts)
        specs = [
            _spec(target, audio, "callers", c, probes[i], 151 * i) for i, c in enumerate(counts)
        ]
        ready = fleet.start(specs)
        figures, window = _measure(fleet, target, cfg, progress, n)
        progress(f"  N={n}: reading server stats")
        stats = server_stats(target, ready["sessions"])
    finally:
        final = fleet.stop()
    tracks = [s.get("tracks", {}) for s in stats]
    server_lost = sum((t.get("caller_audio") or {}).get("lost", 0) or 0 for t in tracks)
    server_late = sum((t.get("caller_audio") or {}).get("late", 0) or 0 for t in tracks)
    dropped = sum((t.get("reply_audio") or {}).get("dropped_to_caller", 0) or 0 for t in tracks)
    missing = max(0, final.get("sent", 0) - final.get("packets", 0))
    step: dict[str, Any] = {
        "n": n,
        "connected": ready["connected"],
        "setup_errors": ready["errors"][:5],
        "server_cpu_cores": round(figures["server_cpu"], 4),
        "server_sys_cores": round(figures["server_sys"], 4),
        "cpu_per_session": round(figures["server_cpu"] / max(1, n), 5),
        "server_rss_mib": round(figures["server_rss"] / 2**20, 1),
        "rss_per_session_mib": round((figures["server_rss"] - rss_before) / 2**20 / max(1, n), 3),
        "loadgen_cpu_cores": round(figures["loadgen_cpu"], 3),
        "cores_busy": figures["cores_busy"],
        "frames_sent": final.get("sent", 0),
        "frames_back": final.get("packets", 0),
        "echo_missing": missing,
        "caller_lost": final.get("lost", 0),
        "server_lost": server_lost,
        "server_late": server_late,
        "reply_dropped": dropped,
        "ingress_ms": _hop(stats, "ingress"),
        "egress_ms": _hop(stats, "egress"),
        "rtt_ms": metrics.percentiles(window.get("rtt_s", [])),
        "probes": sum(probes),
        "tick_lag_ms": metrics.percentiles(window.get("tick_lag_s", [])),
        "stats_sessions": len(stats),
    }
    counted = max(0, missing - TAIL_FRAMES * step["connected"])
    step["lost_total"] = counted + step["caller_lost"] + server_lost + server_late + dropped
    step["breaks"] = breaks(step, limits)
    return step


def breaks(step: dict[str, Any], limits: Limits) -> list[str]:
    """The quality limits this step broke (empty: it passed)."""
    out: list[str] = []
    if step["connected"] < step["n"]:
        out.append(f"{step['n'] - step['connected']} peers failed to connect")
    if step.get("lost_total", 0) > 0:
        out.append(f"{step['lost_total']} frames lost")
    ingress = step.get("ingress_ms", {}).get("p99")
    if ingress is not None and ingress > limits.ingress_p99_ms:
        out.append(f"ingress p99 {ingress} ms > {limits.ingress_p99_ms}")
    rtt = step.get("rtt_ms", {}).get("p99")
    if rtt is not None and rtt > limits.rtt_p99_ms:
        out.append(f"echo RTT p99 {rtt} ms > {limits.rtt_p99_ms}")
    elif rtt is None and step.get("probes"):
        # probes ran but heard none of their chirps: the round trip is unbounded, not fine
        out.append("echo RTT unmeasured: no probe heard its chirp come back")
    return out


def loadgen_saturated(step: dict[str, Any]) -> bool:
    """The load generator, not the server, may be what broke (its core was busy)."""
    lag = step.get("tick_lag_ms", {}).get("p99")
    return bool(step.get("loadgen_cpu_cores", 0) > 0.9 or (lag is not None and lag > 10))


def contended(step: dict[str, Any], server_core: int | None, loadgen_core: int | None) -> bool:
    """Did other processes take more than a tenth of the server's or the loadgen's core?"""
    busy = step.get("cores_busy", [])
    for core, own in ((server_core, step["server_cpu_cores"]),
                      (loadgen_core, step["loadgen_cpu_cores"])):  # fmt: skip
        if core is not None and core < len(busy) and busy[core] - own > 0.1:
            return True
    return False


def next_level(levels: Sequence[int], done: Sequence[int], ceiling: int) -> int | None:
    """The N after ``done``: the listed levels first, then on in the last listed stride.

    Past the list the ramp keeps its last step size (40, 50 → 60, 70, …) up to
    ``ceiling``; a list of one level is a single step and is not extended.
    """
    if len(done) < len(levels):
        return levels[len(done)]
    if len(levels) < 2:
        return None
    n = done[-1] + (levels[-1] - levels[-2])
    return n if levels[-1] < n <= ceiling else None


def ramp(
    step_fn: Callable[[int], dict[str, Any]],
    levels: Sequence[int],
    progress: Progress,
    on_step: Callable[[dict[str, Any]], None],
    cores: tuple[int | None, int | None] = (None, None),
    ceiling: int | None = None,
) -> dict[str, Any]:
    """Run steps until one loses frames or breaks the ingress bound.

    The listed ``levels`` run first; if none of them broke any limit (the echo
    round-trip bound included), the ramp goes on past them in the same stride until a
    limit breaks, the load generator saturates (then the machine, not the server, is
    what is measured) or N passes ``ceiling`` (default: twice the last listed level).

    ``capacity`` is the last N with zero loss and ingress p99 within its bound (the
    targets' definition); ``capacity_with_rtt_bound`` is the last N before any limit,
    the echo round-trip bound included, broke.

    The machine may be shared: a step that breaks while other processes took more
    than a tenth of the server's or the load generator's core is run once more, and
    the second result counts (the first is kept under ``contended_try``).
    """
    top = ceiling if ceiling is not None else 2 * max(levels, default=0)
    steps: list[dict[str, Any]] = []
    done: list[int] = []
    capacity = capacity_rtt = 0
    limit: str | None = None
    limit_rtt: str | None = None
    while (n := next_level(levels, done, top)) is not None:
        extended = len(done) >= len(levels)
        if extended and limit_rtt is not None:
            break  # past the list only while nothing has broken
        beyond = " (past the listed levels: no limit broken yet)" if extended else ""
        progress(f"step N={n}{beyond}")
        step = step_fn(n)
        step["loadgen_saturated"] = loadgen_saturated(step)
        if step["breaks"] and contended(step, *cores):
            on_step(step)
            progress(f"step N={n}: broke while the machine was busy with other work; again")
            first = step
            step = step_fn(n)
            step["loadgen_saturated"] = loadgen_saturated(step)
            step["contended_try"] = {k: first[k] for k in ("breaks", "cores_busy")}
        steps.append(step)
        done.append(n)
        on_step(step)
        hard = [b for b in step["breaks"] if not b.startswith("echo RTT")]
        if step["breaks"] and limit_rtt is None:
            limit_rtt = "; ".join(step["breaks"])
        if not step["breaks"] and limit_rtt is None:
            capacity_rtt = n
        if hard:
            limit = "; ".join(hard)
            break
        capacity = n
        if extended and step["loadgen_saturated"]:
            saturated = f"load generator saturated at N={n} (the server had broken no limit)"
            limit = limit or saturated
            limit_rtt = limit_rtt or saturated
            break
    return {
        "steps": steps,
        "capacity": capacity,
        "limit": limit,
        "capacity_with_rtt_bound": capacity_rtt,
        "limit_with_rtt_bound": limit_rtt,
    }
