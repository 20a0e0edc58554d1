"""Conversation items as typed records, in the GA wire shape (discriminated on ``type``)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["completed", "incomplete", "in_progress"]


def new_id(prefix: str) -> str:
    """A fresh id such as ``item_3f2a…`` (prefixes: item, resp, call, event, sess, ek)."""
    return f"{prefix}_{secrets.token_hex(10)}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContentPart(_Model):
    type: Literal["input_text", "input_audio", "output_text", "output_audio"]
    text: str | None = None
    transcript: str | None = None


class MessageItem(_Model):
    type: Literal["message"] = "message"
    id: str = Field(default_factory=lambda: new_id("item"))
    object: Literal["realtime.item"] = "realtime.item"
    status: Status = "completed"
    role: Literal["user", "assistant", "system"]
    content: list[ContentPart] = []

    @property
    def text(self) -> str:
        """What the message says: its text parts and transcripts, joined."""
        pieces = [part.text or part.transcript or "" for part in self.content]
        return " ".join(piece for piece in pieces if piece).strip()


class FunctionCallItem(_Model):
    type: Literal["function_call"] = "function_call"
    id: str = Field(default_factory=lambda: new_id("item"))
    object: Literal["realtime.item"] = "realtime.item"
    status: Status = "completed"
    call_id: str = Field(default_factory=lambda: new_id("call"))
    name: str
    arguments: str = ""


class FunctionCallOutputItem(_Model):
    type: Literal["function_call_output"] = "function_call_output"
    id: str = Field(default_factory=lambda: new_id("item"))
    object: Literal["realtime.item"] = "realtime.item"
    status: Status = "completed"
    call_id: str
    output: str


Item = Annotated[
    MessageItem | FunctionCallItem | FunctionCallOutputItem, Field(discriminator="type")
]
