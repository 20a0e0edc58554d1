"""Which node takes a new session: a pure decision, tested directly.

Order of preference:
1. nodes in the hinted region; without a hint, the regions the caller measured, lowest
   round-trip time first (``client_rtt_ms``); without either, the asking signalling's
   own region;
2. then every other region, so a full or empty region is not a refusal;
3. within each group the least loaded by load / capacity, ties by fewer sessions,
   then by node id, so the same inputs always give the same order.
Never a draining node, a node whose heartbeat has expired, a full node, or a node that
does not offer the session's model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from .nodeinfo import NodeInfo


def eligible(node: NodeInfo, *, model: str, now: float) -> bool:
    return (
        node.alive(now)
        and not node.draining
        and node.load < node.capacity
        and (model in node.models)
    )


def region_preference(
    region: str | None, client_rtt_ms: Mapping[str, float] | None, home_region: str | None
) -> Callable[[str], float]:
    """A sort key for regions: lower is better (see the module's order)."""
    if region:
        return lambda r: 0.0 if r == region else 1.0
    if client_rtt_ms:
        return lambda r: client_rtt_ms.get(r, math.inf)
    return lambda r: 0.0 if r == home_region else 1.0


def rank(
    nodes: Sequence[NodeInfo],
    *,
    model: str,
    now: float,
    region: str | None = None,
    home_region: str | None = None,
    client_rtt_ms: Mapping[str, float] | None = None,
) -> list[NodeInfo]:
    """The eligible nodes, best first (the caller tries them in this order)."""
    prefer = region_preference(region, client_rtt_ms, home_region)
    candidates = [n for n in nodes if eligible(n, model=model, now=now)]
    return sorted(
        candidates,
        key=lambda n: (prefer(n.region), n.load / n.capacity, n.load, n.id),
    )


def models_offered(nodes: Sequence[NodeInfo], now: float) -> list[str]:
    """Every model some live node offers (for a clear 'unknown model' message)."""
    return sorted({m for n in nodes if n.alive(now) for m in n.models})
