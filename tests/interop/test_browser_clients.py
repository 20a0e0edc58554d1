"""Unmodified third-party WHIP/WHEP browser clients against `edgevoice serve`, from a
page on another origin, in Debian's Chromium.

The page (tests/interop/page) bundles medooze's ``whip-whep`` 1.2.0 (WHIPClient and
WHEPClient), ``@eyevinn/whip-web-client`` 1.1.7 and ``@eyevinn/webrtc-player`` 0.13.0
(pinned in package-lock.json) with esbuild, and is served by a second HTTP server on
127.0.0.1 (another port, so another origin). Every request the libraries make crosses
origins: CORS, preflights included, is part of what is tested.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgevoice.localport import free_port
from tests.browser.conftest import Server, launch_chromium, new_page, run_server

HERE = Path(__file__).resolve().parent
API_KEY = "evk_interop_test_key"
pytestmark = pytest.mark.timeout(120)


def build_page() -> Path:
    """npm ci (when node_modules is missing) and the esbuild bundle; the page folder."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (scripts/test.sh installs Debian's nodejs npm)")
    if not (HERE / "node_modules" / ".bin" / "esbuild").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
    out = HERE / "dist"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [str(HERE / "node_modules" / ".bin" / "esbuild"), "page/interop.js", "--bundle",
         "--format=iife", f"--outfile={out / 'interop.js'}", "--log-level=warning"],
        cwd=HERE, check=True, timeout=120,
    )  # fmt: skip
    shutil.copy(HERE / "page" / "index.html", out / "index.html")
    return out


@contextlib.contextmanager
def page_server(folder: Path) -> Iterator[str]:
    """A plain static HTTP server on 127.0.0.1 and its own port: the page's origin."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("interop") / "edgevoice.log"
    with run_server("echo", log, env={"EDGEVOICE_API_KEY": API_KEY}) as running:
        yield running


@pytest.fixture(scope="module")
def page(edge: Server) -> Iterator[Any]:
    folder = build_page()
    with page_server(folder) as origin, launch_chromium() as chromium:
        assert origin != edge.url
        tab = new_page(chromium, 30_000)
        tab.goto(f"{origin}/index.html")
        tab.wait_for_function("window.interop !== undefined")
        yield tab
        tab.context.close()


class Answers:
    """Status codes the page's requests got, by method (seen by the browser)."""

    def __init__(self, tab: Any) -> None:
        self.seen: list[tuple[str, str, int]] = []
        tab.on("response", self._response)

    def _response(self, response: Any) -> None:
        self.seen.append((response.request.method, response.url, response.status))

    def statuses(self, method: str) -> list[int]:
        return [status for m, _, status in self.seen if m == method]


def create_session(edge: Server) -> dict[str, Any]:
    response = httpx.post(
        f"{edge.url}/v1/sessions", json={"model": "echo"},
        headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def listener_token(edge: Server, session_id: str) -> dict[str, Any]:
    response = httpx.post(
        f"{edge.url}/v1/sessions/{session_id}/listeners", json={"ttl_seconds": 60},
        headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def session_state(edge: Server, session_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{edge.url}/v1/sessions/{session_id}",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    return body


def test_whip_clients_connect_trickle_hear_and_hang_up(edge: Server, page: Any) -> None:
    answers = Answers(page)
    # medooze: sendrecv, standard RFC 8840 trickle, closes its peer and then DELETEs
    session = create_session(edge)
    result = page.evaluate(
        "([u, t]) => interop.medoozeWhip(u, t)",
        [session["whip_url"], session["client_secret"]["value"]],
    )
    assert result["connection"] == "connected"
    assert 204 in answers.statuses("PATCH"), answers.seen
    assert not [s for s in answers.statuses("PATCH") if s != 204], answers.seen
    (mid,) = result["mids"]
    assert result["stats"][mid]["energy"] > 0.0001, result  # the echo, heard
    page.evaluate("() => interop.medoozeWhipStop()")
    assert answers.statuses("DELETE") == [200], answers.seen
    assert session_state(edge, session["id"])["state"] == "closed"

    # Eyevinn: a send-only offer; trickles because OPTIONS lists PATCH
    answers.seen.clear()
    session = create_session(edge)
    result = page.evaluate(
        "([u, t]) => interop.eyevinnWhip(u, t)",
        [session["whip_url"], session["client_secret"]["value"]],
    )
    assert result["connection"] == "connected" and result["trickle"] is True
    assert 204 in answers.statuses("PATCH"), answers.seen
    state = session_state(edge, session["id"])
    assert state["state"] == "connected"
    page.evaluate("() => interop.eyevinnWhipStop()")
    assert answers.statuses("DELETE") == [200], answers.seen
    log = edge.log.read_text()
    assert "the caller receives no audio: the offer is send-only" in log


def test_whep_players_hear_caller_and_agent_cross_origin_with_a_token(
    edge: Server, page: Any
) -> None:
    answers = Answers(page)
    session = create_session(edge)
    page.evaluate(
        "([u, t]) => interop.medoozeWhip(u, t)",
        [session["whip_url"], session["client_secret"]["value"]],
    )
    grant = listener_token(edge, session["id"])
    try:
        # medooze's WHEPClient, two audio sections: the caller on one, the agent on the other
        result = page.evaluate(
            "([u, t]) => interop.medoozeWhep(u, t)", [grant["whep_url"], grant["token"]]
        )
        assert result["connection"] == "connected"
        caller_mid, agent_mid = result["mids"]
        assert result["stats"][caller_mid]["energy"] > 0.0001, result
        assert result["stats"][agent_mid]["energy"] > 0.0001, result
        # Eyevinn's player: video (rejected, port 0) + audio, which hears the mix
        result = page.evaluate(
            "([u, t]) => interop.eyevinnPlayer(u, t)", [grant["whep_url"], grant["token"]]
        )
        assert result["connection"] == "connected" and result["videoRejected"]
        (audio_mid,) = result["mids"]
        assert result["stats"][audio_mid]["energy"] > 0.0001, result
        live = session_state(edge, session["id"])["stats"]["tracks"]
        assert live["mix_audio"]["subscribers"] == 1 and live["mix_audio"]["frames"] > 0
        assert live["listeners"] == 2
        page.evaluate("() => interop.medoozeWhepStop()")
        page.evaluate("() => interop.eyevinnPlayerStop()")
        assert answers.statuses("DELETE") == [200, 200], answers.seen
        # an error's detail reaches the page (CORS on problem+json)
        error = page.evaluate(
            "([u, t]) => interop.rawError(u, t)", [grant["whep_url"], "evl_not_a_token"]
        )
        assert error.get("status") == 401, error
        assert "listener token" in error["body"]["detail"]
    finally:
        page.evaluate("() => interop.medoozeWhipStop()")
    log = edge.log.read_text()
    assert "WHEP listener" in log and "joined" in log and "left" in log
