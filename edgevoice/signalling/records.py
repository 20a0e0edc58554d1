"""What the control plane remembers about a session, and the states it moves through."""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from ..statemachine import StateMachine


class SessionState(Enum):
    CREATED = "created"  # secret issued, nobody connected yet
    CONNECTING = "connecting"  # WHIP offer answered, media setting up
    CONNECTED = "connected"
    CLOSED = "closed"  # ended by DELETE, dead peer, failure or the node
    EXPIRED = "expired"  # the secret's TTL passed unused
    FAILED = "failed"  # its node was lost (stopped heartbeating) with the session on it


SESSION_EDGES = {
    SessionState.CREATED: frozenset(
        {SessionState.CONNECTING, SessionState.CLOSED, SessionState.EXPIRED, SessionState.FAILED}
    ),
    SessionState.CONNECTING: frozenset(
        {SessionState.CONNECTED, SessionState.CLOSED, SessionState.FAILED}
    ),
    SessionState.CONNECTED: frozenset({SessionState.CLOSED, SessionState.FAILED}),
}


class SessionRecord(BaseModel):
    id: str
    secret_hash: str
    resource_id: str | None = None
    etag: str | None = None
    state: SessionState = SessionState.CREATED
    model: str
    instructions: str | None = None
    voice: str | None = None
    turn_detection: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    input_transcription: dict[str, Any] | None = None
    webhook_url: str | None = None
    audio_format: str = "pcm16"
    barge_in: dict[str, Any] | None = None  # schemas.BargeIn as given; None: the defaults
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: float = Field(default_factory=time.time)
    expires_at: float
    connected_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    tenant: str = "default"  # whose API key created it; only that tenant sees it
    node_id: str | None = None  # the node holding the session's slot, from creation
    node_region: str | None = None
    final_stats: dict[str, Any] | None = None
    transcript: list[dict[str, Any]] = Field(default_factory=list)
    # WHEP listener tokens of the session: sha256 of the token -> when it stops
    # admitting new listeners (listeners.py)
    listener_tokens: dict[str, float] = Field(default_factory=dict)

    def can(self, wanted: SessionState) -> bool:
        return StateMachine(self.state, SESSION_EDGES).can(wanted)

    def end(self, state: SessionState, reason: str, at: float | None = None) -> bool:
        """Move to a final state with its reason; False (and no change) if that edge is
        not allowed, e.g. a late "closed" for a session that has already ended."""
        if not self.can(state):
            return False
        self.move(state)
        self.ended_at = time.time() if at is None else at
        self.end_reason = reason
        return True

    def move(self, wanted: SessionState) -> None:
        """Change state along an allowed edge (raises IllegalTransition otherwise)."""
        machine = StateMachine(self.state, SESSION_EDGES)
        machine.to(wanted)
        self.state = machine.state

    @property
    def finished(self) -> bool:
        return self.state in (SessionState.CLOSED, SessionState.EXPIRED, SessionState.FAILED)
