"""Pure rules of WHEP listeners and CORS: which paths, tokens kept, If-Match, recent ends."""

from __future__ import annotations

from edgevoice.signalling import cors
from edgevoice.signalling.listeners import (
    MAX_TOKENS,
    if_match_ok,
    is_listener_token,
    listener_etag,
    new_listener_token,
    remember_token,
)
from edgevoice.signalling.records import SessionRecord
from edgevoice.signalling.service import RECENT_END_SECONDS, ended_recently


def test_cors_covers_every_whip_and_whep_path_and_nothing_else() -> None:
    for path in ("/v1/whip", "/v1/whip/abc", "/v1/sessions/s1/whep", "/v1/sessions/s1/whep/l1"):
        assert cors.covers(path), path
    for path in ("/v1/sessions", "/v1/sessions/s1", "/v1/sessions/s1/listeners", "/internal/v1/x"):
        assert not cors.covers(path), path
    pre = cors.preflight("POST, OPTIONS")
    assert pre["Access-Control-Allow-Origin"] == "*"
    assert "If-Match" in pre["Access-Control-Allow-Headers"]
    assert all(h in pre["Access-Control-Expose-Headers"] for h in ("Location", "ETag", "Link"))


def test_tokens_are_recognisable_and_the_oldest_are_forgotten() -> None:
    token = new_listener_token()
    assert is_listener_token(token) and not is_listener_token("evk_apikey")
    tokens: dict[str, float] = {}
    for i in range(MAX_TOKENS + 5):
        tokens = remember_token(tokens, f"h{i}", 1000.0 + i)
    assert len(tokens) == MAX_TOKENS
    assert "h0" not in tokens and f"h{MAX_TOKENS + 4}" in tokens


def test_if_match_and_etag() -> None:
    etag = listener_etag("listener")
    assert etag == listener_etag("listener") != listener_etag("other")
    assert if_match_ok(None, etag) and if_match_ok("*", etag) and if_match_ok('"*"', etag)
    assert if_match_ok(etag, etag) and not if_match_ok('"stale"', etag)


def test_a_delete_soon_after_the_end_is_a_repeat() -> None:
    record = SessionRecord(id="s", secret_hash="h", model="echo", expires_at=0)
    assert not ended_recently(record, 100.0)
    record.ended_at = 100.0
    assert ended_recently(record, 100.0 + RECENT_END_SECONDS)
    assert not ended_recently(record, 101.0 + RECENT_END_SECONDS)
