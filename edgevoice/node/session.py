"""A live session on a node: the call's media, the bridge, the event stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from ..bridge.bridge import Bridge
from ..bridge.model import RealtimeModel, SessionSettings
from ..sfu.call import Call, CallState
from ..sfu.frames import EncodedFrame
from ..sfu.peer import MediaConfig
from .eventlog import EventLog

log = logging.getLogger(__name__)

STATS_INTERVAL = 1.0
CONNECT_TIMEOUT = "connect_timeout"  # the end reason of a caller that never connected


class LiveSession:
    def __init__(
        self,
        session_id: str,
        settings: SessionSettings,
        model: RealtimeModel,
        media: MediaConfig,
        *,
        events: EventLog,
        on_closed: Callable[[LiveSession], None],
        max_seconds: float,
        connect_timeout: float = 15.0,
    ) -> None:
        self.id = session_id
        self.settings = settings
        self.events = events
        self.call = Call(
            session_id,
            media,
            on_state=self._call_state,
            on_reply_sent=self._reply_sent,
            on_error=lambda code, message: self.emit(
                {"type": "error", "code": code, "message": message}
            ),
        )
        self.bridge = Bridge(
            model, self.call.reply_audio, emit=self.emit, barge_in=settings.barge_in
        )
        self._on_closed = on_closed
        self._max_seconds = max_seconds
        self._connect_timeout = connect_timeout
        self._media_connected = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._connected_listeners: list[Callable[[str], None]] = []
        self.final_stats: dict[str, Any] | None = None
        self.ended = asyncio.Event()  # set once everything the session held is released

    def on_connected(self, callback: Callable[[str], None]) -> None:
        """``callback(session_id)`` when the caller's media connects (now, if it has)."""
        if self.call.state is CallState.CONNECTED:
            callback(self.id)
        else:
            self._connected_listeners.append(callback)

    def _reply_sent(self, frame: EncodedFrame) -> None:
        self.bridge.on_reply_sent(frame)

    def emit(self, event: dict[str, Any]) -> None:
        """An event for the caller's data channel and the backend's event stream."""
        stamped = self.events.append(event)
        if event.get("type") != "stats":
            log.debug("session %s event %s", self.id, event.get("type"))
        self.call.send_event(stamped)

    async def connect(self, offer: str) -> str:
        """Answer the offer and open the model link now (pre-opened, so the first words
        reach a ready model); the connect timeout runs from here, so a caller that never
        completes ICE holds the slot, its ports and the model link at most that long."""
        started = time.monotonic()
        answer = await self.call.answer_caller(offer)
        try:
            await self.bridge.start()
        except BaseException:
            await self.close("model failed to start")
            raise
        self.call.caller_audio.subscribe(self.bridge)
        self._tasks.append(asyncio.create_task(self._tick(), name=f"stats-{self.id}"))
        self._tasks.append(
            asyncio.create_task(self._connect_deadline(started), name=f"connect-{self.id}")
        )
        return answer

    async def _connect_deadline(self, started: float) -> None:
        """End the session with reason ``connect_timeout`` unless its caller's media
        connects within the connect timeout of the offer."""
        left = self._connect_timeout - (time.monotonic() - started)
        try:
            async with asyncio.timeout(max(0.0, left)):
                await self._media_connected.wait()
        except TimeoutError:
            log.info("session %s: caller not connected after %g s", self.id, self._connect_timeout)
            await self.close(CONNECT_TIMEOUT)

    def _call_state(self, state: CallState) -> None:
        event: dict[str, Any] = {"type": "state", "state": state.value}
        if state is CallState.CLOSED:
            event["reason"] = self.call.closed_reason or "closed"
        self.emit(event)
        if state is CallState.CONNECTED:
            self._media_connected.set()
            for callback in self._connected_listeners:
                callback(self.id)
        if state is CallState.CLOSED and not self._closing:
            closer = asyncio.get_running_loop().create_task(
                self.close(self.call.closed_reason or "closed")
            )
            self._tasks.append(closer)  # keep a reference until it is done

    async def _tick(self) -> None:
        started = time.monotonic()
        while self.call.state is not CallState.CLOSED:
            await asyncio.sleep(STATS_INTERVAL)
            if time.monotonic() - started > self._max_seconds:
                await self.close("maximum session length reached")
                return
            if self.call.state is CallState.CONNECTED:
                self.emit({"type": "stats", **(await self.stats())})

    async def stats(self) -> dict[str, Any]:
        media = await self.call.stats()
        bridge = self.bridge.stats()
        peer = media.pop("caller_peer", {})
        outbound = peer.get("outbound", [{}])
        inbound = peer.get("inbound", [{}])
        return {
            "state": self.call.state.value,
            "rtt_seconds": (outbound[0] if outbound else {}).get("rtt_seconds"),
            "jitter_seconds": (inbound[0] if inbound else {}).get("jitter_seconds"),
            "fraction_lost": (outbound[0] if outbound else {}).get("fraction_lost"),
            "tracks": media,
            "peer": peer,
            "bridge": bridge,
        }

    async def close(self, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        self.emit({"type": "session.closing", "reason": reason})
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            self.final_stats = await self.stats()
        except Exception:
            log.exception("session %s: final stats failed", self.id)
        await self.bridge.close()
        await self.call.close(reason)
        self.events.close()
        self._on_closed(self)
        self.ended.set()
