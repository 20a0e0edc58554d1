"""The real RealtimeClient against the scripted peer: handshake, audio, events, barge-in."""

from __future__ import annotations

import asyncio
import base64
import json
from http import HTTPStatus

import numpy as np
import pytest
from websockets.asyncio.client import connect

from edgevoice.bridge import events as ev
from edgevoice.bridge.errors import ModelRejected, ModelUnavailable
from edgevoice.bridge.g711 import mulaw_encode
from edgevoice.bridge.model import SessionSettings

from .conftest import Events, MakeClient, started
from .peer import RealtimePeer

FRAME = 960  # 20 ms of PCM16 at 24 kHz


def frame(index: int) -> bytes:
    return bytes([index % 256]) * FRAME


SETTINGS = SessionSettings(
    model="gpt-realtime",
    instructions="Be brief.",
    voice="marin",
    turn_detection={
        "type": "server_vad", "threshold": 0.6, "prefix_padding_ms": 200,
        "silence_duration_ms": 400, "create_response": True, "interrupt_response": True,
    },
    tools=(
        {"type": "function", "name": "get_time", "description": "The time now",
         "parameters": {"type": "object", "properties": {}}},
    ),
    input_transcription={"model": "whisper-1", "language": "en"},
)  # fmt: skip


async def test_session_update_shape_and_headers(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client, SETTINGS, api_key="sk-secret")
    conn = peer.connections[0]
    assert conn.path == "/v1/realtime?model=gpt-realtime"
    assert conn.headers["Authorization"] == "Bearer sk-secret"
    assert "OpenAI-Beta" not in conn.headers
    update = conn.of_type("session.update")[0]["session"]
    assert update["type"] == "realtime"
    assert update["instructions"] == "Be brief."
    assert update["output_modalities"] == ["audio"]
    assert update["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert update["audio"]["input"]["turn_detection"] == SETTINGS.turn_detection
    assert update["audio"]["input"]["transcription"] == {"model": "whisper-1", "language": "en"}
    assert update["audio"]["output"]["voice"] == "marin"
    assert update["tools"][0]["name"] == "get_time"
    assert client.connected


async def test_no_key_no_header_and_manual_turns(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    await started(make_client, SessionSettings(model="local", turn_detection=None), api_key=None)
    conn = peer.connections[0]
    assert "Authorization" not in conn.headers
    session = conn.of_type("session.update")[0]["session"]
    assert session["audio"]["input"]["turn_detection"] is None


async def test_audio_one_append_per_frame_in_order(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client)
    conn = peer.connections[0]
    for index in range(50):
        client.send_audio(frame(index))
    appends = [await conn.next("input_audio_buffer.append") for _ in range(50)]
    assert [base64.b64decode(a["audio"]) for a in appends] == [frame(i) for i in range(50)]
    assert client.frames_sent == 50 and client.frames_dropped == 0


async def test_pcmu_audio_both_ways(peer: RealtimePeer, make_client: MakeClient) -> None:
    client = await started(make_client, audio_format="pcmu")
    conn = peer.connections[0]
    update = conn.of_type("session.update")[0]["session"]
    assert update["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert update["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(24_000) / 24_000)).astype("<i2")
    for start in range(0, 24_000, 480):
        client.send_audio(tone[start : start + 480].tobytes())
    sent = b"".join(
        [
            base64.b64decode((await conn.next("input_audio_buffer.append"))["audio"])
            for _ in range(50)
        ]
    )
    assert 7_000 <= len(sent) <= 8_000  # one μ-law byte a sample at 8 kHz
    reply = (4000 * np.sin(2 * np.pi * 300 * np.arange(800) / 8000)).astype("<i2")
    events = Events(client)
    await conn.audio("resp_1", "item_1", mulaw_encode(reply.tobytes()))
    delta = await events.expect(ev.AudioDelta)
    pcm = np.frombuffer(delta.pcm, dtype="<i2")
    assert 1_500 <= len(pcm) <= 2_400  # 100 ms at 24 kHz, less what the resampler holds
    assert np.abs(pcm).max() > 2_000
    await conn.send(
        {"type": "response.output_audio.done", "response_id": "resp_1", "item_id": "item_1",
         "output_index": 0, "content_index": 0}
    )  # fmt: skip
    tail = await events.expect(ev.AudioDelta)  # what the resampler held back
    assert len(delta.pcm) + len(tail.pcm) == 2_400 * 2
    await events.expect(ev.AudioDone)


async def test_ga_and_beta_names_map_to_typed_events(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client)
    conn = peer.connections[0]
    events = Events(client)
    await conn.send(
        {"type": "input_audio_buffer.speech_started", "item_id": "in_1", "audio_start_ms": 120}
    )
    await conn.send(
        {"type": "input_audio_buffer.speech_stopped", "item_id": "in_1", "audio_end_ms": 900}
    )
    await conn.input_transcript("in_1", "what time is it")
    await conn.response_created("resp_1")
    await conn.audio("resp_1", "out_1", b"\x01\x02" * 10)
    await conn.audio("resp_1", "out_1", b"\x03\x04" * 10, beta=True)
    for name in ("response.output_audio_transcript.delta", "response.audio_transcript.delta"):
        await conn.send_raw(
            {"type": name, "event_id": "e", "response_id": "resp_1", "item_id": "out_1",
             "output_index": 0, "content_index": 0, "delta": "It is "}
        )  # fmt: skip
    await conn.transcript_done("resp_1", "out_1", "It is noon.")
    await conn.send_raw(
        {"type": "response.audio_transcript.done", "event_id": "e", "response_id": "resp_1",
         "item_id": "out_1", "output_index": 0, "content_index": 0, "transcript": "beta"}
    )  # fmt: skip
    await conn.send(
        {"type": "response.output_audio.done", "response_id": "resp_1", "item_id": "out_1",
         "output_index": 0, "content_index": 0}
    )  # fmt: skip
    await conn.send_raw(
        {"type": "response.audio.done", "event_id": "e", "response_id": "resp_1",
         "item_id": "out_1", "output_index": 0, "content_index": 0}
    )  # fmt: skip
    await conn.send_raw(
        {"type": "conversation.item.created", "event_id": "e",
         "item": {"id": "out_1", "type": "message", "role": "assistant", "content": []}}
    )  # fmt: skip
    await conn.send(
        {"type": "response.function_call_arguments.done", "response_id": "resp_1",
         "item_id": "fc_1", "output_index": 1, "call_id": "call_1", "name": "get_time",
         "arguments": "{}"}
    )  # fmt: skip
    await conn.response_done("resp_1", "completed")
    await conn.send(
        {"type": "error", "error": {"type": "invalid_request_error", "code": "bad_thing",
                                    "message": "that was wrong"}}
    )  # fmt: skip

    expected = [
        ev.SpeechStarted("in_1", 120),
        ev.SpeechStopped("in_1", 900),
        ev.InputTranscript("in_1", "what time is it"),
        ev.ResponseCreated("resp_1"),
        ev.AudioDelta("resp_1", "out_1", b"\x01\x02" * 10),
        ev.AudioDelta("resp_1", "out_1", b"\x03\x04" * 10),
        ev.TranscriptDelta("resp_1", "out_1", "It is "),
        ev.TranscriptDelta("resp_1", "out_1", "It is "),
        ev.TranscriptDone("resp_1", "out_1", "It is noon."),
        ev.TranscriptDone("resp_1", "out_1", "beta"),
        ev.AudioDone("resp_1", "out_1"),
        ev.AudioDone("resp_1", "out_1"),
        ev.FunctionCall("resp_1", "call_1", "get_time", "{}"),
        ev.ResponseDone("resp_1", "completed"),
        ev.ModelError("that was wrong", "bad_thing", "invalid_request_error"),
    ]
    assert [await events.next() for _ in expected] == expected
    assert client.active_response is None


async def test_malformed_and_unknown_events_are_skipped(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client)
    conn = peer.connections[0]
    events = Events(client)
    await conn.send_raw("this is not json")
    await conn.send_raw("[1, 2, 3]")
    await conn.send_raw({"no_type": True})
    await conn.send_raw({"type": "response.output_audio.delta", "response_id": "r"})
    await conn.send_raw(
        {"type": "response.output_audio.delta", "response_id": "r", "item_id": "i",
         "delta": "***not base64***"}
    )  # fmt: skip
    await conn.send_raw({"type": "response.created", "response": "nope"})
    await conn.send_raw({"type": "input_audio_buffer.speech_started", "item_id": "i",
                         "audio_start_ms": "soon"})  # fmt: skip
    await conn.send_raw({"type": "some.future.event", "payload": 1})
    await conn.send(
        {"type": "rate_limits.updated",
         "rate_limits": [{"name": "tokens", "limit": 1, "remaining": 1, "reset_seconds": 1.0}]}
    )  # fmt: skip
    await conn.send(
        {"type": "error", "error": {"type": "invalid_request_error",
                                    "code": "response_cancel_not_active",
                                    "message": "no active response"}}
    )  # fmt: skip
    await conn.response_created("resp_9")
    assert await events.next() == ev.ResponseCreated("resp_9")
    assert client.events_skipped == 8
    assert client.connected


async def test_interrupt_with_server_vad_sends_only_truncate(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client, SETTINGS)
    conn = peer.connections[0]
    events = Events(client)
    await conn.response_created("resp_1")
    await events.expect(ev.ResponseCreated)
    await client.interrupt("out_1", 740, "resp_1")
    await client.send_tool_result("call_1", '{"ok": true}')  # a marker after the interrupt
    assert await conn.next_non_audio() == {
        "type": "conversation.item.truncate", "item_id": "out_1", "content_index": 0,
        "audio_end_ms": 740,
    }  # fmt: skip
    assert (await conn.next_non_audio())["type"] == "conversation.item.create"
    assert (await conn.next_non_audio())["type"] == "response.create"
    assert conn.of_type("response.cancel") == []


@pytest.mark.parametrize(
    "turn_detection",
    [None, {"type": "server_vad", "interrupt_response": False},
     {"type": "semantic_vad", "eagerness": "high", "interrupt_response": False}],
)  # fmt: skip
async def test_interrupt_cancels_when_server_will_not(
    peer: RealtimePeer, make_client: MakeClient, turn_detection: dict[str, object] | None
) -> None:
    client = await started(
        make_client, SessionSettings(model="gpt-realtime", turn_detection=turn_detection)
    )
    conn = peer.connections[0]
    events = Events(client)
    await conn.response_created("resp_1")
    await events.expect(ev.ResponseCreated)
    await client.interrupt("out_1", 1_260, "resp_1")
    assert await conn.next_non_audio() == {"type": "response.cancel", "response_id": "resp_1"}
    truncate = await conn.next_non_audio()
    assert truncate["type"] == "conversation.item.truncate"
    assert truncate["audio_end_ms"] == 1_260

    # once the response is done there is nothing to cancel: truncate only
    await conn.response_done("resp_1", "cancelled")
    await events.expect(ev.ResponseDone)
    await client.interrupt("out_1", 1_300, "resp_1")
    await client.send_tool_result("call_1", "{}")
    assert (await conn.next_non_audio())["type"] == "conversation.item.truncate"
    assert (await conn.next_non_audio())["type"] == "conversation.item.create"
    assert len(conn.of_type("response.cancel")) == 1


async def test_tool_result_item_then_response(peer: RealtimePeer, make_client: MakeClient) -> None:
    client = await started(make_client)
    conn = peer.connections[0]
    await client.send_tool_result("call_7", '{"time": "12:00"}')
    assert await conn.next_non_audio() == {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": "call_7",
            "output": '{"time": "12:00"}',
        },
    }
    assert await conn.next_non_audio() == {"type": "response.create"}


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN])
async def test_refused_key_is_rejected(
    peer: RealtimePeer, make_client: MakeClient, status: HTTPStatus
) -> None:
    peer.refuse_status = status
    client = make_client()
    with pytest.raises(ModelRejected, match=str(status.value)):
        async with asyncio.timeout(5):
            await client.start()
    assert not ModelRejected.retryable


async def test_server_unavailable_is_retryable(peer: RealtimePeer, make_client: MakeClient) -> None:
    peer.refuse_status = HTTPStatus.SERVICE_UNAVAILABLE
    client = make_client()
    with pytest.raises(ModelUnavailable, match="503"):
        async with asyncio.timeout(5):
            await client.start()


async def test_nothing_listening_is_unavailable(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    await peer.stop()
    client = make_client()
    with pytest.raises(ModelUnavailable) as info:
        async with asyncio.timeout(5):
            await client.start()
    assert info.value.retryable


async def test_error_answering_session_update_is_rejected(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    peer.reject_update = "invalid_value"
    client = make_client()
    with pytest.raises(ModelRejected, match=r"session\.update.*invalid_value"):
        async with asyncio.timeout(5):
            await client.start()


@pytest.mark.parametrize("missing", ["created", "updated"])
async def test_silent_server_times_out(
    peer: RealtimePeer, make_client: MakeClient, missing: str
) -> None:
    if missing == "created":
        peer.send_created = False
    else:
        peer.answer_update = False
    client = make_client(handshake_timeout=0.3)
    with pytest.raises(ModelUnavailable, match=r"session\.created/updated"):
        async with asyncio.timeout(5):
            await client.start()


async def test_close_ends_events_and_drops_audio(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client)
    events = Events(client)
    async with asyncio.timeout(5):
        await client.close()
    assert await events.ended()
    client.send_audio(frame(0))
    assert client.frames_dropped == 1
    async with asyncio.timeout(5):
        await peer.connections[0].closed.wait()


async def test_the_peer_catches_non_conformant_client_events(peer: RealtimePeer) -> None:
    """The conformance check on the peer is live: a stray key or a bad shape is caught."""
    async with asyncio.timeout(5), connect(peer.url) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"
        await ws.send(json.dumps({"type": "response.cancel", "response_idd": "r"}))
        await ws.send(json.dumps({"type": "conversation.item.truncate", "item_id": "i"}))
        await ws.send(json.dumps({"type": "response.create"}))
        conn = await peer.accept()
        await conn.next("response.create")
    assert len(peer.violations) == 2
    assert "response_idd" in peer.violations[0]
    assert "audio_end_ms" in peer.violations[1]
    peer.violations.clear()
