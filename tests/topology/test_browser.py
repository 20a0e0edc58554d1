"""Chromium in the caller namespace (Playwright's executable is a wrapper script that
runs Debian's Chromium under ``ip netns exec``): the demo page times the regions' ping
URLs, sends ``client_rtt_ms`` and lands on the nearest POP; with ``?region=hub`` it
reaches a node behind the relay, its selected ICE pair ending at the relay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, chromium_args

from .pops import Topology

pytestmark = pytest.mark.browser

MEDIA = """async () => {
  const started = performance.now();
  for (;;) {  // getStats has no event: look every 200 ms, up to 20 s, for 50 echo packets
    const stats = await window.edgevoice.pc.getStats();
    const byId = new Map();
    stats.forEach((r) => byId.set(r.id, r));
    let pair = null;
    let packets = 0;
    stats.forEach((r) => {
      if (r.type === "transport") pair = byId.get(r.selectedCandidatePairId) || pair;
      if (r.type === "inbound-rtp" && r.kind === "audio") packets += r.packetsReceived;
    });
    const remote = pair ? byId.get(pair.remoteCandidateId) : null;
    const media = { packets, remote: remote ? `${remote.address}:${remote.port}` : null };
    if (packets > 50 || performance.now() - started > 20000) return media;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}"""


@pytest.fixture(scope="module")
def browser(pops: Topology) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    wrapper = pops.workdir / "chromium-in-caller"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {pops.ns("caller")} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    args = [*chromium_args(), f"--unsafely-treat-insecure-origin-as-secure={pops.signalling_url}"]
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(wrapper), headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


def call(pops: Topology, page: Any, query: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start an echo call from the demo page; (the session as the API shows it, media)."""
    page.goto(f"{pops.signalling_url}/?model=echo{query}")
    page.wait_for_function("window.edgevoice.state === 'idle'")
    page.click("#toggle")
    page.wait_for_function("window.edgevoice.state === 'connected'")
    media: dict[str, Any] = page.evaluate(MEDIA)
    assert media["packets"] > 50, media  # the echo comes back
    session_id = page.text_content("#session-id")
    session = pops.client("get", f"{pops.signalling_url}/v1/sessions/{session_id}", "--auth")
    assert session["status"] == 200, session
    page.click("#toggle")
    page.wait_for_function("window.edgevoice.state === 'closed'")
    body: dict[str, Any] = session["body"]
    return body, media


def test_the_demo_page_lands_on_the_nearest_pop_and_reaches_the_relay(
    pops: Topology, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        session, media = call(pops, page, "")
        rtts = page.evaluate("window.edgevoice.placement.client_rtt_ms")
        assert min(rtts, key=rtts.get) == "near", rtts
        for pop in pops.pops:
            assert 2 * pop.delay_ms <= rtts[pop.region] <= 2 * pop.delay_ms + 40, rtts
        assert session["node"]["region"] == "near", session
        assert media["remote"].startswith(pops.pop("near").endpoint.address + ":"), media

        session, media = call(pops, page, "&region=hub")
        assert session["node"]["region"] == "hub", session
        assert media["remote"] == pops.relay_address, media  # the only way in
    finally:
        context.close()
