"""The session body's ``barge_in`` reaches the node's bridge (schemas → record → settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from edgevoice.bridge.bargein import BargeInSettings
from edgevoice.bridge.model import SessionSettings
from edgevoice.cluster.nodeapi import settings_from_json, settings_to_json
from edgevoice.signalling.service import barge_in_of
from tests.conftest import Server
from tests.peers import Talker


@pytest.fixture
async def agent(server_url: str, make_server: Callable[..., Any]) -> AsyncIterator[Server]:
    async with make_server(model="local", local_model_url=f"ws://{server_url}/v1/realtime") as s:
        yield s


def test_record_to_bridge_settings() -> None:
    assert barge_in_of(None) == BargeInSettings()
    assert barge_in_of({"enabled": False, "confirm_window_ms": 250}) == BargeInSettings(
        enabled=False, confirm_window_s=0.25
    )


def test_settings_cross_the_cluster_seam() -> None:
    settings = SessionSettings(model="local", barge_in=BargeInSettings(confirm_window_s=0.4))
    assert settings_from_json(settings_to_json(settings)) == settings
    old = settings_to_json(settings)
    del old["barge_in"]  # a signalling from before the field: the defaults
    assert settings_from_json(old).barge_in == BargeInSettings()


@pytest.mark.parametrize(
    "barge_in",
    [{"confirm_window_ms": 50}, {"confirm_window_ms": 60_000}, {"enabled": "maybe"}, {"x": 1}],
)
async def test_bad_barge_in_is_a_400_naming_the_field(
    make_server: Callable[..., Any], barge_in: dict[str, Any]
) -> None:
    async with make_server() as server:
        response = await server.http.post(
            "/v1/sessions", json={"model": "echo", "barge_in": barge_in}, headers=server.auth
        )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "barge_in" in response.text


async def test_session_body_sets_the_edge_barge_in(agent: Server) -> None:
    talkers: list[Talker] = []
    try:
        shown: dict[str, Any] = {}
        for name, barge_in in (
            ("default", None),
            ("off", {"enabled": False}),
            ("short", {"confirm_window_ms": 250}),
        ):
            talker = Talker()
            talkers.append(talker)
            body = {} if barge_in is None else {"barge_in": barge_in}
            session = await agent.connect(talker, model="local", **body)
            live = agent.node.sessions[session["id"]]
            shown[name] = (live.settings.barge_in, live.bridge.stats()["barge_in"]["edge_detector"])
        assert shown["default"] == (BargeInSettings(), "webrtcvad")
        assert shown["off"] == (BargeInSettings(enabled=False), None)  # no detector runs
        assert shown["short"] == (BargeInSettings(confirm_window_s=0.25), "webrtcvad")
    finally:
        for talker in talkers:
            await talker.close()
