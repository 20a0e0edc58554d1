"""Mouth-to-ear latency with the echo model, measured by headless Chromium on its own clock.

A WebAudio oscillator gated by a gain node is the caller's microphone: it sends short
tone bursts (1 kHz, 40 ms, one every 500 ms) into a peer connection to an edgevoice node
whose session runs the echo model. The reply track goes into an AudioWorklet on the same
AudioContext that timestamps the onset of each echoed burst. Both ends are read off
``AudioContext`` time, so mouth-to-ear = onset heard - burst sent, with no clock
mapping between processes. It covers the browser's send path (WebAudio → Opus → RTP),
the node (SFU, bridge decode, echo, encode, pacing), and the browser's receive path
(jitter buffer, decode, WebAudio), all on 127.0.0.1.

Only loopback candidates are offered to the server. With no ``--url`` an
``edgevoice serve --model echo`` is started on a free port for the run.

    python -m edgevoice.bench.mouth_to_ear --url http://127.0.0.1:8080 --bursts 40
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import re
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from . import servers
from .ear_page import BROWSER_STATS, CONNECT, SCHEDULE, SETUP, WORKLET
from .servers import Target

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    # Chromium gathers host candidates on every interface (loopback included) only
    # once the page holds a media permission: a fake device grants one, then stops.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--mute-audio",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ ", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Settings:
    bursts: int = 40
    warmup: int = 3  # bursts sent first and left out of the figures
    interval_s: float = 0.5
    burst_ms: float = 40.0
    tone_hz: float = 1000.0
    amplitude: float = 0.5
    threshold: float = 0.1  # |sample| that marks an onset in the reply
    # Each burst starts up to one 20 ms frame late (seeded): speech does not start on
    # the codec's frame grid, and a fixed phase would give one latency every time.
    dither_ms: float = 20.0
    seed: int = 1
    playout_delay_hint_s: float | None = None  # RTCRtpReceiver.playoutDelayHint (Chromium)
    jitter_buffer_target_ms: float | None = None  # RTCRtpReceiver.jitterBufferTarget

    def as_dict(self) -> dict[str, Any]:
        return {
            "bursts": self.bursts,
            "warmup": self.warmup,
            "interval_ms": round(self.interval_s * 1000, 1),
            "burst_ms": self.burst_ms,
            "tone_hz": self.tone_hz,
            "amplitude": self.amplitude,
            "threshold": self.threshold,
            "dither_ms": self.dither_ms,
            "seed": self.seed,
            "playout_delay_hint_s": self.playout_delay_hint_s,
            "jitter_buffer_target_ms": self.jitter_buffer_target_ms,
        }


def dither(cfg: Settings, count: int) -> list[float]:
    """Per-burst start offsets (s) in [0, dither_ms), reproducible from the seed."""
    rng = random.Random(cfg.seed)
    return [rng.uniform(0, cfg.dither_ms / 1000) for _ in range(count)]


def loopback_only(sdp: str) -> str:
    """The offer with every ``a=candidate`` line not on 127.0.0.1 removed."""
    kept = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            match = _CANDIDATE.match(line)
            if not match or match.group(1) != "127.0.0.1":
                continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (0 ≤ q ≤ 100) of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def summarise(values_ms: Sequence[float]) -> dict[str, float | int | None]:
    if not values_ms:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "min": None, "max": None,
                "mean": None}  # fmt: skip
    ordered = sorted(values_ms)
    return {
        "count": len(ordered),
        "p50": round(percentile(ordered, 50), 2),
        "p90": round(percentile(ordered, 90), 2),
        "p99": round(percentile(ordered, 99), 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "mean": round(sum(ordered) / len(ordered), 2),
    }


def match_onsets(
    sent: Sequence[float], onsets: Sequence[float], window_s: float
) -> tuple[list[float | None], int]:
    """Each burst's latency (s) to the first onset heard after it within ``window_s``
    (None if none), and how many onsets matched no burst."""
    latencies: list[float | None] = [None] * len(sent)
    spurious = 0
    for onset in sorted(onsets):
        owner = None
        for k in range(len(sent) - 1, -1, -1):
            if sent[k] <= onset:
                owner = k
                break
        if owner is None or onset - sent[owner] > window_s or latencies[owner] is not None:
            spurious += 1
            continue
        latencies[owner] = onset - sent[owner]
    return latencies, spurious


def _jitter_buffer_ms(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
    """Mean jitter-buffer delay and target over the measured window, in ms."""
    a, b = before.get("inbound") or {}, after.get("inbound") or {}
    emitted = (b.get("jitterBufferEmittedCount") or 0) - (a.get("jitterBufferEmittedCount") or 0)

    def mean(key: str) -> float | None:
        if emitted <= 0 or b.get(key) is None:
            return None
        return round(((b.get(key) or 0) - (a.get(key) or 0)) / emitted * 1000, 2)

    return {
        "delay": mean("jitterBufferDelay"),
        "target": mean("jitterBufferTargetDelay"),
        "minimum": mean("jitterBufferMinimumDelay"),
    }


def _server_figures(stats: dict[str, Any] | None) -> dict[str, Any] | None:
    if not stats:
        return None
    latency = (stats.get("bridge") or {}).get("latency_ms") or {}
    return {
        "ingress_ms": latency.get("ingress"),
        "egress_ms": latency.get("egress"),
        "rtt_seconds": stats.get("rtt_seconds"),
        "jitter_seconds": stats.get("jitter_seconds"),
    }


class _Session:
    """A session on the node: created with the API key, or on the demo endpoint."""

    def __init__(self, client: httpx.Client, api_key: str | None) -> None:
        self.client = client
        self.api_key = api_key
        self.id = ""
        self.whip_url = ""
        self.secret = ""
        self.resource: str | None = None

    def create(self) -> None:
        if self.api_key:
            response = self.client.post(
                "/v1/sessions", json={"model": "echo"},
                headers={"Authorization": f"Bearer {self.api_key}"},
            )  # fmt: skip
        else:
            response = self.client.post("/v1/demo/sessions", json={"model": "echo"})
        if response.status_code != 201:
            raise RuntimeError(f"session refused: HTTP {response.status_code} {response.text}")
        body = response.json()
        self.id = body["id"]
        self.whip_url = str(httpx.URL(str(self.client.base_url)).join(body["whip_url"]))
        self.secret = body["client_secret"]["value"]

    def offer(self, sdp: str) -> str:
        response = self.client.post(
            self.whip_url, content=sdp.encode(),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {self.secret}"},
        )  # fmt: skip
        if response.status_code != 201:
            raise RuntimeError(f"offer refused: HTTP {response.status_code} {response.text}")
        where = response.headers.get("location")
        if where:
            self.resource = str(httpx.URL(self.whip_url).join(where))
        return response.text

    def close(self) -> None:
        if self.resource:
            with contextlib.suppress(httpx.HTTPError):
                self.client.delete(
                    self.resource, headers={"Authorization": f"Bearer {self.secret}"}
                )


BLANK_ORIGIN = "http://127.0.0.1/mouth-to-ear"  # served by Playwright, never fetched


def measure(
    url: str | None,
    *,
    api_key: str | None = None,
    settings: Settings | None = None,
    chromium: Path = CHROMIUM,
    connect_timeout_s: float = 20.0,
) -> dict[str, Any]:
    """Run the bursts through an echo session at ``url``; the figures as a dict.

    With ``url=None`` the bursts go through Chromium alone (one peer connection to
    another in the page): the browser's own share of the figure, for calibration.
    """
    from playwright.sync_api import Route, sync_playwright

    cfg = settings or Settings()
    total = cfg.warmup + cfg.bursts
    if url is not None and urlparse_host(url) != "127.0.0.1":
        raise ValueError("the measurement stays on loopback: use http://127.0.0.1:PORT")
    with (
        httpx.Client(base_url=url or BLANK_ORIGIN, timeout=10) as client,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        session = _Session(client, api_key)
        try:
            page = browser.new_page()
            page.set_default_timeout(connect_timeout_s * 1000)
            # AudioWorklet wants a secure context: a loopback origin is one.
            if url is None:

                def blank(route: Route) -> None:
                    route.fulfill(
                        body="<!doctype html><title>m2e</title>", content_type="text/html"
                    )

                page.route(BLANK_ORIGIN, blank)
                page.goto(BLANK_ORIGIN)
            else:
                page.goto(f"{url}/healthz")
                session.create()
            offer = page.evaluate(
                SETUP,
                {"worklet": WORKLET, "toneHz": cfg.tone_hz, "threshold": cfg.threshold,
                 "holdoff": cfg.interval_s / 2, "playoutDelayHint": cfg.playout_delay_hint_s,
                 "jitterBufferTarget": cfg.jitter_buffer_target_ms, "direct": url is None},
            )  # fmt: skip
            answer = None
            if url is not None:
                filtered = loopback_only(offer)
                if "a=candidate:" not in filtered:
                    raise RuntimeError("Chromium offered no 127.0.0.1 candidate")
                answer = session.offer(filtered)
            audio = page.evaluate(CONNECT, {"sdp": answer, "timeoutMs": connect_timeout_s * 1000})
            window = cfg.interval_s * 0.9
            plan = page.evaluate(
                SCHEDULE,
                {"interval": cfg.interval_s, "offsets": dither(cfg, total),
                 "duration": cfg.burst_ms / 1000, "amplitude": cfg.amplitude, "lead": 0.3},
            )  # fmt: skip
            # Wait on the page's audio clock for the last burst's echo window to pass.
            done_at = plan["last"] + window + 0.05
            warm_end = plan["first"] + cfg.warmup * cfg.interval_s - 0.05
            page.wait_for_function(
                f"() => window.m2e.ctx.currentTime > {warm_end}",
                timeout=(cfg.warmup * cfg.interval_s + 10) * 1000,
                polling=50,
            )
            stats_before = page.evaluate(BROWSER_STATS)
            page.wait_for_function(
                f"() => window.m2e.ctx.currentTime > {done_at}",
                timeout=(total * cfg.interval_s + 15) * 1000,
                polling=100,
            )
            stats_after = page.evaluate(BROWSER_STATS)
            sent, onsets, server_stats, version = page.evaluate(
                "() => [window.m2e.sent, window.m2e.onsets, window.m2e.serverStats, "
                "navigator.userAgent]"
            )
            page.evaluate("() => { window.m2e.pc.close(); window.m2e.sender?.close(); }")
        finally:
            session.close()
            browser.close()

    latencies, spurious = match_onsets(sent, onsets, window)
    measured = latencies[cfg.warmup :]
    heard = [lat * 1000 for lat in measured if lat is not None]
    return {
        "url": url,
        "path": "chromium only (calibration)" if url is None else f"echo at {url}",
        "session": session.id or None,
        "settings": cfg.as_dict(),
        "bursts": cfg.bursts,
        "detected": len(heard),
        "missed": [i for i, lat in enumerate(measured) if lat is None],
        "spurious_onsets": spurious,
        "latencies_ms": [None if lat is None else round(lat * 1000, 2) for lat in measured],
        "mouth_to_ear_ms": summarise(heard),
        "browser": {
            "user_agent": version,
            "sample_rate": audio["sampleRate"],
            "base_latency_ms": _ms(audio.get("baseLatency")),
            "output_latency_ms": _ms(audio.get("outputLatency")),
            "jitter_buffer_ms": _jitter_buffer_ms(stats_before, stats_after),
            "pair_rtt_ms": _ms(stats_after.get("pairRtt")),
            "remote_rtt_ms": _ms(stats_after.get("remoteRtt")),
            "inbound": stats_after.get("inbound"),
            "playout_delay_hint": stats_after.get("playoutDelayHint"),
            "jitter_buffer_target": stats_after.get("jitterBufferTarget"),
        },
        "server": _server_figures(server_stats),
    }


def _ms(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) * 1000, 2)


def urlparse_host(url: str) -> str:
    return httpx.URL(url).host


@contextlib.contextmanager
def echo_server() -> Iterator[Target]:
    """``edgevoice serve --model echo`` as the bench starts it, for one run."""
    with tempfile.TemporaryDirectory(prefix="edgevoice-m2e-") as logs:
        key = "evk_" + secrets.token_urlsafe(24)
        with servers.start("edgevoice", core=None, api_key=key, logs=Path(logs)) as target:
            yield target


def describe(result: dict[str, Any]) -> str:
    """One readable line (and a second with where the time may go)."""
    m = result["mouth_to_ear_ms"]
    head = (
        f"mouth-to-ear ({result['path']}, loopback): p50 {_f(m['p50'])} · p90 {_f(m['p90'])} · "
        f"p99 {_f(m['p99'])} · min {_f(m['min'])} · max {_f(m['max'])} ms "
        f"over {result['detected']}/{result['bursts']} bursts"
    )
    jb = result["browser"]["jitter_buffer_ms"]
    server = result.get("server") or {}
    egress = (server.get("egress_ms") or {}).get("p50")
    ingress = (server.get("ingress_ms") or {}).get("p50")
    tail = (
        f"  browser jitter buffer {_f(jb['delay'])} ms (target {_f(jb['target'])}), "
        f"pair RTT {_f(result['browser']['pair_rtt_ms'])} ms, "
        f"server ingress p50 {_f(ingress)} ms, egress p50 {_f(egress)} ms"
    )
    return f"{head}\n{tail}"


def _f(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edgevoice.bench.mouth_to_ear",
        description="Echo mouth-to-ear latency in headless Chromium over loopback.",
    )
    parser.add_argument("--url", help="an edgevoice node (default: start one with --model echo)")
    parser.add_argument("--api-key", help="create the session with this API key "
                        "(default: the demo endpoint)")  # fmt: skip
    parser.add_argument("--bursts", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--interval-ms", type=float, default=500.0)
    parser.add_argument("--burst-ms", type=float, default=40.0)
    parser.add_argument("--playout-delay-hint", type=float, default=None, metavar="SECONDS",
                        help="set RTCRtpReceiver.playoutDelayHint (e.g. 0)")  # fmt: skip
    parser.add_argument("--jitter-buffer-target", type=float, default=None, metavar="MS",
                        help="set RTCRtpReceiver.jitterBufferTarget (e.g. 0)")  # fmt: skip
    parser.add_argument("--direct", action="store_true",
                        help="calibration: Chromium to itself, no server")  # fmt: skip
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args(argv)
    if args.bursts < 1 or args.interval_ms < 4 * args.burst_ms:
        parser.error("need at least one burst, and an interval of at least 4 burst lengths")
    settings = Settings(
        bursts=args.bursts,
        warmup=max(0, args.warmup),
        interval_s=args.interval_ms / 1000,
        burst_ms=args.burst_ms,
        playout_delay_hint_s=args.playout_delay_hint,
        jitter_buffer_target_ms=args.jitter_buffer_target,
    )
    with contextlib.ExitStack() as stack:
        url, api_key = (None if args.direct else args.url), args.api_key
        if url is not None:
            url = url.rstrip("/")
        elif not args.direct:
            started = stack.enter_context(echo_server())
            url, api_key = started.url, started.api_key
        result = measure(url, api_key=api_key, settings=settings, chromium=args.chromium)
    print(describe(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["detected"] == result["bursts"] else 1


if __name__ == "__main__":
    sys.exit(main())
