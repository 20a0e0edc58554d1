"""The demo page in a real browser: a full echo call over loopback, and a refused session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Server, install_loopback_offer_filter, new_page

pytestmark = pytest.mark.browser

# Every wait has its own bound, well inside pytest-timeout's 120 s.
CONNECT_MS = 20_000
EVENT_MS = 15_000


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = new_page(browser, EVENT_MS)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def console(page: Any) -> list[str]:
    """The page's console lines and uncaught errors, for failure messages."""
    lines: list[str] = []
    page.on("console", lambda msg: lines.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: lines.append(f"pageerror: {err}"))
    return lines


def hook(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => window.edgevoice.{expression}")


def test_echo_call_end_to_end(
    server: Server, page: Any, console: list[str], artifacts: Any
) -> None:
    started = time.monotonic()
    offers = install_loopback_offer_filter(page)
    page.goto(f"{server.url}/?model=echo", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    assert page.locator("#model").input_value() == "echo"
    toggle = page.locator("#toggle")
    assert toggle.is_enabled()
    assert toggle.inner_text().strip() == "Start call"

    toggle.click()
    try:
        page.wait_for_function(
            "() => window.edgevoice.state === 'connected' || window.edgevoice.state === 'failed'",
            timeout=CONNECT_MS,
        )
    except Exception:
        pytest.fail(f"no connection; console: {console}\n{server.log.read_text()}")
    assert hook(page, "state") == "connected", hook(page, "error")
    assert "127.0.0.1" in offers["filtered"]
    assert all(
        " 127.0.0.1 " in line for line in offers["filtered"].splitlines() if "a=candidate:" in line
    )
    assert toggle.inner_text().strip() == "End call"
    assert page.locator("#model").is_disabled()

    # The server's own view of the call: a `state: connected` event on the data channel.
    page.wait_for_function(
        "() => window.edgevoice.events.some(e => e.type === 'state' && e.state === 'connected')",
        timeout=EVENT_MS,
    )

    # The reply plays in an unmuted <audio> element.
    page.wait_for_function(
        """() => { const a = document.getElementById('remote');
                   return a.srcObject && !a.paused && !a.muted && a.volume > 0; }""",
        timeout=EVENT_MS,
    )

    # Reply audio arrives and is heard: inbound-rtp totalAudioEnergy keeps rising.
    page.wait_for_function(
        """() => { const s = window.edgevoice.stats.browser;
                   return s && s.inbound && s.inbound.totalAudioEnergy > 0; }""",
        timeout=EVENT_MS,
    )
    first = hook(page, "stats.browser.inbound.totalAudioEnergy")
    page.wait_for_function(
        f"""() => {{ const s = window.edgevoice.stats.browser;
                    return s.inbound.totalAudioEnergy > {first} * 1.05 + 1e-6; }}""",
        timeout=EVENT_MS,
    )
    later = hook(page, "stats.browser.inbound")
    assert later["packetsReceived"] > 0

    # The event log fills: state and stats rows in the DOM, newest at the bottom.
    page.wait_for_function(
        "() => document.querySelectorAll('#log .ev[data-type=\"stats\"]').length >= 2",
        timeout=EVENT_MS,
    )
    assert page.locator('#log .ev[data-type="state"]').count() >= 1
    assert "connected" in page.locator('#log .ev[data-type="state"]').last.inner_text()
    types = [e["type"] for e in hook(page, "events")]
    assert "stats" in types

    # The latency figures render, from the server's stats and from getStats().
    page.wait_for_function(
        """() => { const v = (sel) => document.querySelector(sel).textContent.trim();
                   return /ms$/.test(v('#server-stats [data-k=ingress]'))
                       && /ms$/.test(v('#server-stats [data-k=egress]'))
                       && /ms$/.test(v('#browser-stats [data-k=pairRtt]'))
                       && /ms$/.test(v('#browser-stats [data-k=jitter]')); }""",
        timeout=EVENT_MS,
    )
    server_rtt = page.locator("#server-stats [data-k=rtt]").inner_text()
    assert server_rtt.endswith("ms") or server_rtt == "—"
    # Both meters move (WebAudio analysers on the mic and the remote stream); the
    # screenshot is taken while the looped sample is speaking.
    page.wait_for_function(
        "() => window.edgevoice.levels.reply > -45 && window.edgevoice.levels.mic > -45",
        timeout=EVENT_MS,
    )
    assert page.locator("#session-id").inner_text().startswith("sess_")

    artifacts.joinpath("demo-page.png").write_bytes(page.screenshot(full_page=True))

    toggle.click()
    page.wait_for_function("() => window.edgevoice.state === 'closed'", timeout=EVENT_MS)
    assert toggle.inner_text().strip() == "Start call"
    assert toggle.is_enabled()
    assert "ended" in page.locator("#status").inner_text().lower()
    assert page.evaluate("() => window.edgevoice.pc.connectionState") == "closed"
    assert page.evaluate("() => document.getElementById('remote').srcObject") is None

    deadline = time.monotonic() + 10
    while (sessions := server.ready()["sessions"]) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sessions == 0
    assert time.monotonic() - started < 60


def test_session_refused_shows_problem_detail(server: Server, page: Any) -> None:
    detail = "every node is busy; try again in a few seconds"

    def refuse(route: Any) -> None:
        body = {"type": "about:blank", "title": "Service Unavailable", "status": 503,
                "detail": detail, "instance": "/v1/demo/sessions"}  # fmt: skip
        route.fulfill(
            status=503,
            headers={"Content-Type": "application/problem+json", "Retry-After": "3"},
            body=json.dumps(body),
        )

    page.route("**/v1/demo/sessions", refuse)
    page.goto(f"{server.url}/", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    page.locator("#toggle").click()
    page.wait_for_function("() => window.edgevoice.state === 'failed'", timeout=EVENT_MS)

    problem = page.locator("#problem")
    assert problem.is_visible()
    assert detail in problem.inner_text()
    assert detail in page.locator("#status").inner_text()
    assert page.locator("#toggle").is_enabled()
    assert page.locator("#toggle").inner_text().strip() == "Start call"
    assert page.locator("#model").is_enabled()
    assert server.ready()["sessions"] == 0


def test_transcript_and_log_views(server: Server, page: Any) -> None:
    """The views the echo call cannot exercise: live deltas, finals, readable event rows."""
    page.goto(f"{server.url}/", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    rendered = page.evaluate(
        """async () => {
            const { Transcript, EventLog } = await import('/static/views.js');
            const t = new Transcript(document.getElementById('transcript'));
            t.final('user', 'item_1', 'what time is it');
            t.delta('assistant', 'item_2', 'It is ');
            t.delta('assistant', 'item_2', 'ten');
            const live = [...document.querySelectorAll('#transcript .line')].map(
                (li) => [li.className, li.querySelector('.said').textContent]);
            t.final('assistant', 'item_2', 'It is ten past nine.');
            const done = [...document.querySelectorAll('#transcript .line')].map(
                (li) => [li.className, li.textContent]);
            const log = new EventLog(document.getElementById('log'),
                                     document.getElementById('show-stats'));
            log.add({ seq: 1, time: 1, type: 'barge_in', played_ms: 840 });
            log.add({ seq: 2, time: 2, type: 'something.new', answer: 42 });
            log.add({ seq: 3, time: 3, type: 'error', message: 'model gone', code: 'model_down' });
            const rows = [...document.querySelectorAll('#log .ev')].slice(-3).map(
                (li) => [li.dataset.type, li.querySelector('.text').textContent]);
            return { live, done, rows };
        }"""
    )
    assert rendered["live"] == [
        ["line user", "what time is it"],
        ["line assistant live", "It is ten"],
    ]
    assert rendered["done"] == [
        ["line user", "Youwhat time is it"],
        ["line assistant", "AssistantIt is ten past nine."],
    ]
    assert rendered["rows"] == [
        ["barge_in", "interrupted after 840 ms"],
        ["something.new", '{"answer":42}'],
        ["error", "model gone (model_down)"],
    ]


def test_model_picker_follows_demo_config(server: Server, page: Any) -> None:
    """Only the models the server can run are offered, its default chosen; `?model=`
    naming one it cannot run falls back to the default."""
    config = {"models": ["echo"], "default_model": "echo"}
    page.route(
        "**/v1/demo/config",
        lambda route: route.fulfill(status=200, json=config),
    )
    page.goto(f"{server.url}/?model=local", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    options = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
    assert options == ["echo"]
    assert page.locator("#model").input_value() == "echo"
    assert page.locator("#model").is_enabled()
    assert hook(page, "config") == config
    assert "not available" in page.locator("#log").inner_text()


def test_model_picker_without_config_endpoint(server: Server, page: Any) -> None:
    """An older server without /v1/demo/config: the built-in list stays, calls still work."""
    page.route(
        "**/v1/demo/config",
        lambda route: route.fulfill(
            status=404,
            headers={"Content-Type": "application/problem+json"},
            body=json.dumps({"title": "Not Found", "status": 404, "detail": "no such route"}),
        ),
    )
    page.goto(f"{server.url}/", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    options = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
    assert options == ["local", "echo"]
    assert page.locator("#model").input_value() == "local"
    assert hook(page, "config") is None
    assert page.locator("#toggle").is_enabled()


def test_real_demo_config_fills_the_picker(server: Server, page: Any) -> None:
    real = httpx.get(f"{server.url}/v1/demo/config", timeout=5).json()
    page.goto(f"{server.url}/", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    options = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
    assert options == real["models"]
    assert page.locator("#model").input_value() == real["default_model"]


def test_turn_panel_and_tool_lines(server: Server, page: Any) -> None:
    """Turn figures from events, without a model: last turn, parts, history, p50."""
    page.goto(f"{server.url}/", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    shown = page.evaluate(
        """async () => {
            const { TurnPanel } = await import('/static/turns.js');
            const $ = (id) => document.getElementById(id);
            const p = new TurnPanel({ value: $('v2v'), parts: $('v2v-parts'), bar: $('v2v-bar'),
                                      history: $('v2v-history'), summary: $('v2v-summary') });
            const base = { model_first_audio_ms: 700, ingress_ms: 0.4, egress_ms: 12 };
            p.add({ item_id: 'a', voice_to_voice_ms: 800, ...base });
            const again = p.add({ item_id: 'a', voice_to_voice_ms: 800, ...base });
            p.add({ item_id: 'b', voice_to_voice_ms: 1200, ...base });
            p.add({ item_id: 'c', voice_to_voice_ms: 900, ...base });
            const parts = [...document.querySelectorAll('#v2v-parts [data-part]')].map(
                (e) => [e.dataset.part, e.querySelector('b').textContent]);
            return { again, value: $('v2v').textContent, parts,
                     cols: $('v2v-history').childElementCount,
                     summary: $('v2v-summary').textContent };
        }"""
    )
    assert shown["again"] is False
    assert shown["value"] == "900 ms"
    assert shown["parts"] == [
        ["ingress", "0.4 ms"],
        ["model", "700 ms"],
        ["egress", "12 ms"],
        ["other", "188 ms"],
    ]
    assert shown["cols"] == 3
    assert shown["summary"] == "3 turns · p50 900 ms"
