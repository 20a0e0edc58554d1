"""What the caller heard of a reply: the transcript cut at the played position.

The model streams a reply's transcript in pieces, each just before (or with) the
audio it belongs to. The bridge notes how much of the item's audio it had received
when each piece came: that is where the piece's audio starts. A piece's audio ends
where the next one starts (the last one at the end of the audio). When a reply is
interrupted after ``played_ms``, the caller heard every piece that ended by then
and, of the piece being spoken, the share of its words that fits its played share,
as the Realtime protocol's ``conversation.item.truncate`` cuts the server's copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class SpokenText:
    """One reply item's transcript pieces with the audio position each starts at."""

    pieces: list[tuple[str, int]] = field(default_factory=list)  # (text, start ms)
    final: str | None = None  # the model's whole transcript, once it is done

    def add(self, text: str, start_ms: int) -> None:
        self.pieces.append((text, start_ms))

    def text(self) -> str:
        return self.final if self.final is not None else "".join(t for t, _ in self.pieces)


def heard_text(pieces: Sequence[tuple[str, int]], total_ms: int, played_ms: int) -> str:
    """The words of ``pieces`` the caller heard in ``played_ms`` of ``total_ms`` (pure)."""
    heard: list[str] = []
    for index, (text, start) in enumerate(pieces):
        end = pieces[index + 1][1] if index + 1 < len(pieces) else max(total_ms, start)
        if played_ms >= end:
            heard.append(text)
            continue
        if played_ms > start and end > start:
            words = text.split()
            keep = len(words) * (played_ms - start) // (end - start)
            if keep:
                lead = text[: len(text) - len(text.lstrip())]
                heard.append(lead + " ".join(words[:keep]))
        break
    return "".join(heard).strip()
