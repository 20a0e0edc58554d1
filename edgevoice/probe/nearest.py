"""Time each region's ping URL from where the probe runs, for ``client_rtt_ms``.

``GET /v1/regions`` on the target names every region with live nodes and a ping URL on
one of them. Each region's URL is fetched once to open the connection, then ``tries``
more times on it; the region's RTT is the fastest of those (one HTTP round trip on an
open connection: the first hop's RTT plus a little server time). A region whose pings
fail or take longer than the limit is left out (placement then ranks it last).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

TRIES = 3
LIMIT_SECONDS = 5.0


def fastest_ms(samples: Sequence[float]) -> float | None:
    """The fastest of a region's timed pings (seconds) in ms, or None if none came back."""
    return round(min(samples) * 1000, 2) if samples else None


async def region_rtts(
    target: str, *, tries: int = TRIES, limit_seconds: float = LIMIT_SECONDS
) -> dict[str, float]:
    """``{region: rtt_ms}`` for every region the target lists that answered its pings."""
    async with httpx.AsyncClient(timeout=limit_seconds) as http:
        response = await http.get(f"{target}/v1/regions")
        response.raise_for_status()
        regions = [
            (r["region"], r["ping_url"])
            for r in response.json().get("regions", [])
            if isinstance(r.get("region"), str) and isinstance(r.get("ping_url"), str)
        ]
    timed = await asyncio.gather(*(_time(url, tries, limit_seconds) for _, url in regions))
    return {name: ms for (name, _), ms in zip(regions, timed, strict=True) if ms is not None}


async def _time(url: str, tries: int, limit_seconds: float) -> float | None:
    samples: list[float] = []
    try:
        async with (
            asyncio.timeout(limit_seconds),
            httpx.AsyncClient(timeout=limit_seconds) as http,
        ):
            await http.get(url)  # opens the connection: not timed
            for _ in range(tries):
                started = time.perf_counter()
                response = await http.get(url)
                if response.status_code < 300:
                    samples.append(time.perf_counter() - started)
    except (httpx.HTTPError, TimeoutError, OSError):
        pass
    return fastest_ms(samples)
