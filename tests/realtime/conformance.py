"""Client and server events checked against the openai SDK's own pydantic models.

The SDK's models accept extra keys, so validation alone lets a misspelt field
through: ``unknown_keys`` walks the raw dict beside the validated model and reports
every key the chosen model does not declare, at any depth.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Annotated, Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, Discriminator, TypeAdapter

ClientEvent: TypeAdapter[Any] = TypeAdapter(
    Annotated[typing.get_args(RealtimeClientEvent)[0], Discriminator("type")]  # type: ignore[arg-type]
)
ServerEvent: TypeAdapter[Any] = TypeAdapter(
    Annotated[typing.get_args(RealtimeServerEvent)[0], Discriminator("type")]  # type: ignore[arg-type]
)


def _declared(model: BaseModel) -> dict[str, str]:
    """Wire key → attribute name for every field of ``model``."""
    names: dict[str, str] = {}
    for name, info in type(model).model_fields.items():
        names[info.alias or name] = name
    return names


def unknown_keys(raw: Any, model: Any, path: str = "") -> list[str]:
    """Keys in ``raw`` that the validated ``model`` does not declare (recursively)."""
    found: list[str] = []
    if isinstance(model, BaseModel) and isinstance(raw, Mapping):
        declared = _declared(model)
        for key, value in raw.items():
            if key not in declared:
                found.append(f"{path}{key}")
                continue
            found += unknown_keys(value, getattr(model, declared[key]), f"{path}{key}.")
    elif isinstance(model, list) and isinstance(raw, list):
        for index, (raw_item, item) in enumerate(zip(raw, model, strict=False)):
            found += unknown_keys(raw_item, item, f"{path}{index}.")
    return found


def check_client_event(event: Mapping[str, Any]) -> None:
    """Raise (pydantic.ValidationError or AssertionError) unless ``event`` is a valid
    GA client event with no undeclared key."""
    model = ClientEvent.validate_python(event)
    extra = unknown_keys(event, model)
    assert not extra, f"{event.get('type')}: keys the SDK does not declare: {extra}"


def check_server_event(event: Mapping[str, Any]) -> None:
    model = ServerEvent.validate_python(event)
    extra = unknown_keys(event, model)
    assert not extra, f"{event.get('type')}: keys the SDK does not declare: {extra}"
