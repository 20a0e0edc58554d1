"""What the bench prints and writes: progress, per-step tables, the JSON report, ratios."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO


class Progress:
    """A one-line status that rewrites itself on a terminal and logs plainly elsewhere."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self.out = out
        self.tty = out.isatty()
        self._last = ""

    def __call__(self, text: str) -> None:
        if self.tty:
            self.out.write("\r\x1b[2K" + text)
            self.out.flush()
        elif "measuring" not in text or "measuring" not in self._last:
            self.out.write(text + "\n")  # a log: one line when a window starts
            self.out.flush()
        self._last = text

    def done(self) -> None:
        if self.tty:
            self.out.write("\r\x1b[2K")
            self.out.flush()


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


ECHO_COLUMNS = (
    "N",
    "cpu cores (kernel)",
    "cpu %/sess",
    "MiB/sess",
    "lost",
    "ingress p50/p99 ms",
    "egress p99 ms",
    "echo RTT p50/p99 ms",
    "loadgen cpu",
    "cores busy",
    "verdict",
)
FANOUT_COLUMNS = (
    "listeners",
    "streams",
    "cpu cores (kernel)",
    "µs cpu/frame",
    "missing",
    "lost",
    "loadgen cpu",
    "cores busy",
    "verdict",
)


def echo_row(step: dict[str, Any]) -> list[str]:
    ingress, egress, rtt = step["ingress_ms"], step["egress_ms"], step["rtt_ms"]
    return [
        str(step["n"]),
        f"{step['server_cpu_cores']:.2f} ({step.get('server_sys_cores', 0):.2f})",
        _f(step["cpu_per_session"] * 100, 2),
        _f(step["rss_per_session_mib"], 2),
        str(step["lost_total"]),
        f"{_f(ingress['p50'], 2)}/{_f(ingress['p99'], 2)}",
        _f(egress["p99"], 2),
        f"{_f(rtt['p50'])}/{_f(rtt['p99'])}",
        _f(step["loadgen_cpu_cores"], 2) + ("!" if step.get("loadgen_saturated") else ""),
        "/".join(f"{b:.2f}" for b in step.get("cores_busy", [])),
        _verdict(step),
    ]


def fanout_row(step: dict[str, Any]) -> list[str]:
    per_frame = step["cpu_per_stream"] / 50 * 1e6  # 50 frames per stream-second
    return [
        str(step["n"]),
        str(step["streams"]),
        f"{step['server_cpu_cores']:.2f} ({step.get('server_sys_cores', 0):.2f})",
        _f(per_frame, 1),
        str(step["missing"]),
        str(step["listener_lost"] + step["listener_late"]),
        _f(step["loadgen_cpu_cores"], 2) + ("!" if step.get("loadgen_saturated") else ""),
        "/".join(f"{b:.2f}" for b in step.get("cores_busy", [])),
        _verdict(step),
    ]


def _verdict(step: dict[str, Any]) -> str:
    return "ok" if not step["breaks"] else "BREAK: " + "; ".join(step["breaks"])


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [
        max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*columns), *(fmt.format(*r) for r in rows)])


def render(report: dict[str, Any], markdown: bool = False) -> str:
    """Every target's ramp and the fan-out ramp as tables, with capacities and ratios."""
    parts: list[str] = []
    calibration = report.get("machine", {}).get("calibration")
    if calibration:
        parts.append(
            f"machine: SRTP protect {calibration['srtp_protect_us']} µs, loopback sendto "
            f"{calibration['loopback_sendto_us']} µs per packet (on the server's core)"
        )
    for name, result in report.get("echo", {}).items():
        if "skipped" in result:
            parts.append(f"{name}: skipped ({result['skipped']})")
            continue
        rows = [echo_row(s) for s in result["steps"]]
        parts.append(
            f"echo sessions, {name}: capacity {result['capacity']} at zero loss and ingress "
            f"p99 within bound (limit: {result['limit'] or 'none reached'}); "
            f"{result.get('capacity_with_rtt_bound')} with the echo RTT bound too "
            f"(limit: {result.get('limit_with_rtt_bound') or 'none reached'})"
        )
        parts.append(table(ECHO_COLUMNS, rows, markdown))
    for name, result in report.get("fanout", {}).items():
        if "skipped" in result:
            parts.append(f"fan-out {name}: skipped ({result['skipped']})")
            continue
        rows = [fanout_row(s) for s in result["steps"]]
        parts.append(
            f"fan-out, {name}: {result['capacity_streams']} streams at zero loss "
            f"(limit: {result['limit'] or 'none reached'})"
        )
        parts.append(table(FANOUT_COLUMNS, rows, markdown))
    if report.get("ratios"):
        parts.append("ratios: " + json.dumps(report["ratios"]))
    return "\n\n".join(parts)


def ratios(report: dict[str, Any], ours: str = "edgevoice") -> dict[str, dict[str, float | None]]:
    """edgevoice's capacity and cost against each peer's, from the echo ramps."""
    echo = report.get("echo", {})
    mine = echo.get(ours)
    out: dict[str, dict[str, float | None]] = {}
    if not mine or "steps" not in mine:
        return out
    for name, other in echo.items():
        if name == ours or "steps" not in other:
            continue
        n = _common_n(mine, other)
        out[name] = {
            "capacity": _ratio(mine["capacity"], other["capacity"]),
            "capacity_with_rtt_bound": _ratio(
                mine.get("capacity_with_rtt_bound"), other.get("capacity_with_rtt_bound")
            ),
            "at_n": n,
            "cpu_per_session": _ratio(_at(other, n, "cpu_per_session"),
                                      _at(mine, n, "cpu_per_session")),
            "rss_per_session": _ratio(_at(other, n, "rss_per_session_mib"),
                                      _at(mine, n, "rss_per_session_mib")),
        }  # fmt: skip
    return out


def _common_n(a: dict[str, Any], b: dict[str, Any]) -> int | None:
    """The largest N that both ramps passed (costs compare at the same N)."""
    passed = [{s["n"] for s in r["steps"] if not s["breaks"]} for r in (a, b)]
    both = passed[0] & passed[1]
    return max(both) if both else None


def _at(result: dict[str, Any], n: int | None, key: str) -> float | None:
    for step in result["steps"]:
        if step["n"] == n:
            value: float | None = step.get(key)
            return value
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b:
        return None
    return round(a / b, 2)


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
