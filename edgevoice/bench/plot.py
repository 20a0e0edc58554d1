"""The PNG: latency and server CPU against N for every target (and the fan-out ramp)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(report: dict[str, Any], path: Path) -> Path | None:
    """Write the plot; returns None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    echo = {k: v for k, v in report.get("echo", {}).items() if "steps" in v}
    fanout = {k: v for k, v in report.get("fanout", {}).items() if "steps" in v}
    panels = 3 if fanout else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2))
    latency, cpu = axes[0], axes[1]
    for name, result in echo.items():
        steps = result["steps"]
        n = [s["n"] for s in steps]
        rtt50 = [s["rtt_ms"]["p50"] for s in steps]
        rtt99 = [s["rtt_ms"]["p99"] for s in steps]
        line = latency.plot(n, rtt50, marker="o", label=f"{name} echo RTT p50")[0]
        latency.plot(
            n, rtt99, marker="x", ls="--", color=line.get_color(), label=f"{name} echo RTT p99"
        )
        ingress = [s["ingress_ms"]["p99"] for s in steps]
        if any(v is not None for v in ingress):
            latency.plot(
                n, ingress, marker="s", ls=":", color=line.get_color(), label=f"{name} ingress p99"
            )
        cpu.plot(n, [s["server_cpu_cores"] * 100 for s in steps], marker="o", label=name)
    latency.set(xlabel="concurrent echo sessions (N)", ylabel="ms", title="latency", yscale="log")
    _finish(latency, legend_size=7)
    _core_panel(cpu, "concurrent echo sessions (N)", "server CPU (pinned to one core)")
    if fanout:
        ax = axes[2]
        for name, result in fanout.items():
            steps = result["steps"]
            ax.plot(
                [s["streams"] for s in steps],
                [s["server_cpu_cores"] * 100 for s in steps],
                marker="o",
                label=name,
            )
        _core_panel(ax, "forwarded streams (2 per listener)", "fan-out: server CPU")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _core_panel(ax: Any, xlabel: str, title: str) -> None:
    """A panel of server CPU in % of the one core it is pinned to (100 % marked)."""
    ax.axhline(100, color="grey", lw=0.8, ls="--")
    ax.set(xlabel=xlabel, ylabel="% of one core", title=title)
    _finish(ax, legend_size=8)


def _finish(ax: Any, legend_size: int) -> None:
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # a fan-out-only run draws no echo lines
        ax.legend(fontsize=legend_size)
