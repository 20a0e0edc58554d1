"""The voice agent end to end: an aiortc caller talks to edgevoice with the offline
model behind the OpenAI Realtime protocol, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import Server
from tests.peers import Talker

GET_TIME = {
    "type": "function",
    "name": "get_time",
    "description": "The current local time.",
    "parameters": {"type": "object", "properties": {}},
}


@pytest.fixture
async def agent(server_url: str, make_server: Callable[..., Any]) -> AsyncIterator[Server]:
    async with make_server(model="local", local_model_url=f"ws://{server_url}/v1/realtime") as s:
        yield s


async def _call(server: Server, **session: Any) -> tuple[dict[str, Any], Talker]:
    talker = Talker()
    return await server.connect(talker, model="local", **session), talker


def _says(role: str, *words: str) -> Callable[[dict[str, Any]], bool]:
    def check(event: dict[str, Any]) -> bool:
        text = event.get("text", "").lower()
        return event.get("role") == role and all(w in text for w in words)

    return check


async def test_question_tool_call_and_spoken_answer(
    agent: Server, realtime_conformance: Any
) -> None:
    session, talker = await _call(agent, tools=[GET_TIME])
    try:
        talker.mic.say("what_time.wav")
        async with asyncio.timeout(30):
            user = await talker.next_event("transcript", where=_says("user", "time"))
            call = await talker.next_event("tool.call")
            hour = dt.datetime.now().strftime("%H").lstrip("0") or "0"
            answer = await talker.next_event("transcript", where=_says("assistant"))
            turn = await talker.next_event("turn")
            reply = await talker.track(0)
            await reply.wait_frames(50)
        assert call["name"] == "get_time"
        assert hour in answer["text"], (answer["text"], hour)
        assert "time" in user["text"].lower()
        assert abs(reply.samples()).max() > 0.05  # the answer is spoken, not silence
        # voice-to-voice: end of speech → first reply packet, with its parts
        assert turn["voice_to_voice_ms"] > turn["model_first_audio_ms"] > 0
        assert 0 <= turn["ingress_ms"] < 50 and 0 <= turn["egress_ms"] < 50
        body = (await agent.http.get(f"/v1/sessions/{session['id']}", headers=agent.auth)).json()
        roles = [line["role"] for line in body["transcript"]]
        assert "user" in roles and "assistant" in roles
        assert body["stats"]["bridge"]["turns"]["count"] >= 1
        # the link was checked against the SDK's models (see conftest): it did carry
        # the whole turn, tool call and answer included
        client_sent = set(realtime_conformance.client)
        assert {"session.update", "input_audio_buffer.append", "response.create"} <= client_sent
        assert "conversation.item.create" in client_sent  # the tool's output
        server_sent = set(realtime_conformance.server)
        assert {"response.output_audio.delta", "response.function_call_arguments.done"} <= (
            server_sent
        )
    finally:
        await talker.close()


async def test_user_transcript_of_a_booking(agent: Server) -> None:
    _, talker = await _call(agent)
    try:
        talker.mic.say("book_appointment.wav")
        async with asyncio.timeout(30):
            await talker.next_event("transcript", where=_says("user", "appointment"))
            await talker.next_event("transcript", where=_says("assistant"))
    finally:
        await talker.close()


async def test_barge_in_drops_the_rest_of_the_reply(agent: Server) -> None:
    # How fast the reply stops is measured at the caller: tests/bridge/test_barge_in_at_caller.py
    session, talker = await _call(agent)
    try:
        talker.mic.say("book_appointment.wav")
        async with asyncio.timeout(30):
            await talker.next_event("response.created")
            reply = await talker.track(0)
            await reply.wait_frames(25)  # the answer is playing
            talker.mic.say("hello.wav")  # ... and the caller talks over it
            barge = await talker.next_event("barge_in")
        # The model may have finished generating long ago (TTS runs ahead of real time);
        # what matters is that the queued rest of the reply was dropped, not played.
        assert barge["played_ms"] > 0
        assert barge["dropped_frames"] > 0
        live = agent.node.sessions[session["id"]]
        stats = live.bridge.stats()["barge_in"]
        assert stats["count"] == 1, stats  # one interruption, no spurious ones
    finally:
        await talker.close()


class Proxy:
    """A TCP relay between the bridge and the model server that can cut every link."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.links: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self.server is not None
        self.server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.links += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for writer in self.links:
            writer.transport.abort()
        self.links.clear()


async def test_model_socket_dies_mid_reply_and_the_next_turn_is_answered(
    server_url: str, make_server: Callable[..., Any]
) -> None:
    model_port = int(server_url.rsplit(":", 1)[1])
    proxy = Proxy(model_port)
    async with proxy as port:
        url = f"ws://127.0.0.1:{port}/v1/realtime"
        async with make_server(model="local", local_model_url=url) as server:
            session, talker = await _call(server)
            try:
                talker.mic.say("book_appointment.wav")
                async with asyncio.timeout(30):
                    await (await talker.track(0)).wait_frames(10)  # mid-reply ...
                    proxy.cut()  # ... the model's socket dies
                    await talker.next_event("model.connection", connected=False)
                    up = await talker.next_event("model.connection", connected=True)
                    assert up["reconnect_seconds"] > 0
                    talker.mic.say("goodbye.wav")
                    await talker.next_event("transcript", where=_says("user", "thank"))
                    await talker.next_event(
                        "transcript", where=lambda e: e["role"] == "assistant"
                        and e["seq"] > up["seq"],
                    )  # fmt: skip
                live = server.node.sessions[session["id"]]
                assert live.call.state.value == "connected"  # the call never dropped
                reconnects = live.bridge.stats()["model_reconnects"]
                assert reconnects["count"] == 1 and reconnects["seconds"][0] > 0
            finally:
                await talker.close()


async def test_g711_on_the_model_socket(agent: Server) -> None:
    _, talker = await _call(agent, audio_format="pcmu")
    try:
        talker.mic.say("hello.wav")
        async with asyncio.timeout(30):
            await talker.next_event("transcript", where=_says("user", "hear"))
            await talker.next_event("transcript", where=_says("assistant"))
            reply = await talker.track(0)
            await reply.wait_frames(25)
        assert abs(reply.samples()).max() > 0.05
    finally:
        await talker.close()
