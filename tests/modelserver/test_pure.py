"""Pure decisions tested directly: intents, sentences, replies, turn state, config, parsing."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from edgevoice.modelserver.audio import decode_wire, encode_wire
from edgevoice.modelserver.brain import (
    CallTool,
    Intent,
    Say,
    ToolReturned,
    UserSaid,
    booking_slot,
    decide,
    match_intent,
    spoken_time,
    time_from_tool_output,
)
from edgevoice.modelserver.client_events import ItemCreate, parse_client_event
from edgevoice.modelserver.config import SessionConfig, apply_update, deep_merge
from edgevoice.modelserver.conversation import truncated_transcript
from edgevoice.modelserver.errors import InvalidEventError, UnsupportedFeatureError
from edgevoice.modelserver.input_buffer import InputBuffer
from edgevoice.modelserver.items import FunctionCallOutputItem
from edgevoice.modelserver.sentences import split_sentences
from edgevoice.modelserver.vad import Started, Stopped, TurnStateMachine, aggressiveness

NOON = datetime(2025, 1, 2, 12, 5)


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("Hello, can you hear me?", Intent.GREETING),
        ("oh can you hear me", Intent.GREETING),
        ("hi there", Intent.GREETING),
        ("I would like to book an appointment for tomorrow", Intent.BOOKING),
        ("what time is it right now", Intent.TIME),
        ("What's the time?", Intent.TIME),
        ("goodbye", Intent.GOODBYE),
        ("thank you that's all", Intent.GOODBYE),
        ("they keep that is all the bag", Intent.GOODBYE),
        ("thanks a lot", Intent.THANKS),
        ("the weather in paris", Intent.UNKNOWN),
        ("  ...  ", Intent.SILENCE),
        ("", Intent.SILENCE),
    ],
)
def test_match_intent(said: str, intent: Intent) -> None:
    assert match_intent(said) is intent


def test_words_inside_other_words_do_not_match() -> None:
    assert match_intent("this is a high shelf") is Intent.UNKNOWN  # "hi" inside "high"
    assert match_intent("a nice bookshelf") is Intent.UNKNOWN


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hi there! Yes. How are you?", ["Hi there!", "Yes.", "How are you?"]),
        ("It is 10.30 now. Bye", ["It is 10.30 now.", "Bye"]),
        ("Dr. Smith will see you. Fine?", ["Dr. Smith will see you.", "Fine?"]),
        ("See J. Doe at 5 p.m. tomorrow.", ["See J. Doe at 5 p.m. tomorrow."]),
        ("Wait... what?! Okay.", ["Wait...", "what?!", "Okay."]),
        ('He said "go." Then left.', ['He said "go."', "Then left."]),
        ("no punctuation at all", ["no punctuation at all"]),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_booking_slot() -> None:
    assert booking_slot("book for tomorrow in the morning") == "tomorrow morning"
    assert booking_slot("book on friday") == "Friday"
    assert booking_slot("book an appointment") is None


def test_time_replies() -> None:
    assert spoken_time(NOON) == "12:05 PM"
    assert spoken_time(datetime(2025, 1, 2, 0, 7)) == "12:07 AM"
    assert decide([UserSaid("what time is it")], frozenset({"get_time"}), NOON) == CallTool(
        "get_time", "{}"
    )
    assert decide([UserSaid("what time is it")], frozenset(), NOON) == Say("It's 12:05 PM.")
    answer = decide(
        [UserSaid("what time is it"), ToolReturned("get_time", '{"time": "10:42"}')],
        frozenset({"get_time"}),
        NOON,
    )
    assert isinstance(answer, Say) and "10:42" in answer.text


@pytest.mark.parametrize(
    ("output", "time"),
    [
        ("10:42", "10:42"),
        ('{"time": "3:15 PM"}', "3:15 PM"),
        ('{"current_time": "2025-01-02T09:30:00"}', "9:30 AM"),
        ("2025-01-02 21:04:00", "9:04 PM"),
    ],
)
def test_time_from_tool_output(output: str, time: str) -> None:
    assert time_from_tool_output(output) == time


def test_decide_answers_the_latest_turn_and_opens_conversations() -> None:
    history = [ToolReturned("get_time", "10:42"), UserSaid("goodbye")]
    reply = decide(history, frozenset({"get_time"}), NOON)
    assert isinstance(reply, Say) and reply.text.startswith("Goodbye")
    opening = decide([], frozenset(), NOON)
    assert isinstance(opening, Say) and "help" in opening.text


def test_turn_state_machine() -> None:
    machine = TurnStateMachine(silence_duration_ms=100, onset_ms=60)
    flags = [False] * 3 + [True] * 5 + [False, True] + [False] * 5
    seen = [machine.step(flag, (index + 1) * 20) for index, flag in enumerate(flags)]
    changes = [change for change in seen if change is not None]
    assert changes == [Started(60), Stopped(200)]


def test_aggressiveness() -> None:
    assert [aggressiveness(t) for t in (0.0, 0.3, 0.5, 0.8, 1.0)] == [0, 1, 2, 3, 3]


def test_truncated_transcript() -> None:
    spoken = [("Hi there!", 700), ("Yes.", 1200), ("Bye.", 1900)]
    assert truncated_transcript(spoken, 1300) == "Hi there! Yes."
    assert truncated_transcript(spoken, 100) == ""


def test_session_update_merges_and_replaces() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    config = apply_update(
        SessionConfig(),
        {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.8}}}},
    )
    vad = config.server_vad
    assert vad is not None and vad.threshold == 0.8 and vad.silence_duration_ms == 500
    manual = apply_update(config, {"audio": {"input": {"turn_detection": None}}})
    assert manual.server_vad is None
    assert manual.audio.output.voice == "joe"
    semantic = apply_update(
        SessionConfig(),
        {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}}},
    )
    assert semantic.server_vad is not None and semantic.server_vad.silence_duration_ms == 300
    with pytest.raises(InvalidEventError):
        apply_update(SessionConfig(), {"audio": {"output": {"speed": 100}}})
    with pytest.raises(UnsupportedFeatureError):
        apply_update(SessionConfig(), {"tools": [{"type": "mcp", "server_label": "x"}]})


def test_parse_client_event() -> None:
    event = parse_client_event(
        '{"type": "conversation.item.create", "item": {"type": "function_call_output",'
        ' "call_id": "call_1", "output": "10:42"}}'
    )
    assert isinstance(event, ItemCreate)
    assert isinstance(event.item, FunctionCallOutputItem)
    for bad, code in [
        ("[]", "invalid_json"),
        ("{", "invalid_json"),
        ('{"type": "x.y"}', "unknown_event"),
        ('{"type": "conversation.item.truncate", "item_id": "i"}', "invalid_value"),
    ]:
        with pytest.raises(InvalidEventError) as caught:
            parse_client_event(bad)
        assert caught.value.code == code


def test_g711_round_trip() -> None:
    tone = (np.sin(np.arange(800) / 7) * 12000).astype(np.int16)
    for fmt in ("audio/pcmu", "audio/pcma"):
        back, rate = decode_wire(encode_wire(tone, fmt), fmt)
        assert rate == 8000
        assert np.max(np.abs(back.astype(int) - tone)) < 600


def test_input_buffer_clock() -> None:
    buffer = InputBuffer()
    buffer.append(np.zeros(16_000, dtype=np.int16))
    buffer.keep_last(300)
    assert (buffer.start_ms, buffer.end_ms) == (700, 1000)
    assert buffer.take().size == 4_800
    assert (buffer.start_ms, buffer.duration_ms) == (1000, 0)


def test_leading_silence_is_cut_to_a_few_ms_before_the_first_sound() -> None:
    from edgevoice.modelserver.tts import trim_leading_silence

    rate = 22050
    quiet = np.zeros(rate // 20, np.float32)  # 50 ms
    sound = np.full(rate // 10, 0.3, np.float32)
    trimmed = trim_leading_silence(np.concatenate([quiet, sound]), rate)
    assert len(sound) <= len(trimmed) <= len(sound) + rate // 100
    assert trim_leading_silence(quiet, rate).size == quiet.size  # all quiet: untouched
