"""The bridge's model contract: the one interface every realtime model implements.

The bridge depends on this Protocol only. Audio in and out is PCM16 mono 24 kHz.
The echo model, the OpenAI-protocol client and anything else drop in behind it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .bargein import BargeInSettings
from .events import ModelEvent


@dataclass(frozen=True)
class SessionSettings:
    """What the session's creator asked of the model (flows into ``session.update``)."""

    model: str = "echo"
    instructions: str | None = None
    voice: str | None = None
    turn_detection: dict[str, Any] | None = field(default_factory=lambda: {"type": "server_vad"})
    tools: tuple[dict[str, Any], ...] = ()
    input_transcription: dict[str, Any] | None = None
    webhook_url: str | None = None
    audio_format: str = "pcm16"  # on the model socket: "pcm16" (24 kHz) or "pcmu" (G.711)
    barge_in: BargeInSettings = field(default_factory=BargeInSettings)  # bargein.py


class RealtimeModel(Protocol):
    """A realtime model. An implementation whose reply audio already arrives in real
    time may set ``realtime_output = True`` to skip the bridge's playout pacing."""

    async def start(self) -> None:
        """Connect and apply the session settings; raises a BridgeError on failure."""

    def send_audio(self, pcm: bytes) -> None:
        """Hand one caller frame of PCM to the model. Never blocks."""

    async def interrupt(self, item_id: str, audio_end_ms: int, response_id: str | None) -> None:
        """Barge-in: the caller heard only ``audio_end_ms`` of ``item_id``. The model
        truncates the item and cancels ``response_id`` unless its server does that by
        itself (the protocol client knows the turn-detection settings)."""

    async def send_tool_result(self, call_id: str, output: str) -> None:
        """Give a function call's output back and ask for a response."""

    def events(self) -> AsyncIterator[ModelEvent]:
        """The model's events, in order, until the model is closed."""

    async def close(self) -> None: ...
