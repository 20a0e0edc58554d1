from __future__ import annotations

import pytest

from edgevoice.signalling.settings import Settings


def test_environment_sets_lists_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEVOICE_ICE_SERVERS", "stun:stun.example.net:3478, turn:t.example.net")
    monkeypatch.setenv("EDGEVOICE_MAX_SESSIONS", "7")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = Settings()
    assert settings.ice_servers == ["stun:stun.example.net:3478", "turn:t.example.net"]
    assert settings.max_sessions == 7
    assert settings.openai_api_key == "sk-test"


def test_demo_and_media_address_follow_the_bind_address() -> None:
    local = Settings(host="127.0.0.1")
    assert local.demo_enabled and local.effective_media_address == "127.0.0.1"
    public = Settings(host="0.0.0.0")
    assert not public.demo_enabled and public.effective_media_address is None
    assert Settings(host="0.0.0.0", demo=True).demo_enabled
    assert Settings(host="0.0.0.0", media_address="10.0.0.5").effective_media_address == "10.0.0.5"
