"""The operator's dashboard in Debian's Chromium against a populated cluster: two regions,
a node in each (separate processes on a private Redis), live echo calls from aiortc
callers, a real probe's stored result and a flagged one; plus the key prompt and a 401.
Everything on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgevoice.probe.session import probe
from tests.browser.conftest import CHROMIUM, chromium_args
from tests.cluster.harness import API_KEY, AUTH, cluster, create, whip
from tests.peers import Caller
from tests.probe.endpoint import model_endpoint

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
MS = re.compile(r"\d+\.\d ms")


async def _call(http: httpx.AsyncClient, base: str, region: str) -> Caller:
    created = (await create(http, base, region=region)).json()
    assert created["node"]["region"] == region
    caller = Caller("hello.wav", loop_audio=True)
    answer = await whip(
        http, created["whip_url"], created["client_secret"]["value"], await caller.offer()
    )
    assert answer.status_code == 201, answer.text
    await caller.accept(answer.text)
    async with asyncio.timeout(20):
        await caller.connected.wait()
    return caller


async def _figures_ready(http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    """Until both nodes announce an RTT and each has a history sample with one (a sample
    is taken every 10 s), so the page has figures and a line to draw."""
    async with asyncio.timeout(60):
        while True:
            data: dict[str, Any] = (await http.get(f"{base}/v1/dashboard", headers=AUTH)).json()
            ready = [
                n
                for n in data["nodes"]
                if (n["figures"] or {}).get("rtt_ms", {}).get("p50") is not None
                and any(s["rtt_ms"]["p50"] is not None for s in n["history"])
                and (n["figures"] or {}).get("model_link_rtt_ms") is not None
            ]
            if len(ready) == 2:
                return data
            await asyncio.sleep(0.5)


async def test_dashboard_shows_regions_nodes_rtt_and_probes(artifacts: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    async_api = pytest.importorskip("playwright.async_api")
    callers: list[Caller] = []
    async with (
        model_endpoint() as link,
        cluster() as c,
        httpx.AsyncClient(timeout=20) as http,
    ):
        c.env["EDGEVOICE_LOCAL_MODEL_URL"] = link
        await c.node("eu-1", "eu", "--max-sessions", "8")
        await c.node("us-1", "us", "--max-sessions", "4")
        sig = await c.signalling("eu")
        try:
            callers = [await _call(http, sig.url, "eu"), await _call(http, sig.url, "us")]
            callers.append(await _call(http, sig.url, "eu"))
            measured = await probe(sig.url, API_KEY, seconds=6, limit_seconds=30)
            assert measured.ok, measured.reason
            kept = await http.post(f"{sig.url}/v1/probes", json=measured.as_json(), headers=AUTH)
            assert kept.status_code == 204, kept.text
            flagged = {
                "target": "http://127.0.0.1:9/us-edge", "t": measured.t, "ok": True,
                "region": "us", "node": "us-1", "setup_ms": 61.0, "rtt_ms": 48.5,
                "echo_rtt_ms": 97.0, "model_link_rtt_ms": 0.4, "flagged": True,
                "reason": "region us: first-hop RTT 48.5 ms above its baseline limit 20.0 ms",
            }  # fmt: skip
            stored = await http.post(f"{sig.url}/v1/probes", json=flagged, headers=AUTH)
            assert stored.status_code == 204, stored.text
            await _figures_ready(http, sig.url)

            async with async_api.async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=chromium_args()
                )
                try:
                    await _populated(browser, sig.url, measured.target, artifacts)
                    await _key_prompt(browser, sig.url)
                finally:
                    await browser.close()
        finally:
            for caller in callers:
                await caller.close()


async def _populated(browser: Any, base: str, probed: str, artifacts: Path) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    await page.goto(f"{base}/dashboard#key={API_KEY}")
    eu = page.locator('.region[data-region="eu"]')
    us = page.locator('.region[data-region="us"]')
    await eu.locator('.node[data-node="eu-1"]').wait_for()
    await us.locator('.node[data-node="us-1"]').wait_for()
    assert await page.locator(".region").count() == 2
    # the key left the address bar and stays in this tab only
    assert "#key" not in page.url
    assert await page.evaluate("sessionStorage.getItem('edgevoice.dashboard.key')") == API_KEY
    for node in (eu.locator(".node"), us.locator(".node")):
        assert MS.search(await node.locator(".rtt-now").inner_text())
        assert MS.search(await node.locator(".hop-ingress").inner_text())
        assert MS.search(await node.locator(".model-link").inner_text())
        assert int(await node.locator(".chart").get_attribute("data-points") or 0) >= 2
        assert await node.locator(".rtt-chart path.line.p50").count() == 1
    assert (await eu.locator(".sessions").inner_text()).startswith("2 / 8")
    assert (await us.locator(".sessions").inner_text()).startswith("1 / 4")
    assert (await page.locator("#sum-regions").inner_text()) == "2"
    # the probes: latest per target; the flagged one highlighted
    real = page.locator(f'#probe-rows tr[data-target="{probed}"]')
    assert await real.get_attribute("class") == "ok"
    assert MS.search(await real.inner_text())
    flagged = page.locator('#probe-rows tr[data-target="http://127.0.0.1:9/us-edge"]')
    assert await flagged.get_attribute("class") == "flagged"
    assert "RTT above baseline" in await flagged.inner_text()
    assert await page.locator("#sum-probes").inner_text() == "1 of 2"
    # live: the page polls again by itself
    before = await page.locator("#pill-text").inner_text()
    await page.wait_for_function(
        "before => document.getElementById('pill-text').textContent !== before", arg=before
    )
    await page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    await context.close()


async def _key_prompt(browser: Any, base: str) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    await page.goto(f"{base}/dashboard")
    await page.locator("#key-card").wait_for(state="visible")
    assert await page.locator(".region").count() == 0
    await page.fill("#key-input", "evk_wrong")
    await page.click("#key-submit")
    problem = page.locator("#key-problem")
    await problem.wait_for(state="visible")
    assert "401" in await problem.inner_text()
    assert await page.evaluate("sessionStorage.getItem('edgevoice.dashboard.key')") is None
    await page.fill("#key-input", API_KEY)
    await page.click("#key-submit")
    await page.locator('.region[data-region="us"]').wait_for()
    assert await page.locator("#key-card").is_hidden()
    await context.close()
