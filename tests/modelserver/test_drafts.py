"""Replies drafted while the caller's silence runs (modelserver/draft.py, vad.py)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np

from edgevoice.bench.audio import DATA, wav_pcm
from edgevoice.bench.caller import voiced_span
from edgevoice.modelserver.brain import CallTool, Say
from edgevoice.modelserver.draft import Draft, DraftKey, complete_turn, first_sentence
from edgevoice.modelserver.vad import (
    Continued,
    Quiet,
    Started,
    Stopped,
    TurnStateMachine,
    draft_after_ms,
)

from .conftest import Client
from .test_voice_turns import collect_reply


def events(machine: TurnStateMachine, flags: list[bool]) -> list[Any]:
    seen = [machine.step(flag, (index + 1) * 20) for index, flag in enumerate(flags)]
    return [change for change in seen if change is not None]


def test_quiet_comes_once_before_the_turn_ends() -> None:
    machine = TurnStateMachine(silence_duration_ms=200, onset_ms=40, draft_ms=80)
    flags = [True] * 3 + [False] * 10
    assert events(machine, flags) == [Started(0), Quiet(60), Stopped(60)]


def test_speech_after_quiet_continues_the_turn_and_drafts_again() -> None:
    machine = TurnStateMachine(silence_duration_ms=200, onset_ms=40, draft_ms=80)
    flags = [True] * 3 + [False] * 5 + [True] * 2 + [False] * 10
    assert events(machine, flags) == [Started(0), Quiet(60), Continued(), Quiet(200), Stopped(200)]


def test_speech_before_quiet_says_nothing() -> None:
    machine = TurnStateMachine(silence_duration_ms=200, onset_ms=40, draft_ms=80)
    flags = [True] * 3 + [False] * 2 + [True] + [False] * 10
    assert events(machine, flags) == [Started(0), Quiet(120), Stopped(120)]


def test_a_complete_turn_ends_sooner_and_speech_restores_the_wait() -> None:
    machine = TurnStateMachine(silence_duration_ms=400, onset_ms=40, draft_ms=100)
    assert events(machine, [True] * 3 + [False] * 5) == [Started(0), Quiet(60)]
    machine.end_turn_after(140)
    assert machine.step(False, 180) is None  # 6 silent frames
    assert machine.step(False, 200) == Stopped(60)  # 7 frames = 140 ms
    # a new turn waits the full silence again, even if the last one was shortened
    assert events(machine, [True] * 3 + [False] * 19) == [Started(0), Quiet(60)]


def test_no_draft_without_room_for_one() -> None:
    assert draft_after_ms(500) == 200
    assert draft_after_ms(300) == 150
    assert draft_after_ms(20) == 0
    machine = TurnStateMachine(silence_duration_ms=100, onset_ms=40, draft_ms=200)
    assert events(machine, [True] * 3 + [False] * 6) == [Started(0), Stopped(60)]


def test_first_sentence_and_complete_turns() -> None:
    say = Say("Sure. Your appointment is booked.")
    assert first_sentence(say, ["audio"]) == "Sure."
    assert first_sentence(say, ["text"]) is None
    assert first_sentence(CallTool("get_time", "{}"), ["audio"]) is None
    assert complete_turn("what time is it")
    assert complete_turn("hello can you hear me")
    assert not complete_turn("the weather in")
    assert not complete_turn("")


async def test_drafted_audio_is_used_only_for_its_own_sentence() -> None:
    async with asyncio.timeout(5):
        audio = np.arange(10, dtype=np.int16)
        draft = Draft()

        async def work() -> np.ndarray:
            draft.key = DraftKey("Hi there!", 24000, 1.0)
            draft.decided.set()
            return audio

        draft.start(work())
        assert await draft.audio_for(DraftKey("Hi there!", 24000, 1.0)) is audio
        assert await draft.audio_for(DraftKey("Goodbye!", 24000, 1.0)) is None
        assert await draft.audio_for(DraftKey("Hi there!", 8000, 1.0)) is None

        failed = Draft()

        async def broken() -> np.ndarray:
            failed.key = DraftKey("Hi there!", 24000, 1.0)
            raise RuntimeError("synthesis failed")

        failed.start(broken())
        assert await failed.audio_for(DraftKey("Hi there!", 24000, 1.0)) is None


def hello_pause_question(pause_s: float) -> bytes:
    """ "Hello, can you hear me?", a pause, "What time is it?" (24 kHz PCM16)."""
    hello, question = wav_pcm(DATA / "hello.wav"), wav_pcm(DATA / "what_time.wav")
    hello_span, question_span = voiced_span(hello), voiced_span(question)
    assert hello_span is not None and question_span is not None
    margin = 24_000 // 20
    pause = np.zeros(int(24_000 * pause_s), dtype=np.int16)
    parts = [hello[: hello_span[1] + margin], pause, question[question_span[0] - margin :]]
    return np.concatenate(parts).astype("<i2").tobytes()


def paced_silence_frame() -> dict[str, Any]:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(bytes(960)).decode()}


async def test_caller_going_on_after_a_pause_is_one_turn_answered_in_full(client: Client) -> None:
    """A 300 ms pause drafts a greeting; the question after it must win."""
    async with asyncio.timeout(60):
        assert (await client.recv())["type"] == "session.created"
        detection = {"type": "server_vad", "silence_duration_ms": 500}
        audio_in = {"transcription": {"model": "pocketsphinx-en-us"}, "turn_detection": detection}
        await client.send({"type": "session.update", "session": {"audio": {"input": audio_in}}})
        await client.until("session.updated")
        await client.stream(hello_pause_question(pause_s=0.3))
        await client.until("input_audio_buffer.speech_stopped")
        reply = await collect_reply(client)
    heard = client.of_type("conversation.item.input_audio_transcription.completed")
    assert len(client.of_type("input_audio_buffer.speech_stopped")) == 1
    assert (
        len(heard) == 1 and "hear me" in heard[0]["transcript"] and "time" in heard[0]["transcript"]
    )
    # "what time" comes first in the brain's rules: the greeting drafted at the pause is dropped
    assert reply["transcript"].startswith("It's ")


async def test_semantic_vad_ends_a_complete_turn_sooner(client: Client) -> None:
    """eagerness "low" waits 900 ms of silence, but 500 ms once the words are a request."""
    async with asyncio.timeout(60):
        assert (await client.recv())["type"] == "session.created"
        detection = {"type": "semantic_vad", "eagerness": "low"}
        await client.send(
            {
                "type": "session.update",
                "session": {"audio": {"input": {"turn_detection": detection}}},
            }
        )
        await client.until("session.updated")
        booking = wav_pcm(DATA / "book_appointment.wav")
        span = voiced_span(booking)
        assert span is not None
        tail = 24_000 // 20  # 50 ms past the last loud window, then the wav is cut
        await client.stream(booking[: span[1] + tail].astype("<i2").tobytes())
        stopped: list[dict[str, Any]] = []

        async def wait_stop() -> None:
            stopped.append(await client.until("input_audio_buffer.speech_stopped"))

        waiter = asyncio.create_task(wait_stop())
        silence_ms = 50
        while not waiter.done() and silence_ms < 1200:
            await client.send(paced_silence_frame())
            silence_ms += 20
            await asyncio.wait({waiter}, timeout=0.02)
        await waiter
    assert stopped
    # stopped well before the 900 ms wait (the frames sent are an upper bound on its position)
    assert silence_ms < 900, silence_ms
