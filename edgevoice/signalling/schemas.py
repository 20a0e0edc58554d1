"""Request and response bodies of the public API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from pydantic_core import PydanticCustomError

from .limits import metadata_problem


class BargeIn(BaseModel):
    """Barge-in at the edge: the node pauses the reply on the caller's first words."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True, description="pause the reply when the caller starts talking"
    )
    confirm_window_ms: int = Field(
        default=1000,
        ge=100,
        le=10_000,
        description="how long a pause waits for the model to confirm the caller's turn "
        "before the reply resumes (a cough, a 'mm-hm')",
    )


class CreateSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="echo, local, or a realtime model name")
    instructions: str | None = Field(None, max_length=20_000)
    voice: str | None = Field(None, max_length=64)
    ttl_seconds: int | None = Field(None, ge=5, le=3600, description="client secret lifetime")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="yours, returned as given: up to 64 keys (nested ones count), keys up to "
        "64 characters, strings up to 1024, 8 levels deep, 16 KiB as JSON",
    )
    turn_detection: dict[str, Any] | None = Field(
        default_factory=lambda: {"type": "server_vad"},
        description="server_vad (threshold, prefix_padding_ms, silence_duration_ms), "
        "semantic_vad, or null for push-to-talk",
    )
    tools: list[dict[str, Any]] = Field(default_factory=list, max_length=64)
    input_transcription: dict[str, Any] | None = Field(
        default_factory=lambda: {"model": "gpt-4o-mini-transcribe"},
        description="transcription of the caller's speech (null to turn it off)",
    )
    webhook_url: HttpUrl | None = Field(None, description="where tool calls are POSTed")
    audio_format: Literal["pcm16", "pcmu"] = Field(
        "pcm16", description="audio on the model socket: PCM16 24 kHz or G.711 μ-law"
    )
    barge_in: BargeIn = Field(
        default_factory=lambda: BargeIn(),
        description="barge-in at the edge (models with turn detection)",
    )
    region: str | None = Field(
        None,
        max_length=64,
        description="preferred region for the media node (else the signalling's own; "
        "other regions when it has no room)",
    )
    client_rtt_ms: dict[str, float] | None = Field(
        None,
        max_length=64,
        description="round-trip times the caller measured to each region's ping URL "
        "(GET /v1/regions): without a region, placement prefers the lowest",
    )

    @field_validator("client_rtt_ms")
    @classmethod
    def _rtts(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for name, rtt in (value or {}).items():
            if not 0 <= rtt <= 60_000 or len(name) > 64:
                raise ValueError("each region's RTT is 0-60000 ms, region names up to 64 chars")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = metadata_problem(value)
        if problem is not None:
            raise PydanticCustomError("metadata_limits", problem)
        return value


class ClientSecret(BaseModel):
    value: str
    expires_at: int


class SessionCreated(BaseModel):
    id: str
    object: str = "edgevoice.session"
    model: str
    client_secret: ClientSecret
    whip_url: str
    ice_servers: list[dict[str, Any]]
    expires_at: int
    node: dict[str, str] = Field(description="the media node that holds the session: id, region")


class CreateListener(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_seconds: int = Field(
        default=300, ge=5, le=3600, description="how long the token may start new listeners"
    )


class ListenerGrant(BaseModel):
    """A listener token for a supervisor's page: it can listen (WHEP) to one session,
    nothing else; the API key stays on the backend."""

    object: str = "edgevoice.listener_token"
    session_id: str
    token: str
    expires_at: int
    whep_url: str = Field(
        description="POST a WHEP offer here with the token as Bearer; add ?track=caller, "
        "agent or mix to hear one side on a single audio section"
    )
