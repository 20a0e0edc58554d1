"""Control events: truncate, cancel, barge-in, manual turns, errors, concurrency, secrets."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI
from openai.types.realtime import ClientSecretCreateResponse

from .conftest import Client, load_wav_24k, unknown_keys
from .test_voice_turns import collect_reply, session_update


def user_text(text: str) -> dict[str, Any]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return {"type": "conversation.item.create", "item": item}


async def start(client: Client, **session: Any) -> None:
    assert (await client.recv())["type"] == "session.created"
    await client.send(session_update(**session))
    await client.until("session.updated")


async def test_text_turn_then_truncate(client: Client) -> None:
    async with asyncio.timeout(30):
        await start(client)
        await client.send(user_text("Hello, can you hear me?"))
        await client.send({"type": "response.create"})
        reply = await collect_reply(client)
        item = reply["done"]["response"]["output"][0]
        assert item["content"][0]["transcript"].startswith("Hi there!")

        truncate = {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0}
        await client.send({**truncate, "audio_end_ms": 400})
        truncated = await client.until("conversation.item.truncated")
        assert truncated["item_id"] == item["id"]
        assert truncated["audio_end_ms"] == 400
        assert truncated["content_index"] == 0

        await client.send({**truncate, "audio_end_ms": 3_600_000})
        assert (await client.until("error"))["error"]["code"] == "invalid_audio_end_ms"
        await client.send({**truncate, "item_id": "item_missing", "audio_end_ms": 10})
        assert (await client.until("error"))["error"]["code"] == "item_not_found"


async def test_cancel_mid_reply_stops_the_deltas(client: Client) -> None:
    async with asyncio.timeout(30):
        await start(client)
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        created = await client.until("response.created")
        response_id = created["response"]["id"]
        await client.until("response.output_audio.delta", response_id=response_id)
        await client.send({"type": "response.cancel"})
        done = await client.until("response.done")
        assert done["response"]["id"] == response_id
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "client_cancelled"
        after = len(client.events)

        await client.send({"type": "response.cancel"})
        error = await client.until("error")
        assert error["error"]["code"] == "response_cancel_not_active"
        # Give any straggler a chance to show up, then check there was none.
        await client.send(user_text("goodbye"))
        await client.send({"type": "response.create"})
        await collect_reply(client)
    late = [e for e in client.events[after:] if e.get("response_id") == response_id]
    assert late == []


async def test_speech_during_a_reply_cancels_it(client: Client) -> None:
    async with asyncio.timeout(30):
        await start(client)
        await client.send(user_text("hello"))
        await client.send({"type": "response.create"})
        created = await client.until("response.created")
        await client.stream(load_wav_24k("goodbye.wav"))
        await client.until("input_audio_buffer.speech_started")
        done = await client.until("response.done")
        assert done["response"]["id"] == created["response"]["id"]
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        reply = await collect_reply(client)
        assert "Goodbye" in reply["transcript"]


async def test_manual_turns_commit_and_respond(client: Client) -> None:
    async with asyncio.timeout(30):
        assert (await client.recv())["type"] == "session.created"
        update = session_update()
        update["session"]["audio"]["input"]["turn_detection"] = None
        await client.send(update)
        updated = await client.until("session.updated")
        assert updated["session"]["audio"]["input"]["turn_detection"] is None

        await client.send({"type": "input_audio_buffer.commit"})
        assert (await client.until("error"))["error"]["code"] == "input_audio_buffer_commit_empty"
        await client.stream(load_wav_24k("book_appointment.wav"))
        await client.send({"type": "input_audio_buffer.commit"})
        await client.send({"type": "response.create"})
        reply = await collect_reply(client)
        assert not client.of_type("input_audio_buffer.speech_started")
        assert client.of_type("input_audio_buffer.committed")
        assert "booked" in reply["transcript"]

        await client.stream(load_wav_24k("hello.wav"))
        await client.send({"type": "input_audio_buffer.clear"})
        await client.until("input_audio_buffer.cleared")


async def test_text_only_output(client: Client) -> None:
    async with asyncio.timeout(30):
        await start(client, output_modalities=["text"])
        await client.send(user_text("goodbye"))
        await client.send({"type": "response.create"})
        done = await client.until("response.done")
    assert client.of_type("response.output_text.done")[0]["text"].startswith("Goodbye!")
    assert not client.of_type("response.output_audio.delta")
    assert done["response"]["status"] == "completed"


async def test_bad_events_get_errors_not_a_crash(client: Client) -> None:
    async with asyncio.timeout(30):
        await start(client)
        await client.conn.send_raw("this is not json")
        assert (await client.until("error"))["error"]["code"] == "invalid_json"
        await client.conn.send_raw('{"type": "no.such.event", "event_id": "evt_1"}')
        error = await client.until("error")
        assert error["error"]["code"] == "unknown_event"
        assert error["error"]["event_id"] == "evt_1"
        await client.conn.send_raw('{"type": "input_audio_buffer.append"}')
        assert (await client.until("error"))["error"]["code"] == "invalid_value"
        await client.conn.send_raw('{"type": "input_audio_buffer.append", "audio": "@@"}')
        assert (await client.until("error"))["error"]["param"] == "audio"
        await client.send({"type": "session.update", "session": {"type": "transcription"}})
        assert (await client.until("error"))["error"]["code"] == "unsupported"
        await client.send(session_update(instructions="still alive"))
        updated = await client.until("session.updated")
        assert updated["session"]["instructions"] == "still alive"


async def test_concurrent_connections_are_independent(server_url: str) -> None:
    sdk = AsyncOpenAI(api_key="x", websocket_base_url=f"ws://{server_url}/v1")

    async def call(wav: str) -> str:
        async with sdk.realtime.connect(model="local") as connection:
            client = Client(connection)
            await start(client)
            await client.stream(load_wav_24k(wav))
            heard = await client.until("conversation.item.input_audio_transcription.completed")
            await collect_reply(client)
            return str(heard["transcript"])

    async with asyncio.timeout(60):
        booking, time_question, greeting = await asyncio.gather(
            call("book_appointment.wav"), call("what_time.wav"), call("hello.wav")
        )
    assert "appointment" in booking
    assert "time" in time_question
    assert "hear" in greeting


async def test_client_secret_and_its_session(server_url: str) -> None:
    body = {
        "expires_after": {"anchor": "created_at", "seconds": 600},
        "session": {"type": "realtime", "instructions": "from the secret"},
    }
    async with asyncio.timeout(30):
        async with httpx.AsyncClient(base_url=f"http://{server_url}") as http:
            answer = await http.post("/v1/realtime/client_secrets", json=body)
            bad = await http.post(
                "/v1/realtime/client_secrets", json={"expires_after": {"seconds": 1}}
            )
        assert answer.status_code == 200
        assert bad.status_code == 400
        secret = ClientSecretCreateResponse.model_validate(answer.json())
        assert secret.value.startswith("ek_")
        assert not unknown_keys(secret)
        sdk = AsyncOpenAI(api_key=secret.value, websocket_base_url=f"ws://{server_url}/v1")
        async with sdk.realtime.connect(model="local") as connection:
            created = await Client(connection).until("session.created")
    assert created["session"]["instructions"] == "from the secret"


async def test_hanging_up_mid_reply_leaves_the_server_healthy(
    server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    sdk = AsyncOpenAI(api_key="x", websocket_base_url=f"ws://{server_url}/v1")
    async with asyncio.timeout(30):
        async with sdk.realtime.connect(model="local") as connection:
            client = Client(connection)
            await start(client)
            await client.stream(load_wav_24k("hello.wav")[: 24_000 * 2])  # speech, no end
            await client.send(user_text("hello"))
            await client.send({"type": "response.create"})
            await client.until("response.output_audio.delta")
        async with sdk.realtime.connect(model="local") as connection:
            client = Client(connection)
            await start(client)
            await client.send(user_text("goodbye"))
            await client.send({"type": "response.create"})
            reply = await collect_reply(client)
        await asyncio.sleep(0.5)  # let the first connection's work wind down
    assert "Goodbye" in reply["transcript"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
