"""Client events as typed records, discriminated on ``type``, and their parsing."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import InvalidEventError
from .items import Item


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_id: str | None = None


class SessionUpdate(_Event):
    type: Literal["session.update"]
    session: dict[str, Any]


class BufferAppend(_Event):
    type: Literal["input_audio_buffer.append"]
    audio: str


class BufferCommit(_Event):
    type: Literal["input_audio_buffer.commit"]


class BufferClear(_Event):
    type: Literal["input_audio_buffer.clear"]


class ItemCreate(_Event):
    type: Literal["conversation.item.create"]
    item: Item
    previous_item_id: str | None = None


class ItemTruncate(_Event):
    type: Literal["conversation.item.truncate"]
    item_id: str
    content_index: int = Field(ge=0)
    audio_end_ms: int = Field(ge=0)


class ItemDelete(_Event):
    type: Literal["conversation.item.delete"]
    item_id: str


class ResponseOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    instructions: str | None = None
    output_modalities: list[Literal["audio", "text"]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    conversation: str | None = None
    metadata: dict[str, str] | None = None


class ResponseCreate(_Event):
    type: Literal["response.create"]
    response: ResponseOptions = ResponseOptions()


class ResponseCancel(_Event):
    type: Literal["response.cancel"]
    response_id: str | None = None


ClientEvent = Annotated[
    SessionUpdate
    | BufferAppend
    | BufferCommit
    | BufferClear
    | ItemCreate
    | ItemTruncate
    | ItemDelete
    | ResponseCreate
    | ResponseCancel,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[ClientEvent] = TypeAdapter(ClientEvent)
KNOWN_TYPES = frozenset(
    {
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
    }
)


def parse_client_event(raw: str | bytes) -> ClientEvent:
    """Parse one WebSocket message; raise InvalidEventError with a precise message."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting past the stack
        raise InvalidEventError(
            f"message is not valid JSON: {str(exc)[:100]}", code="invalid_json"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidEventError("an event must be a JSON object", code="invalid_json")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise InvalidEventError("the event has no string 'type'", param="type")
    if kind not in KNOWN_TYPES:
        raise InvalidEventError(
            f"unknown or unsupported event type {kind!r}", code="unknown_event", param="type"
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])
        raise InvalidEventError(
            f"invalid {kind} event at {where or 'top level'}: {first['msg']}",
            code="invalid_value",
            param=where or None,
        ) from exc


def event_id_of(raw: str | bytes) -> str | None:
    """Best effort: the client's ``event_id`` of a message, for error reports."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = data.get("event_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
