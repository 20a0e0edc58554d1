"""The demo page with the offline model: a spoken question, a tool call, a spoken answer.

Chromium's fake microphone plays tests/data/what_time.wav with silence around it, the
server's default model is ``local`` (speech recognition, a ``get_time`` tool call and
speech synthesis, all offline), and everything stays on 127.0.0.1.
"""

from __future__ import annotations

import datetime
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import (
    ROOT,
    Server,
    install_loopback_offer_filter,
    launch_chromium,
    new_page,
    run_server,
)

pytestmark = pytest.mark.browser

QUESTION = ROOT / "tests" / "data" / "what_time.wav"
LEAD_SECONDS = 1.0  # the fake microphone starts before the call connects
TAIL_SECONDS = 9.0  # room for the answer before the loop asks again

CONNECT_MS = 20_000
ANSWER_MS = 30_000  # recognition, tool call and synthesis on a loaded 2-core machine
EVENT_MS = 15_000


def padded_question(into: Path) -> Path:
    """what_time.wav with silence before and after (Chromium loops the file)."""
    with wave.open(str(QUESTION), "rb") as src:
        params = src.getparams()
        speech = src.readframes(src.getnframes())
    frame = params.sampwidth * params.nchannels
    silence = b"\0" * frame
    out = into / "what_time_padded.wav"
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(silence * int(params.framerate * LEAD_SECONDS))
        dst.writeframes(speech)
        dst.writeframes(silence * int(params.framerate * TAIL_SECONDS))
    return out


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest.importorskip("edgevoice.modelserver.cli", reason="the offline model is not installed")
    log = tmp_path_factory.mktemp("local-server") / "edgevoice.log"
    with run_server("local", log, start_seconds=45) as running:
        yield running


@pytest.fixture(scope="module")
def question_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with launch_chromium(padded_question(tmp_path_factory.mktemp("mic"))) as chromium:
        yield chromium


@pytest.fixture
def page(question_browser: Any) -> Iterator[Any]:
    page = new_page(question_browser, EVENT_MS)
    try:
        yield page
    finally:
        page.context.close()


def hook(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => window.edgevoice.{expression}")


def wait_or_fail(page: Any, predicate: str, timeout: int, what: str, server: Server) -> None:
    try:
        page.wait_for_function(predicate, timeout=timeout)
    except Exception:
        events = [e for e in hook(page, "events") if e.get("type") != "stats"]
        pytest.fail(f"{what}; events: {events}\nserver log:\n{server.log.read_text()[-3000:]}")


def test_local_model_answers_by_voice(local_server: Server, page: Any, artifacts: Path) -> None:
    started = time.monotonic()
    config = httpx.get(f"{local_server.url}/v1/demo/config", timeout=5).json()
    assert config["default_model"] == "local", config
    hours = {datetime.datetime.now().strftime("%H")}

    offers = install_loopback_offer_filter(page)
    page.goto(f"{local_server.url}/", wait_until="load")
    page.wait_for_function("() => window.edgevoice && window.edgevoice.state === 'idle'")
    # The picker offers what the server can run, the server's default first chosen.
    options = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
    assert sorted(options) == sorted(config["models"])
    assert page.locator("#model").input_value() == "local"

    page.locator("#toggle").click()
    wait_or_fail(
        page, "() => window.edgevoice.state === 'connected'", CONNECT_MS, "no call", local_server
    )
    assert all(
        " 127.0.0.1 " in line for line in offers["filtered"].splitlines() if "a=candidate:" in line
    )

    # The question is recognised: a user line mentioning the time.
    wait_or_fail(
        page,
        """() => window.edgevoice.transcript.some(
                   t => t.role === 'user' && /time/i.test(t.text))""",
        ANSWER_MS,
        "no user transcript about the time",
        local_server,
    )
    # Reply energy before the answer: the baseline it must rise from.
    before = page.evaluate("() => window.edgevoice.stats.browser?.inbound?.totalAudioEnergy ?? 0")

    # The model calls get_time, and the page shows it in the transcript.
    wait_or_fail(
        page,
        "() => window.edgevoice.tools.some(t => t.name === 'get_time')",
        ANSWER_MS,
        "no get_time tool call",
        local_server,
    )
    tool = page.locator("#transcript .line.tool")
    assert "get_time" in tool.first.inner_text()

    # The spoken answer: an assistant line carrying the hour, then audible reply audio.
    wait_or_fail(
        page,
        "() => window.edgevoice.transcript.some(t => t.role === 'assistant')",
        ANSWER_MS,
        "no assistant transcript",
        local_server,
    )
    hours.add(datetime.datetime.now().strftime("%H"))
    answer = next(t["text"] for t in hook(page, "transcript") if t["role"] == "assistant")
    assert any(f"{hour}:" in answer for hour in hours), (answer, hours)
    wait_or_fail(
        page,
        f"""() => {{ const s = window.edgevoice.stats.browser;
                    return s && s.inbound && s.inbound.totalAudioEnergy > {before} + 1e-4; }}""",
        EVENT_MS,
        "the reply audio's energy did not rise",
        local_server,
    )

    # The DOM shows the exchange in order: question, tool, answer.
    lines = page.eval_on_selector_all(
        "#transcript .line", "els => els.map(e => [e.className, e.innerText])"
    )
    kinds = [cls.split()[1] for cls, _ in lines]
    assert kinds[:3] == ["user", "tool", "assistant"], lines
    assert "time" in lines[0][1].lower()
    assert answer in lines[2][1]

    # The voice-to-voice figure and its parts render from the `turn` event.
    wait_or_fail(
        page,
        """() => window.edgevoice.turns.length >= 1
               && /^\\d[\\d.,]* ms$/.test(document.getElementById('v2v').textContent.trim())
               && document.querySelector('#v2v-parts [data-part=model]') !== null""",
        EVENT_MS,
        "no voice-to-voice figure",
        local_server,
    )
    turn = hook(page, "turns[0]")
    assert turn["voice_to_voice_ms"] > 0
    assert turn["model_first_audio_ms"] > 0
    assert not page.locator("#v2v-bar").is_hidden()
    assert "answered in" in page.locator("#transcript .line.user").first.inner_text()

    artifacts.joinpath("demo-local.png").write_bytes(page.screenshot(full_page=True))

    page.locator("#toggle").click()
    page.wait_for_function("() => window.edgevoice.state === 'closed'", timeout=EVENT_MS)
    deadline = time.monotonic() + 10
    while (sessions := local_server.ready()["sessions"]) != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sessions == 0
    assert time.monotonic() - started < 60
