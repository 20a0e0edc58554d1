"""Whole voice turns through the official ``openai`` SDK client, with real models."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from .conftest import Client, load_wav_24k, rms

TIME_TOOL = {
    "type": "function",
    "name": "get_time",
    "description": "The current local time.",
    "parameters": {"type": "object", "properties": {}},
}


def session_update(**session: Any) -> dict[str, Any]:
    audio_in = {
        "format": {"type": "audio/pcm", "rate": 24000},
        "transcription": {"model": "pocketsphinx-en-us"},
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
    }
    body = {"type": "realtime", "audio": {"input": audio_in}, **session}
    return {"type": "session.update", "session": body}


async def collect_reply(client: Client, response_id: str | None = None) -> dict[str, Any]:
    """Read one spoken response to its response.done; return audio, transcript, timings."""
    audio = bytearray()
    transcript = ""
    first_audio_at: float | None = None
    while True:
        event = await client.recv()
        if response_id and event.get("response_id", response_id) != response_id:
            continue
        if event["type"] == "response.output_audio.delta":
            first_audio_at = first_audio_at or time.perf_counter()
            audio += base64.b64decode(event["delta"])
        elif event["type"] == "response.output_audio_transcript.delta":
            transcript += event["delta"]
        elif event["type"] == "response.done":
            return {
                "audio": bytes(audio),
                "transcript": transcript,
                "first_audio_at": first_audio_at,
                "done": event,
            }


async def test_time_question_runs_the_tool_path_offline(client: Client) -> None:
    async with asyncio.timeout(60):
        created = await client.recv()
        assert created["type"] == "session.created"
        assert created["session"]["model"] == "local"
        await client.send(session_update(tools=[TIME_TOOL]))
        await client.until("session.updated")
        await client.stream(load_wav_24k("what_time.wav"))

        stopped = await client.until("input_audio_buffer.speech_stopped")
        stopped_at = time.perf_counter()
        call = await client.until("response.function_call_arguments.done")
        call_latency = time.perf_counter() - stopped_at
        assert call["name"] == "get_time"
        assert json.loads(call["arguments"]) == {}
        done = await client.until("response.done")
        assert done["response"]["status"] == "completed"
        assert done["response"]["output"][0]["type"] == "function_call"
        transcripts = client.of_type("conversation.item.input_audio_transcription.completed")
        assert transcripts and transcripts[0]["item_id"] == stopped["item_id"]
        assert "time" in transcripts[0]["transcript"]

        output = {"type": "function_call_output", "call_id": call["call_id"], "output": "10:42"}
        await client.send({"type": "conversation.item.create", "item": output})
        await client.until("conversation.item.done")
        asked_at = time.perf_counter()
        await client.send({"type": "response.create"})
        reply = await collect_reply(client)

    assert reply["done"]["response"]["status"] == "completed"
    assert "10:42" in reply["transcript"]
    assert len(reply["audio"]) > 24_000  # more than half a second of speech
    assert rms(reply["audio"]) > 500
    print(
        f"\ntool call {call_latency * 1000:.0f} ms after speech_stopped; "
        f"first audio {(reply['first_audio_at'] - asked_at) * 1000:.0f} ms after response.create"
    )
    order = [e["type"] for e in client.events]
    for before, after in [
        ("input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped"),
        ("input_audio_buffer.speech_stopped", "input_audio_buffer.committed"),
        ("input_audio_buffer.committed", "conversation.item.added"),
        ("response.function_call_arguments.delta", "response.function_call_arguments.done"),
        ("response.content_part.added", "response.output_audio.delta"),
        ("response.output_audio.delta", "response.output_audio.done"),
        ("response.output_audio.done", "response.output_audio_transcript.done"),
        ("response.output_audio_transcript.done", "response.content_part.done"),
        ("response.content_part.done", "response.output_item.done"),
    ]:
        assert last(order, before) < last(order, after), (before, after)


def last(order: list[str], kind: str) -> int:
    return len(order) - 1 - order[::-1].index(kind)


async def spoken_turn(client: Client, wav: str) -> tuple[str, dict[str, Any], float]:
    """Stream ``wav`` with server VAD; return user transcript, reply and time to first audio."""
    assert (await client.recv())["type"] == "session.created"
    await client.send(session_update())
    await client.until("session.updated")
    await client.stream(load_wav_24k(wav))
    await client.until("input_audio_buffer.speech_stopped")
    stopped_at = time.perf_counter()
    reply = await collect_reply(client)
    heard = client.of_type("conversation.item.input_audio_transcription.completed")
    assert reply["first_audio_at"] is not None
    return heard[0]["transcript"], reply, reply["first_audio_at"] - stopped_at


async def test_booking_is_transcribed_and_confirmed(client: Client) -> None:
    async with asyncio.timeout(60):
        heard, reply, ttfa = await spoken_turn(client, "book_appointment.wav")
    print(f"\nbooking: heard {heard!r}; first audio {ttfa * 1000:.0f} ms after speech_stopped")
    assert "appointment" in heard
    assert "booked" in reply["transcript"]
    assert rms(reply["audio"]) > 500
    user_items = [
        e["item"] for e in client.of_type("conversation.item.done") if e["item"]["role"] == "user"
    ]
    assert user_items[0]["content"][0]["transcript"] == heard


async def test_greeting_streams_first_sentence_quickly(client: Client) -> None:
    async with asyncio.timeout(60):
        heard, reply, ttfa = await spoken_turn(client, "hello.wav")
    print(f"\ngreeting: heard {heard!r}; first audio {ttfa * 1000:.0f} ms after speech_stopped")
    assert "hear me" in heard
    assert reply["transcript"].startswith("Hi there!")
    deltas = client.of_type("response.output_audio_transcript.delta")
    assert len(deltas) >= 2  # streamed sentence by sentence
    assert ttfa < 3.0


async def test_time_without_tool_is_answered_directly(client: Client) -> None:
    async with asyncio.timeout(60):
        _, reply, _ = await spoken_turn(client, "what_time.wav")
    assert not client.of_type("response.function_call_arguments.done")
    assert "AM" in reply["transcript"] or "PM" in reply["transcript"]


async def test_goodbye_gets_a_farewell(client: Client) -> None:
    async with asyncio.timeout(60):
        _, reply, _ = await spoken_turn(client, "goodbye.wav")
    assert "Goodbye" in reply["transcript"]
