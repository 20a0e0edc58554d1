"""The OpenAI Realtime protocol client behind the bridge's ``RealtimeModel`` contract.

One WebSocket to ``<url>?model=<model>`` (OpenAI, a compatible server, or the offline
model server). Caller frames go out one ``input_audio_buffer.append`` each, in order,
through a writer task; server events come back as the typed events of ``events.py``.
If the socket drops mid-call the client reconnects with backoff, re-applies the
session and replays the recent transcript, while the call stays up (audio is dropped
meanwhile and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from . import events as ev
from . import protocol
from .errors import ModelRejected, ModelUnavailable
from .g711 import AudioFormat, make_codec
from .model import SessionSettings
from .reconnect import Backoff, RecentTurns
from .tools import ToolRunner

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://api.openai.com/v1/realtime"
HANDSHAKE_TIMEOUT_S = 10.0
PING_INTERVAL_S = 10.0  # a silent dead link is noticed within about 20 s
MAX_QUEUED_FRAMES = 250  # 5 s of 20 ms frames waiting for the socket: newer ones are dropped
REJECTED_STATUSES = frozenset({400, 401, 403, 404})
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_END = None


class RealtimeClient:
    def __init__(
        self,
        url: str,
        settings: SessionSettings,
        *,
        api_key: str | None,
        audio_format: AudioFormat = "pcm16",
        backoff: Backoff | None = None,
        tools: ToolRunner | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT_S,
        history: int = 20,
    ) -> None:
        self.url = protocol.realtime_url(url or DEFAULT_URL, settings.model)
        self.settings = settings
        self.audio_format: AudioFormat = audio_format
        self.backoff = backoff or Backoff()
        self.tools = tools
        self.handshake_timeout = handshake_timeout
        self.frames_sent = 0
        self.frames_dropped = 0
        self.events_skipped = 0
        self.reconnects = 0
        self._api_key = api_key
        self._codec = make_codec(audio_format)
        self._session_update = protocol.session_update(settings, self._codec.wire_format)
        self._turns = RecentTurns(history)
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        self._queued_frames = 0
        self._events: asyncio.Queue[ev.ModelEvent | None] = asyncio.Queue()
        self._active_response: str | None = None
        self._audio_item: tuple[str, str] | None = None  # (response id, item id) playing
        self._writer: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._tool_tasks: set[asyncio.Task[None]] = set()
        self._unknown: set[str] = set()
        self._closed = False

    # RealtimeModel ------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def active_response(self) -> str | None:
        return self._active_response

    async def start(self) -> None:
        """Connect and apply the settings. ModelUnavailable (retryable) on network
        trouble, ModelRejected (not retryable) when the server refuses the request."""
        if self._runner is not None or self._closed:
            raise RuntimeError("RealtimeClient.start() called twice or after close()")
        self._attach(await self._open())
        self._runner = asyncio.create_task(self._run(), name="realtime-client")

    def send_audio(self, pcm: bytes) -> None:
        """Queue one frame as one ``input_audio_buffer.append``; never blocks or raises."""
        if self._ws is None or self._queued_frames >= MAX_QUEUED_FRAMES:
            self.frames_dropped += 1
            return
        try:
            text = json.dumps(protocol.audio_append(self._codec.encode(pcm)))
        except Exception:
            log.exception("could not encode a caller frame")
            self.frames_dropped += 1
            return
        self._queued_frames += 1
        self._outbox.put_nowait((text, True))

    async def interrupt(self, item_id: str, audio_end_ms: int, response_id: str | None) -> None:
        active = self._active_response
        if not protocol.server_cancels_on_barge_in(self.settings.turn_detection) and (
            active is not None and response_id in (None, active)
        ):
            self._send(protocol.response_cancel(active))
        if item_id:
            self._send(protocol.item_truncate(item_id, audio_end_ms))

    async def send_tool_result(self, call_id: str, output: str) -> None:
        if not self._send(protocol.function_call_output(call_id, output)):
            log.warning("tool result for %s dropped: the model link is down", call_id)
            return
        self._send(protocol.response_create())

    async def events(self) -> AsyncIterator[ev.ModelEvent]:
        while (event := await self._events.get()) is not _END:
            yield event

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await ws.close()
        tasks = [t for t in (self._runner, self._writer, *self._tool_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.tools is not None:
            await self.tools.aclose()
        self._events.put_nowait(_END)

    # connecting ------------------------------------------------------------------------
    async def _open(self) -> ClientConnection:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        host = urlsplit(self.url).hostname or ""
        try:
            ws = await connect(
                self.url,
                additional_headers=headers,
                open_timeout=self.handshake_timeout,
                compression=None,
                max_size=16 * 1024 * 1024,
                ping_interval=PING_INTERVAL_S,
                ping_timeout=PING_INTERVAL_S,
                proxy=None if host in _LOOPBACK else True,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = exc.response.body.decode("utf-8", "replace")[:200] if exc.response.body else ""
            message = f"{self.url} refused the connection: HTTP {status} {body}".strip()
            if status in REJECTED_STATUSES:
                raise ModelRejected(message, cause=exc) from exc
            raise ModelUnavailable(message, cause=exc) from exc
        except InvalidURI as exc:
            raise ModelRejected(f"bad model URL {self.url!r}: {exc}", cause=exc) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise ModelUnavailable(f"cannot reach {self.url}: {exc!r}", cause=exc) from exc
        try:
            async with asyncio.timeout(self.handshake_timeout):
                await self._await_session(ws, "created")
                await ws.send(json.dumps(self._session_update))
                await self._await_session(ws, "updated")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await ws.close()
            if isinstance(exc, TimeoutError):
                raise ModelUnavailable(
                    f"{self.url}: no session.created/updated within {self.handshake_timeout:g} s"
                ) from exc
            if isinstance(exc, ConnectionClosed):
                raise ModelUnavailable(f"{self.url} closed during the handshake: {exc}") from exc
            raise
        return ws

    async def _await_session(self, ws: ClientConnection, kind: str) -> None:
        while True:
            raw = await ws.recv()
            try:
                event = protocol.translate(protocol.parse_json(raw))
            except protocol.ProtocolError as exc:
                log.warning("skipped a malformed event during the handshake: %s", exc)
                continue
            if isinstance(event, protocol.SessionEvent) and event.kind == kind:
                return
            if isinstance(event, ev.ModelError) and not protocol.is_ignored_error(event):
                step = "connect" if kind == "created" else "session.update"
                message = f"the model refused {step}: {event.message} (code {event.code})"
                if event.error_type == "server_error":
                    raise ModelUnavailable(message)
                raise ModelRejected(message)
            log.debug("skipped %s while waiting for session.%s", type(event).__name__, kind)

    def _attach(self, ws: ClientConnection) -> None:
        self._drain_outbox()
        self._ws = ws
        self._writer = asyncio.create_task(self._write(ws), name="realtime-writer")

    def _detach(self) -> None:
        self._ws = None
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        self.frames_dropped += self._drain_outbox()

    def _drain_outbox(self) -> int:
        frames = 0
        while not self._outbox.empty():
            frames += self._outbox.get_nowait()[1]
        self._queued_frames = 0
        return frames

    # the link's life -----------------------------------------------------------------
    async def _run(self) -> None:
        try:
            ws = self._ws
            while ws is not None:
                reason = await self._read(ws)
                if self._closed:
                    return
                self._detach()
                self._link_lost(reason)
                ws = await self._reconnect(reason)
        except Exception:
            log.exception("the realtime client failed")
            self._events.put_nowait(ev.ModelError("realtime client failed", "client_error"))
        finally:
            self._ws = None
            self._events.put_nowait(_END)

    async def _read(self, ws: ClientConnection) -> str:
        try:
            async for raw in ws:
                self._dispatch(raw)
        except ConnectionClosed:
            pass
        code = ws.close_code
        detail = ws.close_reason or ""
        return f"socket closed (code {code}{': ' + detail if detail else ''})"

    def _link_lost(self, reason: str) -> None:
        log.warning("model link lost: %s", reason)
        self._events.put_nowait(ev.ConnectionChanged(False, reason))
        if self._audio_item is not None:
            self._events.put_nowait(ev.AudioDone(*self._audio_item))
            self._audio_item = None
        if self._active_response is not None:
            self._events.put_nowait(ev.ResponseDone(self._active_response, "incomplete"))
            self._active_response = None

    async def _reconnect(self, reason: str) -> ClientConnection | None:
        started = time.monotonic()
        tries = 0
        last = reason
        for delay in self.backoff.delays():
            await asyncio.sleep(delay)
            if time.monotonic() - started > self.backoff.give_up_after:
                break
            tries += 1
            try:
                ws = await self._open()
                await self._replay(ws)
            except ModelRejected as exc:
                self._events.put_nowait(
                    ev.ModelError(f"reconnect refused: {exc}", "reconnect_rejected",
                                  "invalid_request_error")
                )  # fmt: skip
                return None
            except (ModelUnavailable, ConnectionClosed) as exc:
                last = str(exc)
                log.info("reconnect try %d failed: %s", tries, exc)
                continue
            self._attach(ws)
            self.reconnects += 1
            took = time.monotonic() - started
            self._events.put_nowait(
                ev.ConnectionChanged(True, f"reconnected after {tries} tries", took)
            )
            return ws
        self._events.put_nowait(
            ev.ModelError(
                f"model link lost and not back after {time.monotonic() - started:.1f} s "
                f"({tries} tries; last: {last})", "reconnect_failed", "connection_error",
            )
        )  # fmt: skip
        return None

    async def _replay(self, ws: ClientConnection) -> None:
        """Re-create the recent turns on a new socket (closing it if that fails)."""
        try:
            for turn in self._turns.turns():
                await ws.send(json.dumps(protocol.message_item(turn.role, turn.text)))
        except BaseException:
            with contextlib.suppress(Exception):
                await ws.close()
            raise

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            text, is_audio = await self._outbox.get()
            if is_audio:
                self._queued_frames -= 1
            try:
                await ws.send(text)
            except ConnectionClosed:
                return  # the reader sees the close and reconnects
            self.frames_sent += is_audio

    def _send(self, event: dict[str, Any]) -> bool:
        if self._ws is None:
            log.info("%s not sent: the model link is down", event["type"])
            return False
        self._outbox.put_nowait((json.dumps(event), False))
        return True

    # server events -----------------------------------------------------------------
    def _dispatch(self, raw: str | bytes) -> None:
        try:
            data = protocol.parse_json(raw)
            event = protocol.translate(data)
        except protocol.ProtocolError as exc:
            self.events_skipped += 1
            log.warning("skipped a malformed server event: %s", exc)
            return
        if event is None:
            self._skip_unknown(data["type"])
            return
        if isinstance(event, protocol.SessionEvent):
            return
        if isinstance(event, ev.AudioDelta) and self.audio_format != "pcm16":
            event = dataclasses.replace(event, pcm=self._codec.decode(event.pcm))
        elif isinstance(event, ev.AudioDone) and (tail := self._codec.flush()):
            self._events.put_nowait(ev.AudioDelta(event.response_id, event.item_id, tail))
        if self._track(event):
            self._events.put_nowait(event)

    def _track(self, event: ev.ModelEvent) -> bool:
        """Update the client's state from ``event``; False to swallow it."""
        match event:
            case ev.AudioDelta():
                self._audio_item = (event.response_id, event.item_id)
            case ev.AudioDone():
                self._audio_item = None
            case ev.ResponseCreated():
                self._active_response = event.response_id
            case ev.ResponseDone():
                if self._active_response == event.response_id:
                    self._active_response = None
            case ev.InputTranscript():
                self._turns.add("user", event.transcript)
            case ev.TranscriptDone():
                self._turns.add("assistant", event.transcript)
            case ev.FunctionCall() if self.tools is not None:
                task = asyncio.create_task(self._run_tool(event), name=f"tool-{event.name}")
                self._tool_tasks.add(task)
                task.add_done_callback(self._tool_tasks.discard)
            case ev.ModelError() if protocol.is_ignored_error(event):
                log.info("ignored model error %s: %s", event.code, event.message)
                return False
        return True

    def _skip_unknown(self, kind: str) -> None:
        if protocol.is_known(kind):
            return
        self.events_skipped += 1
        if kind not in self._unknown:
            self._unknown.add(kind)
            log.info("skipped unknown server event type %r", kind)

    async def _run_tool(self, call: ev.FunctionCall) -> None:
        assert self.tools is not None
        output = await self.tools.run(call)
        await self.send_tool_result(call.call_id, output)
