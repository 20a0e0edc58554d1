"""A small scripted Realtime-protocol server on 127.0.0.1 (a real WebSocket peer).

Each accepted socket becomes a ``PeerConnection`` the test drives: it opens with
``session.created``, answers ``session.update`` with ``session.updated`` (or with an
``error`` when told to), and queues every client event it receives. Every client
event is checked against the SDK's models on arrival; every event the peer sends
with ``send`` is checked too (``send_raw`` sends anything, for beta names and junk).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .conformance import check_client_event, check_server_event

Json = dict[str, Any]
WAIT_S = 5.0
_ids = itertools.count(1)


def event_id() -> str:
    return f"event_{next(_ids)}"


class PeerConnection:
    def __init__(self, peer: RealtimePeer, ws: ServerConnection) -> None:
        self.peer = peer
        self.ws = ws
        self.path = ws.request.path if ws.request else ""
        self.headers: Headers = ws.request.headers if ws.request else Headers()
        self.received: list[Json] = []
        self._inbox: asyncio.Queue[Json] = asyncio.Queue()
        self.closed = asyncio.Event()

    async def serve(self) -> None:
        if self.peer.send_created:
            await self.send({"type": "session.created", "session": {"type": "realtime"}})
        try:
            async for raw in self.ws:
                event = json.loads(raw)
                try:
                    check_client_event(event)
                except Exception as exc:  # recorded, asserted by the fixture
                    self.peer.violations.append(f"{event.get('type')}: {exc}")
                self.received.append(event)
                if event.get("type") == "session.update":
                    await self._answer_update(event)  # in ``received``, not in the inbox
                else:
                    self._inbox.put_nowait(event)
        except Exception:
            pass
        finally:
            self.closed.set()

    async def _answer_update(self, event: Json) -> None:
        if self.peer.reject_update is not None:
            await self.send(
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "code": self.peer.reject_update,
                        "message": "the session settings are not valid",
                        "event_id": event.get("event_id"),
                    },
                }
            )
            return
        if self.peer.answer_update:
            await self.send({"type": "session.updated", "session": event["session"]})

    async def send(self, event: Json) -> None:
        event = {"event_id": event_id(), **event}
        check_server_event(event)
        await self.ws.send(json.dumps(event))

    async def send_raw(self, data: str | Json) -> None:
        await self.ws.send(data if isinstance(data, str) else json.dumps(data))

    async def next(self, kind: str | None = None) -> Json:
        """The next client event (of type ``kind``, skipping others)."""
        async with asyncio.timeout(WAIT_S):
            while True:
                event = await self._inbox.get()
                if kind is None or event["type"] == kind:
                    return event

    async def next_non_audio(self) -> Json:
        async with asyncio.timeout(WAIT_S):
            while True:
                event = await self._inbox.get()
                if event["type"] != "input_audio_buffer.append":
                    return event

    def of_type(self, kind: str) -> list[Json]:
        return [event for event in self.received if event["type"] == kind]

    def drop(self) -> None:
        """Cut the TCP connection with no close handshake (a network failure)."""
        transport = self.ws.transport
        assert transport is not None
        transport.abort()

    # server events a real service sends -------------------------------------------
    async def audio(
        self, response_id: str, item_id: str, pcm: bytes, *, beta: bool = False
    ) -> None:
        body = {
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(pcm).decode(),
        }
        if beta:
            await self.send_raw({"type": "response.audio.delta", "event_id": event_id(), **body})
        else:
            await self.send({"type": "response.output_audio.delta", **body})

    async def response_created(self, response_id: str) -> None:
        await self.send(
            {
                "type": "response.created",
                "response": {"id": response_id, "object": "realtime.response",
                             "status": "in_progress", "output": []},
            }
        )  # fmt: skip

    async def response_done(self, response_id: str, status: str = "completed") -> None:
        await self.send(
            {
                "type": "response.done",
                "response": {"id": response_id, "object": "realtime.response", "status": status},
            }
        )

    async def input_transcript(self, item_id: str, text: str) -> None:
        await self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": text,
                "usage": {"type": "duration", "seconds": 1.0},
            }
        )

    async def transcript_done(self, response_id: str, item_id: str, text: str) -> None:
        await self.send(
            {
                "type": "response.output_audio_transcript.done",
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "transcript": text,
            }
        )


class RealtimePeer:
    """The server: ``url`` to connect to, ``accept()`` for each new connection."""

    def __init__(self) -> None:
        self.server: Server | None = None
        self.violations: list[str] = []
        self.send_created = True
        self.answer_update = True
        self.reject_update: str | None = None
        self.refuse_status: HTTPStatus | None = None
        self.connections: list[PeerConnection] = []
        self._port: int | None = None
        self._accepted: asyncio.Queue[PeerConnection] = asyncio.Queue()

    @property
    def port(self) -> int:
        assert self._port is not None, "start() the peer first"
        return self._port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        if self.refuse_status is not None:
            return ws.respond(self.refuse_status, f"{self.refuse_status.phrase}\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        connection = PeerConnection(self, ws)
        self.connections.append(connection)
        self._accepted.put_nowait(connection)
        await connection.serve()

    async def start(self) -> None:
        """Listen on a free port, or again on the same port after ``stop()``."""
        self.server = await serve(
            self._handle, "127.0.0.1", self._port or 0, process_request=self._process_request
        )
        self._port = int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WAIT_S):
                    await self.server.wait_closed()
            self.server = None

    async def accept(self) -> PeerConnection:
        async with asyncio.timeout(WAIT_S):
            return await self._accepted.get()


@contextlib.asynccontextmanager
async def running_peer() -> AsyncIterator[RealtimePeer]:
    peer = RealtimePeer()
    await peer.start()
    try:
        yield peer
    finally:
        await peer.stop()
    assert not peer.violations, peer.violations
