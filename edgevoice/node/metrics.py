"""A node's metrics for ``GET /metrics`` (Prometheus/OpenMetrics), off the hot path.

Nothing here runs per frame. Each session's once-a-second ``stats`` event (which the
node computes anyway) feeds the histograms: RTT and jitter of the caller's leg, and the
bridge's per-hop latency samples recorded since the last second (``LatencyWindow.since``);
counters and gauges are read when Prometheus scrapes. Labels stay low-cardinality:
node, region, and small fixed sets (hop, direction, state, reason) — never a session id.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from ..sfu import counters as media_counters
from .node import Node

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)
RTT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0)
TURN_BUCKETS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class Buckets:
    """One histogram's cumulative buckets, filled in bulk."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def add(self, values: Sequence[float]) -> None:
        for value in values:
            self.counts[bisect.bisect_left(self.bounds, value)] += 1
            self.sum += value
        self.count += len(values)

    def cumulative(self) -> list[tuple[str, float]]:
        out, total = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += count
            out.append(("+Inf" if bound == float("inf") else repr(bound), float(total)))
        return out


class NodeMetrics:
    """A prometheus_client collector for one node (register it on a CollectorRegistry)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.labels = {"node": node.id, "region": node.region}
        self.hops = {hop: Buckets(LATENCY_BUCKETS) for hop in ("ingress", "egress")}
        self.rtt = Buckets(RTT_BUCKETS)
        self.jitter = Buckets(LATENCY_BUCKETS)
        self.voice_to_voice = Buckets(TURN_BUCKETS)
        self._seen: dict[str, dict[str, int]] = {}  # per live session: samples read so far
        self._last: dict[str, dict[str, Any]] = {}  # per live session: its last stats
        self.ended = {"packets_in": 0, "packets_out": 0, "bytes_in": 0, "bytes_out": 0,
                      "lost": 0, "reconnects": 0}  # fmt: skip
        self.errors: dict[str, int] = {}
        self.sessions_ended: dict[str, int] = {}
        # recent samples for the dashboard's figures (the last RECENT_SECONDS)
        self.recent_rtt: deque[tuple[float, float]] = deque(maxlen=20_000)
        self.recent_hops: dict[str, deque[float]] = {
            hop: deque(maxlen=5_000) for hop in ("ingress", "egress")
        }
        self.model_link_rtt_ms: float | None = None
        node.add_event_sink(self.on_event)

    # fed by the node's events ---------------------------------------------------
    def on_event(self, session_id: str, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "stats":
            self._stats(session_id, event)
        elif kind == "error":
            code = str(event.get("code") or "error")
            where = "model" if "model" in code else "session"
            self.errors[where] = self.errors.get(where, 0) + 1
        elif kind == "session.ended":
            last = self._last.pop(session_id, None)
            self._seen.pop(session_id, None)
            if last is not None:
                for key, value in _totals(last).items():
                    self.ended[key] += value
            reason = _reason_class(str(event.get("reason") or ""))
            self.sessions_ended[reason] = self.sessions_ended.get(reason, 0) + 1

    def _stats(self, session_id: str, stats: dict[str, Any]) -> None:
        self._last[session_id] = stats
        if isinstance(stats.get("rtt_seconds"), (int, float)):
            self.rtt.add([float(stats["rtt_seconds"])])
            self.recent_rtt.append((time.monotonic(), float(stats["rtt_seconds"])))
        if isinstance(stats.get("jitter_seconds"), (int, float)):
            self.jitter.add([float(stats["jitter_seconds"])])
        live = self.node.sessions.get(session_id)
        if live is None:
            return
        bridge = live.bridge
        seen = self._seen.setdefault(session_id, {"ingress": 0, "egress": 0, "v2v": 0})
        for hop, window in (("ingress", bridge.ingress), ("egress", bridge.egress)):
            new = window.since(seen[hop])
            self.hops[hop].add(new)
            self.recent_hops[hop].extend(new)
            seen[hop] = window.count
        v2v = bridge.turns.voice_to_voice
        self.voice_to_voice.add(v2v.since(seen["v2v"]))
        seen["v2v"] = v2v.count

    # the dashboard's figures -------------------------------------------------------
    def figures(self) -> dict[str, Any]:
        """First-hop RTT p50/p95 over the last minute, hop latency p50/p99 over recent
        frames, the model link's RTT, live sessions: what a node announces."""
        cutoff = time.monotonic() - RECENT_SECONDS
        while self.recent_rtt and self.recent_rtt[0][0] < cutoff:
            self.recent_rtt.popleft()
        rtts = sorted(r for _, r in self.recent_rtt)
        return {
            "sessions": len(self.node.sessions),
            "rtt_ms": _quantiles_ms(rtts, (50, 95)),
            "hop_ms": {
                hop: _quantiles_ms(sorted(samples), (50, 99))
                for hop, samples in self.recent_hops.items()
            },
            "model_link_rtt_ms": self.model_link_rtt_ms,
        }

    async def measure_model_link(self, url: str | None) -> None:
        """The node->model hop: TCP connect time to the model endpoint's host."""
        self.model_link_rtt_ms = None if url is None else await connect_rtt_ms(url)

    # read at scrape time --------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        names = list(self.labels)
        values = list(self.labels.values())
        by_state: dict[str, int] = {}
        peers: dict[str, int] = {}
        for live in self.node.sessions.values():
            by_state[live.call.state.value] = by_state.get(live.call.state.value, 0) + 1
            pc = live.call.caller_pc
            if pc is not None:
                peers[pc.connectionState] = peers.get(pc.connectionState, 0) + 1
        sessions = GaugeMetricFamily(
            "edgevoice_sessions", "Live sessions on this node by call state",
            labels=[*names, "state"],
        )  # fmt: skip
        for state in ("new", "connecting", "connected"):
            sessions.add_metric([*values, state], by_state.get(state, 0))
        yield sessions
        yield _gauge("edgevoice_node_capacity_sessions", "Sessions this node accepts",
                     names, values, self.node.max_sessions)  # fmt: skip
        yield _gauge("edgevoice_node_draining", "1 while the node drains", names, values,
                     int(self.node.draining))  # fmt: skip
        pcs = GaugeMetricFamily(
            "edgevoice_peer_connections", "Callers' peer connections by state",
            labels=[*names, "state"],
        )  # fmt: skip
        for state, count in sorted(peers.items()):
            pcs.add_metric([*values, state], count)
        yield pcs
        totals = dict(self.ended)
        for stats in self._last.values():
            for key, value in _totals(stats).items():
                totals[key] += value
        packets = CounterMetricFamily(
            "edgevoice_rtp_packets", "RTP packets on callers' legs", labels=[*names, "direction"]
        )
        octets = CounterMetricFamily(
            "edgevoice_rtp_bytes", "RTP payload bytes on callers' legs",
            labels=[*names, "direction"],
        )  # fmt: skip
        for direction in ("in", "out"):
            packets.add_metric([*values, direction], totals[f"packets_{direction}"])
            octets.add_metric([*values, direction], totals[f"bytes_{direction}"])
        yield packets
        yield octets
        received = totals["packets_in"] + totals["lost"]
        yield _gauge(
            "edgevoice_rtp_loss_ratio", "Callers' packets lost / expected, since start",
            names, values, totals["lost"] / received if received else 0.0,
        )  # fmt: skip
        each_second = "one sample per session per second"
        yield _histogram("edgevoice_rtt_seconds", "Caller leg round-trip time (RTCP), "
                         + each_second, names, values, self.rtt)  # fmt: skip
        yield _histogram("edgevoice_jitter_seconds", "Caller leg interarrival jitter, "
                         + each_second, names, values, self.jitter)  # fmt: skip
        hops = HistogramMetricFamily(
            "edgevoice_hop_latency_seconds",
            "Bridge hop latency per frame: ingress (RTP in -> PCM to the model socket), "
            "egress (reply PCM -> RTP out)",
            labels=[*names, "hop"],
        )
        for hop, buckets in self.hops.items():
            hops.add_metric([*values, hop], buckets.cumulative(), buckets.sum)
        yield hops
        v2v = "End of caller speech -> first reply audio sent, per turn"
        yield _histogram("edgevoice_voice_to_voice_seconds", v2v, names, values,
                         self.voice_to_voice)  # fmt: skip
        reconnects = totals["reconnects"]
        yield _counter("edgevoice_model_reconnects", "Model links re-established mid-call",
                       names, values, reconnects)  # fmt: skip
        errors = CounterMetricFamily(
            "edgevoice_session_errors", "Error events sent to sessions",
            labels=[*names, "where"],
        )  # fmt: skip
        for where in ("model", "session"):
            errors.add_metric([*values, where], self.errors.get(where, 0))
        yield errors
        ended = CounterMetricFamily(
            "edgevoice_sessions_ended", "Sessions ended, by kind of reason",
            labels=[*names, "reason"],
        )  # fmt: skip
        for reason, count in sorted(self.sessions_ended.items()):
            ended.add_metric([*values, reason], count)
        yield ended
        media = media_counters.snapshot()
        dropped = CounterMetricFamily(
            "edgevoice_datagrams_dropped", "Media datagrams dropped unread",
            labels=[*names, "reason"],
        )  # fmt: skip
        dropped.add_metric([*values, "malformed"], media.get("datagrams_malformed", 0))
        dropped.add_metric([*values, "foreign"], media.get("datagrams_foreign", 0))
        yield dropped
        yield _counter("edgevoice_sink_failures", "Fan-out subscribers that raised (the "
                       "call ended)", names, values, media.get("sink_failures", 0))  # fmt: skip
        if self.model_link_rtt_ms is not None:  # absent until measured, or when it failed
            yield _gauge("edgevoice_model_link_rtt_seconds", "Node -> model endpoint TCP "
                         "connect time, measured every 10 s", names, values,
                         self.model_link_rtt_ms / 1000)  # fmt: skip


RECENT_SECONDS = 60.0
LINK_TIMEOUT_SECONDS = 2.0


def _quantiles_ms(ordered: Sequence[float], ps: Sequence[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"count": len(ordered)}
    for p in ps:
        value = ordered[round(p / 100 * (len(ordered) - 1))] if ordered else None
        out[f"p{p}"] = None if value is None else round(value * 1000, 2)
    return out


async def connect_rtt_ms(url: str) -> float | None:
    """Milliseconds to open a TCP connection to ``url``'s host and port (None: failed)."""
    parts = urlsplit(url)
    secure = parts.scheme in ("wss", "https")
    port = parts.port or (443 if secure else 80)
    if not parts.hostname:
        return None
    started = time.perf_counter()
    try:
        async with asyncio.timeout(LINK_TIMEOUT_SECONDS):
            _, writer = await asyncio.open_connection(parts.hostname, port)
    except (OSError, TimeoutError):
        return None
    elapsed = (time.perf_counter() - started) * 1000
    writer.close()
    return round(elapsed, 2)


def _totals(stats: dict[str, Any]) -> dict[str, int]:
    tracks = stats.get("tracks") or {}
    caller = tracks.get("caller_audio") or {}
    reply = tracks.get("reply_audio") or {}
    reconnects = ((stats.get("bridge") or {}).get("model_reconnects") or {}).get("count", 0)
    return {
        "packets_in": int(caller.get("frames") or 0),
        "bytes_in": int(caller.get("bytes") or 0),
        "lost": int(caller.get("lost") or 0),
        "packets_out": int(reply.get("frames") or 0),
        "bytes_out": int(reply.get("bytes") or 0),
        "reconnects": int(reconnects or 0),
    }


def _reason_class(reason: str) -> str:
    """A session's end reason folded into a few label values."""
    for prefix, label in (("deleted", "deleted"), ("peer", "peer_gone"),
                          ("connect_timeout", "connect_timeout"), ("node draining", "drained"),
                          ("maximum", "max_length"), ("sink", "sink_failed"),
                          ("setup", "setup_failed"), ("model", "model_failed"),
                          ("node shutting", "shutdown")):  # fmt: skip
        if reason.startswith(prefix):
            return label
    return "other"


def _gauge(name: str, doc: str, names: list[str], values: list[str], value: float) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=names)
    family.add_metric(values, value)
    return family


def _counter(name: str, doc: str, names: list[str], values: list[str], value: float) -> Metric:
    family = CounterMetricFamily(name, doc, labels=names)
    family.add_metric(values, value)
    return family


def _histogram(
    name: str, doc: str, names: list[str], values: list[str], buckets: Buckets
) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=names)
    family.add_metric(values, buckets.cumulative(), buckets.sum)
    return family
