"""OpenAI Realtime wire format: server JSON → typed events, and client-event builders.

Pure functions only (no sockets, no clock). GA event names come first; the older
beta names map to the same typed events. Audio stays in the wire format here
(base64-decoded only); the client turns μ-law into PCM.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import events as ev
from .model import SessionSettings

Json = dict[str, Any]

_SERVER_VAD_KEYS = frozenset(
    {"type", "threshold", "prefix_padding_ms", "silence_duration_ms", "create_response",
     "interrupt_response", "idle_timeout_ms"}
)  # fmt: skip
_SEMANTIC_VAD_KEYS = frozenset({"type", "eagerness", "create_response", "interrupt_response"})
_TRANSCRIPTION_KEYS = frozenset({"model", "language", "prompt"})

AUDIO_DELTA = frozenset({"response.output_audio.delta", "response.audio.delta"})
AUDIO_DONE = frozenset({"response.output_audio.done", "response.audio.done"})
TRANSCRIPT_DELTA = frozenset(
    {"response.output_audio_transcript.delta", "response.audio_transcript.delta"}
)
TRANSCRIPT_DONE = frozenset(
    {"response.output_audio_transcript.done", "response.audio_transcript.done"}
)
# Known events that carry nothing the bridge needs: skipped without a warning.
QUIET = frozenset(
    {
        "conversation.created", "conversation.item.added", "conversation.item.done",
        "conversation.item.created", "conversation.item.retrieved", "conversation.item.deleted",
        "conversation.item.truncated", "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.segment",
        "conversation.item.input_audio_transcription.failed",
        "input_audio_buffer.committed", "input_audio_buffer.cleared",
        "input_audio_buffer.timeout_triggered", "output_audio_buffer.started",
        "output_audio_buffer.stopped", "output_audio_buffer.cleared",
        "response.output_item.added", "response.output_item.done",
        "response.content_part.added", "response.content_part.done",
        "response.output_text.delta", "response.output_text.done", "response.text.delta",
        "response.text.done", "response.function_call_arguments.delta", "rate_limits.updated",
    }
)  # fmt: skip
IGNORED_ERROR_CODES = frozenset({"response_cancel_not_active"})


class ProtocolError(ValueError):
    """A server event that is not valid JSON or lacks a field its type requires."""


@dataclass(slots=True, frozen=True)
class SessionEvent:
    """Internal: ``session.created`` / ``session.updated`` (handled by the client)."""

    kind: Literal["created", "updated"]
    session: Json


Translated = ev.ModelEvent | SessionEvent | None


# server → typed -------------------------------------------------------------------


def parse_json(raw: str | bytes) -> Json:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting past the stack
        raise ProtocolError(f"not JSON: {str(exc)[:100]}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("not a JSON object with a string 'type'")
    return data


def _field(data: Mapping[str, Any], key: str, kind: type[Any]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(f"{data.get('type')}: {key!r} must be {kind.__name__}")
    return value


def _response(data: Mapping[str, Any]) -> Mapping[str, Any]:
    response = data.get("response")
    if not isinstance(response, Mapping):
        raise ProtocolError(f"{data.get('type')}: 'response' must be an object")
    return response


def decode_audio(data: Mapping[str, Any]) -> bytes:
    try:
        return base64.b64decode(_field(data, "delta", str), validate=True)
    except ValueError as exc:  # binascii.Error, or plain ValueError for non-ASCII text
        raise ProtocolError(f"{data.get('type')}: 'delta' is not base64") from exc


def translate(data: Mapping[str, Any]) -> Translated:
    """One parsed server event → a typed event, a SessionEvent, or None (skip).

    Raises ProtocolError when a field the type needs is missing or mistyped; unknown
    types return None (``is_known`` tells the caller whether to mention it).
    """
    kind = data.get("type")
    if kind in AUDIO_DELTA:
        return ev.AudioDelta(
            _field(data, "response_id", str), _field(data, "item_id", str), decode_audio(data)
        )
    if kind in AUDIO_DONE:
        return ev.AudioDone(_field(data, "response_id", str), _field(data, "item_id", str))
    if kind in TRANSCRIPT_DELTA:
        return ev.TranscriptDelta(
            _field(data, "response_id", str), _field(data, "item_id", str),
            _field(data, "delta", str),
        )  # fmt: skip
    if kind in TRANSCRIPT_DONE:
        return ev.TranscriptDone(
            _field(data, "response_id", str), _field(data, "item_id", str),
            _field(data, "transcript", str),
        )  # fmt: skip
    match kind:
        case "conversation.item.input_audio_transcription.completed":
            return ev.InputTranscript(_field(data, "item_id", str), _field(data, "transcript", str))
        case "input_audio_buffer.speech_started":
            return ev.SpeechStarted(
                _field(data, "item_id", str), _field(data, "audio_start_ms", int)
            )
        case "input_audio_buffer.speech_stopped":
            return ev.SpeechStopped(_field(data, "item_id", str), _field(data, "audio_end_ms", int))
        case "response.created":
            return ev.ResponseCreated(_field(_response(data), "id", str))
        case "response.output_item.added":
            item = data.get("item")
            item_id = item.get("id") if isinstance(item, Mapping) else None
            return ev.OutputItemAdded(
                _field(data, "response_id", str), item_id if isinstance(item_id, str) else ""
            )
        case "response.done":
            response = _response(data)
            status = response.get("status")
            return ev.ResponseDone(
                _field(response, "id", str), status if isinstance(status, str) else "unknown"
            )
        case "response.function_call_arguments.done":
            return ev.FunctionCall(
                _field(data, "response_id", str), _field(data, "call_id", str),
                _field(data, "name", str), _field(data, "arguments", str),
            )  # fmt: skip
        case "error":
            error = data.get("error")
            if not isinstance(error, Mapping):
                raise ProtocolError("error: 'error' must be an object")
            code = error.get("code")
            return ev.ModelError(
                str(error.get("message") or "model error"),
                code if isinstance(code, str) else None,
                str(error.get("type") or "server_error"),
            )
        case "session.created" | "session.updated":
            session = data.get("session")
            return SessionEvent(
                "created" if kind == "session.created" else "updated",
                dict(session) if isinstance(session, Mapping) else {},
            )
    return None


def is_known(kind: str) -> bool:
    return kind in QUIET


def is_ignored_error(event: ev.ModelError) -> bool:
    return event.code in IGNORED_ERROR_CODES


# typed → client JSON ----------------------------------------------------------------


def turn_detection_config(turn: Mapping[str, Any] | None) -> Json | None:
    """SessionSettings.turn_detection → the GA shape (None = manual turns).

    Keys the chosen VAD type does not take are dropped (the server would refuse them).
    """
    if turn is None:
        return None
    kind = turn.get("type", "server_vad")
    if kind not in ("server_vad", "semantic_vad"):
        raise ValueError(f"turn_detection type must be server_vad or semantic_vad, not {kind!r}")
    allowed = _SERVER_VAD_KEYS if kind == "server_vad" else _SEMANTIC_VAD_KEYS
    config = {key: value for key, value in turn.items() if key in allowed}
    config["type"] = kind
    return config


def server_cancels_on_barge_in(turn: Mapping[str, Any] | None) -> bool:
    """Whether the server cancels the response by itself when the caller speaks."""
    return turn is not None and turn.get("interrupt_response", True) is not False


def function_tool(tool: Mapping[str, Any]) -> Json:
    """A tool from the settings in the Realtime function-tool shape.

    Accepts the Realtime shape and the Chat Completions shape (``{"function": {...}}``).
    """
    spec = tool.get("function", tool)
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ValueError(f"a tool needs a string 'name': {dict(tool)!r}")
    out: Json = {"type": "function", "name": spec["name"]}
    for key in ("description", "parameters"):
        if key in spec:
            out[key] = spec[key]
    return out


def session_update(settings: SessionSettings, audio_format: Mapping[str, Any]) -> Json:
    audio_input: Json = {
        "format": dict(audio_format),
        "turn_detection": turn_detection_config(settings.turn_detection),
    }
    if settings.input_transcription is not None:
        audio_input["transcription"] = {
            key: value
            for key, value in settings.input_transcription.items()
            if key in _TRANSCRIPTION_KEYS
        }
    audio_output: Json = {"format": dict(audio_format)}
    if settings.voice is not None:
        audio_output["voice"] = settings.voice
    session: Json = {
        "type": "realtime",
        "output_modalities": ["audio"],
        "audio": {"input": audio_input, "output": audio_output},
    }
    if settings.instructions is not None:
        session["instructions"] = settings.instructions
    if settings.tools:
        session["tools"] = [function_tool(tool) for tool in settings.tools]
        session["tool_choice"] = "auto"
    return {"type": "session.update", "session": session}


def audio_append(data: bytes) -> Json:
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(data).decode("ascii")}


def item_truncate(item_id: str, audio_end_ms: int) -> Json:
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": max(0, int(audio_end_ms)),
    }


def response_cancel(response_id: str | None) -> Json:
    event: Json = {"type": "response.cancel"}
    if response_id is not None:
        event["response_id"] = response_id
    return event


def response_create() -> Json:
    return {"type": "response.create"}


def function_call_output(call_id: str, output: str) -> Json:
    return {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": call_id, "output": output},
    }


def message_item(role: Literal["user", "assistant"], text: str) -> Json:
    """A past turn re-created as text (user: ``input_text``, assistant: ``output_text``)."""
    content_type = "input_text" if role == "user" else "output_text"
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": role,
            "content": [{"type": content_type, "text": text}],
        },
    }


def realtime_url(url: str, model: str) -> str:
    """``url`` with ``?model=<model>`` (replacing a model already in the query)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "model"]
    query.append(("model", model))
    return urlunsplit(parts._replace(query=urlencode(query)))
