"""Fixtures for the demo-page tests: a real `edgevoice serve` and Debian's headless Chromium.

Everything stays on 127.0.0.1: the server binds HTTP and media there, Chromium is allowed
loopback candidates, and the page's WHIP offer is stripped of every other candidate.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgevoice.localport import free_port

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
FAKE_MIC = ROOT / "tests" / "data" / "hello.wav"
ARTIFACTS = ROOT / "artifacts"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> dict[str, object]:
        response = httpx.get(f"{self.url}/readyz", timeout=5)
        body: dict[str, object] = response.json()
        return body


@contextlib.contextmanager
def run_server(
    model: str, log: Path, start_seconds: float = 30, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``edgevoice serve`` on 127.0.0.1 and a free port, healthy, stopped on exit.

    With ``--model local`` the HTTP side only comes up once the offline model listens.
    """
    port = free_port()
    command = [sys.executable, "-m", "edgevoice", "serve", "--model", model,
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_seconds
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"edgevoice serve exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"edgevoice serve not healthy in {start_seconds} s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Server(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server") / "edgevoice.log"
    with run_server("echo", log) as running:
        yield running


def chromium_args(fake_mic: Path = FAKE_MIC) -> list[str]:
    return [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_mic}",
        "--autoplay-policy=no-user-gesture-required",
        "--allow-loopback-in-peer-connection",
        "--mute-audio",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--no-first-run",
    ]


@contextlib.contextmanager
def launch_chromium(fake_mic: Path = FAKE_MIC) -> Iterator[Any]:
    """Headless Debian Chromium whose fake microphone plays ``fake_mic`` (looped)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args(fake_mic)
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launch_chromium() as chromium:
        yield chromium


_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ ", re.IGNORECASE)


def loopback_only(sdp: str) -> str:
    """Drop every ``a=candidate`` line whose address is not 127.0.0.1."""
    kept = []
    for line in sdp.splitlines():
        match = _CANDIDATE.match(line)
        if line.startswith("a=candidate:") and (not match or match.group(1) != "127.0.0.1"):
            continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n"


def install_loopback_offer_filter(page: Any) -> dict[str, Any]:
    """Rewrite the page's WHIP offer so only 127.0.0.1 candidates reach the server."""
    seen: dict[str, Any] = {}

    def handle(route: Any) -> None:
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        offer = request.post_data or ""
        filtered = loopback_only(offer)
        seen["offer"] = offer
        seen["filtered"] = filtered
        route.continue_(post_data=filtered)

    page.route("**/v1/whip", handle)
    return seen


def new_page(browser: Any, timeout_ms: int) -> Any:
    """A fresh context and page, desktop-sized; close it with ``page.context.close()``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return page


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
