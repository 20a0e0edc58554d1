"""A media node: the live sessions of one process, within its capacity."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from ..bridge.model import SessionSettings
from ..logs import bind_session
from ..sfu.peer import MediaConfig
from .errors import AtCapacity, UnknownCall, UnknownModel
from .eventlog import EventLog
from .models import ModelEndpoints, check_model, make_model
from .session import LiveSession

log = logging.getLogger(__name__)
# An ended session's event log stays readable (replayed, then the stream ends) this long,
# for at most this many sessions.
ENDED_LOG_SECONDS = 600.0
ENDED_LOGS_KEPT = 64


class Node:
    def __init__(
        self,
        media: MediaConfig,
        *,
        models: ModelEndpoints | None = None,
        max_sessions: int = 200,
        max_session_seconds: float = 3600.0,
        connect_timeout: float = 15.0,
        node_id: str = "local",
        region: str = "local",
        event_sink: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.id = node_id
        self.region = region
        self.media = media
        self.models = models or ModelEndpoints()
        self.max_sessions = max_sessions
        self.max_session_seconds = max_session_seconds
        self.connect_timeout = connect_timeout  # offer to connected media, else ended
        self.sessions: dict[str, LiveSession] = {}
        self.draining = False
        self.started_at = time.time()
        self._event_sinks: list[Callable[[str, dict[str, Any]], None]] = []
        if event_sink is not None:
            self._event_sinks.append(event_sink)
        self._logs: dict[str, EventLog] = {}
        self._ended_logs: OrderedDict[str, tuple[EventLog, float]] = OrderedDict()
        self._reserved: dict[str, float] = {}  # session id -> when its unused slot lapses
        self._ended_listeners: list[Callable[[str, str, dict[str, Any]], None]] = []
        self._connected_listeners: list[Callable[[str], None]] = []
        self._answer_hooks: list[Callable[[str, str], Awaitable[str]]] = []

    @property
    def load(self) -> int:
        """Live calls plus slots reserved for sessions not connected yet."""
        self._lapse_reservations()
        return len(self.sessions) + sum(1 for s in self._reserved if s not in self.sessions)

    def _lapse_reservations(self) -> None:
        now = time.time()
        for session_id, until in list(self._reserved.items()):
            if until < now:
                del self._reserved[session_id]
                if session_id not in self.sessions:
                    self._end_log(session_id)

    def reserve(self, session_id: str, until: float) -> bool:
        """Take a slot for a session from its creation (the in-memory directory's)."""
        if self.draining:
            return False
        if session_id in self._reserved:
            return True
        if self.load >= self.max_sessions:
            return False
        self._reserved[session_id] = until
        return True

    def release(self, session_id: str) -> None:
        self._reserved.pop(session_id, None)

    def add_answer_hook(self, hook: Callable[[str, str], Awaitable[str]]) -> None:
        """``await hook(session_id, answer)`` rewrites a caller's SDP answer before it is
        returned (a node behind a relay advertises the relay); raising fails the setup."""
        self._answer_hooks.append(hook)

    def add_event_sink(self, sink: Callable[[str, dict[str, Any]], None]) -> None:
        """``sink(session_id, event)`` for every event of every session (publishers,
        metrics); a session's last is ``{"type": "session.ended", "reason": …}``."""
        self._event_sinks.append(sink)

    def _to_sinks(self, session_id: str, event: dict[str, Any]) -> None:
        for sink in self._event_sinks:
            try:
                sink(session_id, event)
            except Exception:
                log.exception("event sink failed")

    def on_session_connected(self, callback: Callable[[str], None]) -> None:
        """``callback(session_id)`` when a session's caller media connects."""
        self._connected_listeners.append(callback)

    def on_session_ended(self, callback: Callable[[str, str, dict[str, Any]], None]) -> None:
        """``callback(session_id, reason, final)`` once a session's resources are released;
        ``final`` holds its last ``stats`` and its ``transcript``."""
        self._ended_listeners.append(callback)

    def event_log(self, session_id: str) -> EventLog:
        """The session's event stream; exists before the caller connects, so a backend
        can follow a session from its creation."""
        log_ = self._logs.get(session_id)
        if log_ is None:
            log_ = self._logs[session_id] = EventLog(
                on_append=lambda event: self._to_sinks(session_id, event)
            )
        return log_

    def ended_log(self, session_id: str) -> EventLog | None:
        """The closed event log of a session that ended here lately (for a replay)."""
        now = time.monotonic()
        while self._ended_logs:
            oldest, (_, at) = next(iter(self._ended_logs.items()))
            if now - at < ENDED_LOG_SECONDS and len(self._ended_logs) <= ENDED_LOGS_KEPT:
                break
            del self._ended_logs[oldest]
        entry = self._ended_logs.get(session_id)
        return None if entry is None else entry[0]

    def _end_log(self, session_id: str) -> None:
        """Close a session's event log (its readers replay what is kept, then end) and
        keep it a while for late readers."""
        log_ = self._logs.pop(session_id, None)
        if log_ is None:
            return
        log_.close()
        self._ended_logs[session_id] = (log_, time.monotonic())
        self.ended_log(session_id)  # prunes the oldest

    def forget(self, session_id: str) -> None:
        """A session that never went live has ended: free its slot, close its events."""
        self._reserved.pop(session_id, None)
        if session_id not in self.sessions:
            self._end_log(session_id)

    def available_models(self) -> list[str]:
        """The named models sessions on this node can use right now."""
        names = ["echo", "local"]
        if self.models.api_key:
            names.append("gpt-realtime")
        out = []
        for name in names:
            try:
                check_model(name, self.models)
            except UnknownModel:
                continue
            out.append(name)
        return out

    def check_model(self, name: str) -> None:
        """Raise UnknownModel unless this node can run ``name``."""
        check_model(name, self.models)

    def get(self, session_id: str) -> LiveSession:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise UnknownCall(f"session {session_id} is not live on node {self.id}") from None

    def ensure_capacity(self, session_id: str | None = None) -> None:
        """Raise AtCapacity unless one more session (or ``session_id``, whose slot is
        reserved already) fits."""
        if self.draining:
            raise AtCapacity(f"node {self.id} is draining", retry_after=1)
        others = self.load - (1 if session_id in self._reserved else 0)
        if others >= self.max_sessions:
            raise AtCapacity(f"node {self.id} is at its limit of {self.max_sessions} sessions")

    async def connect_caller(self, session_id: str, settings: SessionSettings, offer: str) -> str:
        """Start the session's media and bridge; returns the SDP answer."""
        bind_session(session_id)  # every task started from here logs the session's id
        self.ensure_capacity(session_id)
        model = make_model(settings, self.models, session_id)
        session = LiveSession(
            session_id,
            settings,
            model,
            self.media,
            events=self.event_log(session_id),
            on_closed=self._closed,
            max_seconds=self.max_session_seconds,
            connect_timeout=self.connect_timeout,
        )
        self.sessions[session_id] = session
        self._reserved.pop(session_id, None)
        for callback in self._connected_listeners:
            session.on_connected(callback)
        try:
            answer = await session.connect(offer)
            for hook in self._answer_hooks:
                answer = await hook(session_id, answer)
            return answer
        except BaseException:
            self.sessions.pop(session_id, None)
            await session.close("setup failed")
            raise

    async def add_listener(self, session_id: str, offer: str) -> tuple[str, str]:
        return await self.get(session_id).call.add_listener(offer)

    async def remove_listener(self, session_id: str, listener_id: str) -> bool:
        return await self.get(session_id).call.remove_listener(listener_id)

    async def close(self, session_id: str, reason: str = "deleted") -> None:
        await self.get(session_id).close(reason)

    async def stats(self, session_id: str) -> dict[str, Any]:
        return await self.get(session_id).stats()

    def _closed(self, session: LiveSession) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        self._end_log(session.id)
        reason = session.call.closed_reason or "closed"
        self._to_sinks(session.id, {"type": "session.ended", "reason": reason})
        final = {"stats": session.final_stats, "transcript": list(session.bridge.transcript)}
        for callback in self._ended_listeners:
            try:
                callback(session.id, reason, final)
            except Exception:
                log.exception("session-ended listener failed")

    async def shutdown(self, reason: str = "node shutting down") -> None:
        self.draining = True
        for session_id in list(self.sessions):
            await self.sessions[session_id].close(reason)
