"""One probe's result (a typed record) and the verdicts drawn from it (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class ProbeResult:
    """What one synthetic call against ``target`` measured; None where nothing was."""

    target: str
    t: float  # when the probe started (Unix seconds)
    ok: bool
    region: str | None = None
    node: str | None = None
    setup_ms: float | None = None  # create -> WHIP -> connected, at the client
    rtt_ms: float | None = None  # first hop (RTCP), the session's own figure if it has one
    echo_rtt_ms: float | None = None  # median round trip of the probe's markers
    model_link_rtt_ms: float | None = None  # the session's node -> its model endpoint
    flagged: bool = False  # first-hop RTT above the region's recent baseline
    reason: str | None = None  # why not ok, or what was flagged
    client_rtt_ms: dict[str, float] | None = None  # --nearest: each region's ping RTT

    def as_json(self) -> dict[str, Any]:
        """The JSON object ``--json`` prints."""
        return asdict(self)

    def stored(self) -> dict[str, Any]:
        """What ``POST /v1/probes`` takes (the dashboard's fields)."""
        body = asdict(self)
        body.pop("client_rtt_ms")
        return body


def crossed(result: ProbeResult, max_rtt_ms: float | None, max_setup_ms: float | None) -> list[str]:
    """Each threshold ``result`` crosses, in words (empty: none). A figure that was not
    measured crosses a threshold set for it: an unmeasured RTT is not a good one."""
    out: list[str] = []
    if max_setup_ms is not None:
        if result.setup_ms is None:
            out.append("setup time not measured")
        elif result.setup_ms > max_setup_ms:
            out.append(f"setup {result.setup_ms:.1f} ms > --max-setup-ms {max_setup_ms:g}")
    if max_rtt_ms is not None:
        if result.rtt_ms is None:
            out.append("first-hop RTT not measured")
        elif result.rtt_ms > max_rtt_ms:
            out.append(f"first-hop RTT {result.rtt_ms:.1f} ms > --max-rtt-ms {max_rtt_ms:g}")
    return out


COLUMNS = ("target", "region", "node", "setup ms", "rtt ms", "echo ms", "link ms", "status")


def table(results: list[ProbeResult]) -> str:
    """A plain-text table, one row per result."""
    rows = [COLUMNS] + [_row(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    numeric = {3, 4, 5, 6}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _row(r: ProbeResult) -> tuple[str, ...]:
    status = "ok" if r.ok else f"FAILED: {r.reason or 'unknown'}"
    if r.ok and r.flagged:
        status = "ok, FLAGGED: RTT above baseline"
    return (r.target, r.region or "-", r.node or "-", _ms(r.setup_ms), _ms(r.rtt_ms),
            _ms(r.echo_rtt_ms), _ms(r.model_link_rtt_ms), status)  # fmt: skip


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
