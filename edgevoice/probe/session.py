"""One synthetic call against one target, measured from the caller's side.

The caller is the bench's probe caller (:class:`~edgevoice.bench.peers.BenchCaller`): it
sends a marker (a short chirp) once a second in pre-encoded Opus and finds it again in
the decoded echo, so the echo round trip is timed on one clock. Setup time runs from the
``POST /v1/sessions`` to the caller's peer connection being connected. The first-hop RTT
is the session's own RTCP figure (``GET /v1/sessions/{id}``, ``stats.rtt_seconds``), else
the caller's (its receiver reports); the node->model link RTT is the session's node's
figure in ``GET /v1/nodes``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx

from ..bench.audio import probe_packets
from ..bench.peers import BenchCaller
from ..bench.worker import Clock
from ..sfu.stats import peer_stats
from .errors import ProbeFailed
from .nearest import region_rtts
from .result import ProbeResult

POLL_SECONDS = 0.25
MARKERS_WANTED = 2


async def probe(
    target: str,
    api_key: str,
    *,
    seconds: float = 5.0,
    limit_seconds: float = 30.0,
    nearest: bool = False,
    body: dict[str, Any] | None = None,
) -> ProbeResult:
    """Probe ``target`` once; a failure is a result with ``ok=False`` and a reason.

    ``nearest``: first time the regions' ping URLs (:mod:`.nearest`) and send them as
    ``client_rtt_ms``, so the call lands where a caller here would. ``body``: more
    fields for ``POST /v1/sessions`` (e.g. a ``region``)."""
    result = ProbeResult(target=target, t=round(time.time(), 3), ok=False)
    body = dict(body or {})
    auth = {"Authorization": f"Bearer {api_key}"}
    stage = ["creating the session"]
    try:
        async with (
            httpx.AsyncClient(base_url=target, timeout=10, headers=auth) as http,
            asyncio.timeout(limit_seconds),
        ):
            if nearest:
                stage[0] = "timing the regions' ping URLs"
                result.client_rtt_ms = await region_rtts(target)
                body["client_rtt_ms"] = result.client_rtt_ms
            await _call(http, api_key, result, seconds, stage, body)
    except TimeoutError:
        result.reason = f"timed out after {limit_seconds:g} s while {stage[0]}"
    except ProbeFailed as exc:
        result.reason = str(exc)
    except httpx.HTTPError as exc:
        result.reason = f"HTTP error while {stage[0]}: {type(exc).__name__}: {exc}"
    except (RuntimeError, OSError) as exc:
        result.reason = f"{stage[0]}: {exc}"
    return result


async def _call(
    http: httpx.AsyncClient,
    api_key: str,
    result: ProbeResult,
    seconds: float,
    stage: list[str],
    body: dict[str, Any],
) -> None:
    caller = BenchCaller(probe_packets(), 0, probe=True)
    clock: Clock | None = None
    try:
        started = time.perf_counter()
        stage[0] = "connecting (create, WHIP, ICE/DTLS)"
        await caller.connect(http, api_key, body)
        result.setup_ms = round((time.perf_counter() - started) * 1000, 1)
        assert caller.ear is not None and caller.session_id is not None
        clock = Clock([caller], asyncio.get_running_loop().time())
        stage[0] = "measuring the echo and the RTT"
        echoes: list[float] = []
        session: dict[str, Any] = {}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            echoes += caller.ear.delays()
            session = await _session(http, caller.session_id)
            rtt = (session.get("stats") or {}).get("rtt_seconds")
            if isinstance(rtt, (int, float)):
                result.rtt_ms = round(rtt * 1000, 2)
            if result.rtt_ms is not None and len(echoes) >= MARKERS_WANTED:
                break
        node = session.get("node") or {}
        result.region, result.node = node.get("region"), node.get("id")
        if result.rtt_ms is None:
            result.rtt_ms = await _caller_rtt_ms(caller)
        if echoes:
            result.echo_rtt_ms = round(statistics.median(echoes) * 1000, 1)
        stage[0] = "reading the node's figures"
        result.model_link_rtt_ms = await _model_link_ms(http, result.node)
        if caller.failed or session.get("state") not in ("connected", "connecting"):
            raise ProbeFailed(f"the call did not stay up (session {session.get('state')})")
        if not echoes:
            raise ProbeFailed(f"no echo heard within {seconds:g} s of connecting")
        result.ok = True
    finally:
        if clock is not None:
            clock.stop()
        stage[0] = "hanging up"
        await caller.hang_up(http)


async def _session(http: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    response = await http.get(f"/v1/sessions/{session_id}")
    if response.status_code != 200:
        raise ProbeFailed(f"GET /v1/sessions/{session_id}: {response.status_code}")
    body: dict[str, Any] = response.json()
    return body


async def _caller_rtt_ms(caller: BenchCaller) -> float | None:
    stats = await peer_stats(caller.pc)
    for outbound in stats["outbound"]:
        rtt = outbound.get("rtt_seconds")
        if isinstance(rtt, (int, float)):
            return round(rtt * 1000, 2)
    return None


async def _model_link_ms(http: httpx.AsyncClient, node_id: str | None) -> float | None:
    response = await http.get("/v1/nodes")
    if response.status_code != 200 or node_id is None:
        return None
    for node in response.json().get("nodes", []):
        if node.get("id") == node_id:
            link = (node.get("figures") or {}).get("model_link_rtt_ms")
            return float(link) if isinstance(link, (int, float)) else None
    return None
