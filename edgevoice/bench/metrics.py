"""Server and load-generator figures read from /proc: CPU time and resident memory.

CPU is ``utime + stime`` of a process and all its threads (``/proc/<pid>/stat``),
summed over the process tree; memory is ``VmRSS`` from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all its threads); 0 if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def sys_seconds(pid: int) -> float:
    """System (kernel) CPU seconds of ``pid``: on loopback this includes delivering
    what it sends to the receiving sockets, which a NIC would take off its hands."""
    fields = _stat_fields(pid)
    return int(fields[12]) / TICKS if fields is not None else 0.0


def rss_bytes(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


@dataclass(frozen=True)
class Sample:
    at: float
    cpu: float
    rss: int
    sys: float = 0.0


def sample(pids: Iterable[int]) -> Sample:
    pids = list(pids)
    return Sample(
        time.monotonic(),
        sum(cpu_seconds(p) for p in pids),
        sum(rss_bytes(p) for p in pids),
        sum(sys_seconds(p) for p in pids),
    )


def cpu_share(before: Sample, after: Sample, kernel_only: bool = False) -> float:
    """Cores used between two samples (1.0 = one core busy all the time)."""
    elapsed = after.at - before.at
    used = (after.sys - before.sys) if kernel_only else (after.cpu - before.cpu)
    return used / elapsed if elapsed > 0 else 0.0


def percentiles(values: Sequence[float], scale: float = 1000.0) -> dict[str, float | int | None]:
    """count, p50, p90, p99 and max of ``values`` (seconds) in milliseconds by default."""
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)
    out: dict[str, float | int | None] = {"count": len(ordered)}
    for name, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)):
        out[name] = round(ordered[round(p / 100 * (len(ordered) - 1))] * scale, 2)
    return out


def core_times() -> list[tuple[float, float]]:
    """(busy, total) jiffies of every core from /proc/stat."""
    out: list[tuple[float, float]] = []
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            values = [float(v) for v in line.split()[1:]]
            idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
            out.append((sum(values[:8]) - idle, sum(values[:8])))
    return out


def core_busy(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> list[float]:
    """Fraction of each core that was busy (anyone's work) between two readings."""
    return [
        round((b1 - b0) / (t1 - t0), 3) if t1 > t0 else 0.0
        for (b0, t0), (b1, t1) in zip(before, after, strict=False)
    ]


def machine() -> dict[str, object]:
    """The figures docs/benchmarks.md names: CPU model, cores, memory, kernel."""
    model = ""
    try:
        for line in (PROC / "cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        mem_kib = int((PROC / "meminfo").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "kernel": os.uname().release,
        "load_average": os.getloadavg(),
    }
