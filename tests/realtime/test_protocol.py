"""The pure parts: event translation, client-event builders, backoff, μ-law."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import numpy as np
import pytest

from edgevoice.bridge import events as ev
from edgevoice.bridge import protocol
from edgevoice.bridge.g711 import make_codec, mulaw_decode, mulaw_encode
from edgevoice.bridge.model import SessionSettings
from edgevoice.bridge.reconnect import Backoff, RecentTurns, backoff_delay

from .conformance import check_client_event, check_server_event

AUDIO = base64.b64encode(b"\x01\x02\x03\x04").decode()
PLACE = {"response_id": "r", "item_id": "i", "output_index": 0, "content_index": 0}

GA_CASES: list[tuple[dict[str, Any], ev.ModelEvent]] = [
    ({"type": "response.output_audio.delta", **PLACE, "delta": AUDIO},
     ev.AudioDelta("r", "i", b"\x01\x02\x03\x04")),
    ({"type": "response.output_audio.done", **PLACE}, ev.AudioDone("r", "i")),
    ({"type": "response.output_audio_transcript.delta", **PLACE, "delta": "Hel"},
     ev.TranscriptDelta("r", "i", "Hel")),
    ({"type": "response.output_audio_transcript.done", **PLACE, "transcript": "Hello"},
     ev.TranscriptDone("r", "i", "Hello")),
    ({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u",
      "content_index": 0, "transcript": "hi", "usage": {"type": "duration", "seconds": 1}},
     ev.InputTranscript("u", "hi")),
    ({"type": "input_audio_buffer.speech_started", "item_id": "u", "audio_start_ms": 40},
     ev.SpeechStarted("u", 40)),
    ({"type": "input_audio_buffer.speech_stopped", "item_id": "u", "audio_end_ms": 980},
     ev.SpeechStopped("u", 980)),
    ({"type": "response.created", "response": {"id": "r", "status": "in_progress"}},
     ev.ResponseCreated("r")),
    ({"type": "response.done", "response": {"id": "r", "status": "cancelled"}},
     ev.ResponseDone("r", "cancelled")),
    ({"type": "response.function_call_arguments.done", "response_id": "r", "item_id": "f",
      "output_index": 0, "call_id": "c", "name": "get_time", "arguments": "{}"},
     ev.FunctionCall("r", "c", "get_time", "{}")),
    ({"type": "error", "error": {"type": "invalid_request_error", "code": "x", "message": "m"}},
     ev.ModelError("m", "x", "invalid_request_error")),
]  # fmt: skip


@pytest.mark.parametrize(("event", "expected"), GA_CASES, ids=lambda x: getattr(x, "type", ""))
def test_ga_events_translate(event: dict[str, Any], expected: ev.ModelEvent) -> None:
    check_server_event({"event_id": "e", **event})  # the fixture itself is real GA
    assert protocol.translate(event) == expected


@pytest.mark.parametrize(
    ("beta", "ga"),
    [("response.audio.delta", "response.output_audio.delta"),
     ("response.audio.done", "response.output_audio.done"),
     ("response.audio_transcript.delta", "response.output_audio_transcript.delta"),
     ("response.audio_transcript.done", "response.output_audio_transcript.done")],
)  # fmt: skip
def test_beta_names_translate_like_ga(beta: str, ga: str) -> None:
    event = next(e for e, _ in GA_CASES if e["type"] == ga)
    assert protocol.translate({**event, "type": beta}) == protocol.translate(event)


def test_session_events_and_quiet_and_unknown() -> None:
    created = protocol.translate({"type": "session.created", "session": {"id": "s"}})
    assert created == protocol.SessionEvent("created", {"id": "s"})
    assert protocol.translate({"type": "conversation.item.created", "item": {}}) is None
    assert protocol.is_known("conversation.item.created")
    assert protocol.is_known("conversation.item.added")
    assert protocol.translate({"type": "brand.new"}) is None
    assert not protocol.is_known("brand.new")


@pytest.mark.parametrize(
    "raw",
    ["nope", "[]", '{"type": 3}', '{"no": "type"}'],
)
def test_parse_json_refuses_junk(raw: str) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_json(raw)


@pytest.mark.parametrize(
    "event",
    [{"type": "response.output_audio.delta", **PLACE},
     {"type": "response.output_audio.delta", **PLACE, "delta": "!!"},
     {"type": "input_audio_buffer.speech_started", "item_id": "u", "audio_start_ms": True},
     {"type": "response.done", "response": None},
     {"type": "response.created", "response": {"status": "in_progress"}},
     {"type": "error", "error": "boom"}],
)  # fmt: skip
def test_malformed_events_raise(event: dict[str, Any]) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.translate(event)


def test_response_done_without_status() -> None:
    assert protocol.translate({"type": "response.done", "response": {"id": "r"}}) == (
        ev.ResponseDone("r", "unknown")
    )


def test_ignored_error_code() -> None:
    assert protocol.is_ignored_error(ev.ModelError("m", "response_cancel_not_active"))
    assert not protocol.is_ignored_error(ev.ModelError("m", "other"))


def test_session_update_from_settings_is_conformant() -> None:
    settings = SessionSettings(
        model="gpt-realtime",
        turn_detection={"type": "semantic_vad", "eagerness": "low", "threshold": 0.5},
        tools=({"type": "function", "function": {"name": "f", "description": "d"}},),
        input_transcription={"model": "gpt-4o-transcribe", "bogus": 1},
    )
    update = protocol.session_update(settings, {"type": "audio/pcm", "rate": 24000})
    check_client_event(update)
    audio_in = update["session"]["audio"]["input"]
    assert audio_in["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    assert audio_in["transcription"] == {"model": "gpt-4o-transcribe"}
    assert update["session"]["tools"] == [{"type": "function", "name": "f", "description": "d"}]
    assert "instructions" not in update["session"] and "voice" not in update["session"]["audio"]


def test_default_turn_detection_and_bad_type() -> None:
    assert protocol.turn_detection_config({"threshold": 0.3}) == {
        "type": "server_vad", "threshold": 0.3,
    }  # fmt: skip
    with pytest.raises(ValueError, match="turn_detection"):
        protocol.turn_detection_config({"type": "push_to_talk"})
    with pytest.raises(ValueError, match="name"):
        protocol.function_tool({"type": "function"})


@pytest.mark.parametrize(
    ("turn", "cancels"),
    [(None, False), ({"type": "server_vad"}, True),
     ({"type": "server_vad", "interrupt_response": True}, True),
     ({"type": "server_vad", "interrupt_response": False}, False),
     ({"type": "semantic_vad", "interrupt_response": False}, False)],
)  # fmt: skip
def test_server_cancels_on_barge_in(turn: dict[str, Any] | None, cancels: bool) -> None:
    assert protocol.server_cancels_on_barge_in(turn) is cancels


def test_builders_are_conformant() -> None:
    for event in (
        protocol.audio_append(b"\x00\x01"),
        protocol.item_truncate("i", -5),
        protocol.response_cancel("r"),
        protocol.response_cancel(None),
        protocol.response_create(),
        protocol.function_call_output("c", '{"a": 1}'),
        protocol.message_item("user", "hello"),
        protocol.message_item("assistant", "hi there"),
    ):
        check_client_event(event)
    assert protocol.item_truncate("i", -5)["audio_end_ms"] == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [("wss://api.openai.com/v1/realtime", "wss://api.openai.com/v1/realtime?model=m"),
     ("ws://127.0.0.1:9/v1/realtime?model=old&x=1", "ws://127.0.0.1:9/v1/realtime?x=1&model=m")],
)  # fmt: skip
def test_realtime_url(url: str, expected: str) -> None:
    assert protocol.realtime_url(url, "m") == expected


# backoff and replay ----------------------------------------------------------------


def test_backoff_delay_doubles_to_the_cap() -> None:
    delays = [
        backoff_delay(n, initial=0.2, factor=2, cap=5, jitter=0.0, rand=0.5) for n in range(8)
    ]
    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    low = backoff_delay(2, initial=0.2, factor=2, cap=5, jitter=0.25, rand=0.0)
    high = backoff_delay(2, initial=0.2, factor=2, cap=5, jitter=0.25, rand=0.999999)
    assert low == pytest.approx(0.6) and high == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError):
        backoff_delay(-1, initial=1, factor=2, cap=5, jitter=0, rand=0)


def test_backoff_stops_at_the_budget() -> None:
    delays = list(Backoff(give_up_after=60).delays(rand=lambda: 0.5))
    assert sum(delays) <= 60
    assert delays[:6] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0])
    assert len(delays) == 6 + int((60 - 11.2) // 5)  # then 5 s waits while they fit
    assert list(itertools.islice(Backoff(give_up_after=0.1).delays(), 3)) == []


def test_recent_turns_keep_the_last_ones() -> None:
    turns = RecentTurns(limit=3)
    for n in range(5):
        turns.add("user" if n % 2 == 0 else "assistant", f"turn {n}")
    turns.add("user", "   ")
    assert [(t.role, t.text) for t in turns.turns()] == [
        ("user", "turn 2"), ("assistant", "turn 3"), ("user", "turn 4"),
    ]  # fmt: skip
    assert len(turns) == 3


# G.711 μ-law -------------------------------------------------------------------------


def test_mulaw_known_codes() -> None:
    samples = np.array([0, -1, 32767, -32768, 1000, -1000], dtype="<i2")
    assert mulaw_encode(samples.tobytes()) == bytes([0xFF, 0x7F, 0x80, 0x00, 0xCE, 0x4E])
    decoded = np.frombuffer(mulaw_decode(bytes([0xFF, 0x80, 0x00])), dtype="<i2")
    assert decoded.tolist() == [0, 32124, -32124]


def test_mulaw_round_trip_is_within_a_quantization_step() -> None:
    samples = np.arange(-32768, 32768, 7, dtype=np.int32).astype("<i2")
    back = np.frombuffer(mulaw_decode(mulaw_encode(samples.tobytes())), dtype="<i2")
    error = np.abs(back.astype(np.int32) - samples.astype(np.int32))
    big = np.abs(samples.astype(np.int32)) > 256
    assert (error[big] / np.abs(samples[big].astype(np.int32))).max() < 0.05
    assert error[~big].max() <= 16


def test_codecs() -> None:
    pcm = make_codec("pcm16")
    assert pcm.encode(b"ab") == b"ab" and pcm.decode(b"ab") == b"ab" and pcm.flush() == b""
    ulaw = make_codec("pcmu")
    assert ulaw.wire_format == {"type": "audio/pcmu"}
    with pytest.raises(ValueError, match="audio format"):
        make_codec("opus")  # type: ignore[arg-type]
