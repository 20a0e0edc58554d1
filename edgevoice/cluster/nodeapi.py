"""The one interface through which the control plane reaches a session on a node.

Two implementations: ``local.LocalNodeClient`` (the node lives in this process) and
``remote.RemoteNodeClient`` (the node's internal HTTP API, with the cluster secret).
Nothing else in the control plane knows where a node lives.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..bridge.bargein import BargeInSettings
from ..bridge.model import SessionSettings
from ..sfu.listen import Feed
from ..sfu.sdp import IceCredentials

Candidate = tuple[str | None, str]  # (mid, "candidate:...") as trickled by a WHIP client


class NodeClient(Protocol):
    node_id: str

    async def answer(self, session_id: str, settings: SessionSettings, offer: str) -> str:
        """Start the session's call and bridge from the caller's offer; the SDP answer."""

    async def patch(
        self, session_id: str, candidates: tuple[Candidate, ...], ice: IceCredentials
    ) -> int:
        """Add trickled caller candidates; how many were taken. ``ice`` holds the
        fragment's credentials: changed ones are an ICE restart, refused
        (``IceRestartRefused``, a 422)."""

    async def delete(self, session_id: str, reason: str) -> bool:
        """End the live call (False: nothing live there)."""

    async def listen(self, session_id: str, offer: str, feed: Feed | None) -> tuple[str, str]:
        """Add a WHEP listener hearing ``feed`` (None: decided by its offer's audio
        sections, ``sfu.listen``); (listener id, SDP answer)."""

    async def listener_patch(
        self,
        session_id: str,
        listener_id: str,
        candidates: tuple[Candidate, ...],
        ice: IceCredentials,
    ) -> int:
        """Add a listener's trickled candidates (as ``patch``)."""

    async def unlisten(self, session_id: str, listener_id: str) -> bool:
        """Remove a listener (False: no such listener, nor one that left recently)."""

    async def stats(self, session_id: str) -> dict[str, Any] | None:
        """``{"stats": …, "transcript": […]}`` of the live call, None if not live there."""


def settings_to_json(settings: SessionSettings) -> dict[str, Any]:
    return {
        "model": settings.model,
        "instructions": settings.instructions,
        "voice": settings.voice,
        "turn_detection": settings.turn_detection,
        "tools": list(settings.tools),
        "input_transcription": settings.input_transcription,
        "webhook_url": settings.webhook_url,
        "audio_format": settings.audio_format,
        "barge_in": {
            "enabled": settings.barge_in.enabled,
            "confirm_window_s": settings.barge_in.confirm_window_s,
        },
    }


def settings_from_json(data: dict[str, Any]) -> SessionSettings:
    return SessionSettings(
        model=str(data["model"]),
        instructions=data.get("instructions"),
        voice=data.get("voice"),
        turn_detection=data.get("turn_detection"),
        tools=tuple(data.get("tools") or ()),
        input_transcription=data.get("input_transcription"),
        webhook_url=data.get("webhook_url"),
        audio_format=str(data.get("audio_format") or "pcm16"),
        barge_in=_barge_in(data.get("barge_in")),
    )


def _barge_in(data: Any) -> BargeInSettings:
    if not isinstance(data, dict):
        return BargeInSettings()
    return BargeInSettings(
        enabled=bool(data.get("enabled", True)),
        confirm_window_s=float(data.get("confirm_window_s", 1.0)),
    )
