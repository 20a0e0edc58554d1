"""The conversation: ordered items plus what the server knows about each of them."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from .brain import AssistantSaid, HistoryEntry, ToolReturned, UserSaid
from .errors import InvalidEventError, InvalidStateError
from .items import FunctionCallItem, FunctionCallOutputItem, Item, MessageItem

ROOT = "root"


@dataclass
class Entry:
    item: Item
    # A user audio item whose transcript is still being recognised.
    transcript: asyncio.Task[str] | None = None
    # Assistant audio: each spoken sentence with the audio time (ms) at which it ends.
    spoken: list[tuple[str, int]] = field(default_factory=list)

    @property
    def audio_ms(self) -> int:
        return self.spoken[-1][1] if self.spoken else 0


def truncated_transcript(spoken: list[tuple[str, int]], audio_end_ms: int) -> str:
    """The part of a reply the caller heard: sentences that ended by ``audio_end_ms`` (pure)."""
    return " ".join(sentence for sentence, end_ms in spoken if end_ms <= audio_end_ms)


class Conversation:
    def __init__(self) -> None:
        self._entries: list[Entry] = []

    @property
    def last_id(self) -> str | None:
        return self._entries[-1].item.id if self._entries else None

    def add(self, entry: Entry, previous_item_id: str | None = None) -> str | None:
        """Insert ``entry`` after ``previous_item_id`` (``root``: first; None: last).

        Returns the id of the item now before it.
        """
        if any(existing.item.id == entry.item.id for existing in self._entries):
            raise InvalidEventError(
                f"an item with id {entry.item.id!r} already exists",
                code="invalid_value",
                param="item.id",
            )
        if previous_item_id is None:
            previous = self.last_id
            self._entries.append(entry)
            return previous
        if previous_item_id == ROOT:
            self._entries.insert(0, entry)
            return None
        index = self._index(previous_item_id, param="previous_item_id")
        self._entries.insert(index + 1, entry)
        return previous_item_id

    def get(self, item_id: str) -> Entry:
        return self._entries[self._index(item_id, param="item_id")]

    def delete(self, item_id: str) -> None:
        del self._entries[self._index(item_id, param="item_id")]

    def _index(self, item_id: str, *, param: str) -> int:
        for index, entry in enumerate(self._entries):
            if entry.item.id == item_id:
                return index
        raise InvalidStateError(
            f"item {item_id!r} does not exist", code="item_not_found", param=param
        )

    def tool_name(self, call_id: str) -> str | None:
        for entry in self._entries:
            if isinstance(entry.item, FunctionCallItem) and entry.item.call_id == call_id:
                return entry.item.name
        return None

    async def history(self) -> list[HistoryEntry]:
        """The conversation as the brain sees it; waits for pending transcripts."""
        history: list[HistoryEntry] = []
        for entry in list(self._entries):
            item = entry.item
            if entry.transcript is not None:
                # Shielded: cancelling this response must not cancel the recognition.
                with contextlib.suppress(Exception):
                    await asyncio.shield(entry.transcript)
            if isinstance(item, MessageItem) and item.role == "user":
                history.append(UserSaid(item.text))
            elif isinstance(item, MessageItem) and item.role == "assistant":
                history.append(AssistantSaid(item.text))
            elif isinstance(item, FunctionCallOutputItem):
                name = self.tool_name(item.call_id) or "unknown"
                history.append(ToolReturned(name, item.output))
        return history
