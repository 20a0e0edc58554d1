"""A reply drafted while the caller's silence is still running.

With server turn detection a turn ends after ``silence_duration_ms`` (500 ms by
default) of silence, and only then would the transcript be finished, the reply
decided and its first sentence synthesized: ~100-200 ms more before the caller
hears anything. Instead, once the caller has been quiet for ``vad.DRAFT_AFTER_MS``
(the turn may still go on), the session finishes the utterance's transcription,
decides the reply as the brain would with that transcript, and synthesizes its first
sentence, so that all of it is ready when the silence ends. If the caller speaks
again first, the draft is dropped and the utterance recognised afresh.

The response itself still decides from the committed transcript: the drafted audio
is used only when the response's first sentence is the same text at the same rate
and speed, so a reply made with a draft says exactly what one made without it would.
With ``semantic_vad`` the drafted transcript also decides how long the silence must
be: words that already form a complete request end the turn sooner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .audio import Samples
from .brain import Decision, Intent, Say, match_intent
from .sentences import split_sentences

# semantic_vad: the silence that ends a turn whose words are already a complete request.
COMPLETE_TURN_SILENCE_MS = {"low": 500, "medium": 300, "auto": 300, "high": 200}


@dataclass(frozen=True, slots=True)
class DraftKey:
    """What drafted audio is: one sentence, at one output rate and speaking speed."""

    sentence: str
    rate: int
    speed: float


def first_sentence(
    decision: Decision, modalities: Sequence[Literal["audio", "text"]]
) -> str | None:
    """The sentence a spoken reply starts with, if the decision speaks (pure)."""
    if not isinstance(decision, Say) or "audio" not in modalities:
        return None
    sentences = split_sentences(decision.text)
    return sentences[0] if sentences else None


def complete_turn(text: str) -> bool:
    """Whether the words already form a request the brain can answer (pure)."""
    return match_intent(text) not in (Intent.UNKNOWN, Intent.SILENCE)


class Draft:
    """One turn's draft: set ``key`` once the first sentence is known, then synthesize."""

    def __init__(self) -> None:
        self.key: DraftKey | None = None
        self.transcript: str | None = None
        self.decided = asyncio.Event()
        self._task: asyncio.Task[Samples | None] | None = None

    def start(self, work: Coroutine[Any, Any, Samples | None]) -> None:
        self._task = asyncio.create_task(work, name="reply-draft")
        self._task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Samples | None]) -> None:
        self.decided.set()
        if not task.cancelled():
            task.exception()  # retrieved: a failed draft only means no draft

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def audio_for(self, key: DraftKey) -> Samples | None:
        """The drafted audio if it is ``key``'s (waiting for it to finish), else None."""
        await self.decided.wait()
        task = self._task
        if task is None or self.key != key:
            return None
        await asyncio.wait({task})
        if task.cancelled() or task.exception() is not None:
            return None
        return task.result()
