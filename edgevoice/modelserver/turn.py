"""One response: ask the brain, then stream a spoken (or text) reply or a tool call."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from . import events as ev
from .audio import encode_base64, encode_wire, wire_rate
from .brain import CallTool, Say, decide
from .conversation import Conversation, Entry
from .draft import Draft, DraftKey
from .items import ContentPart, FunctionCallItem, Item, MessageItem
from .models import Models
from .sentences import split_sentences

log = logging.getLogger(__name__)
CHUNK_MS = 100  # audio delta size; deltas go out as soon as a sentence is synthesized


@dataclass
class ResponseSettings:
    """What a response needs from the session, frozen when the response starts."""

    modalities: list[Literal["audio", "text"]]
    tools: frozenset[str]
    voice_speed: float
    output_format: str
    in_conversation: bool
    now: Callable[[], datetime] = datetime.now
    # perf_counter() of the speech_stopped that triggered this response, if any.
    speech_stopped_at: float | None = None
    # The reply drafted during the caller's silence, whose first sentence may be ready.
    draft: Draft | None = None


class ResponseTurn:
    """Runs as a task; the session cancels the task to cancel the response."""

    def __init__(
        self,
        response: ev.Response,
        settings: ResponseSettings,
        models: Models,
        conversation: Conversation,
        emit: Callable[[ev.ServerEvent], None],
    ) -> None:
        self.response = response
        self.settings = settings
        self.models = models
        self.conversation = conversation
        self.emit = emit
        self.item: Item | None = None
        self.spoken: list[tuple[str, int]] = []
        self.said = ""
        self.finished = False
        self.first_audio_s: float | None = None
        self.drafted = False  # the first sentence's audio came from the draft

    @property
    def id(self) -> str:
        return self.response.id or ""

    async def run(self) -> None:
        try:
            history = await self.conversation.history()
            decision = decide(history, self.settings.tools, self.settings.now())
            if isinstance(decision, CallTool):
                await self._call_tool(decision)
            else:
                await self._say(decision)
            self._finish("completed")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("response %s failed", self.id)
            self._finish("failed", error=str(exc))

    def _add_output(self, item: Item) -> None:
        self.item = item
        self.response.output = [item]
        self.emit(ev.OutputItemAdded(response_id=self.id, item=item))
        if self.settings.in_conversation:
            previous = self.conversation.add(Entry(item, spoken=self.spoken))
            self.emit(ev.ItemAdded(item=item, previous_item_id=previous))

    def _close_output(self, item: Item) -> None:
        item.status = "completed"
        self.emit(ev.OutputItemDone(response_id=self.id, item=item))
        if self.settings.in_conversation:
            self.emit(ev.ItemDone(item=item))

    async def _call_tool(self, decision: CallTool) -> None:
        item = FunctionCallItem(name=decision.name, status="in_progress")
        self._add_output(item)
        ids = {"response_id": self.id, "item_id": item.id, "call_id": item.call_id}
        self.emit(ev.ArgumentsDelta.model_validate({**ids, "delta": decision.arguments}))
        item.arguments = decision.arguments
        done = {**ids, "name": item.name, "arguments": item.arguments}
        self.emit(ev.ArgumentsDone.model_validate(done))
        self._close_output(item)

    async def _say(self, decision: Say) -> None:
        audio = "audio" in self.settings.modalities
        item = MessageItem(role="assistant", status="in_progress")
        self._add_output(item)
        part = ev.Part(type="audio", transcript="") if audio else ev.Part(type="text", text="")
        self.emit(ev.ContentPartAdded(response_id=self.id, item_id=item.id, part=part))
        item.content = [ev.content_of(part)]
        said = ""
        for index, sentence in enumerate(split_sentences(decision.text)):
            piece = sentence if index == 0 else f" {sentence}"
            if audio:
                await self._speak_sentence(sentence, piece, item.id, first=index == 0)
            else:
                self.emit(ev.TextDelta(response_id=self.id, item_id=item.id, delta=piece))
            said += piece
            self.said = said
            item.content = [
                ContentPart(type="output_audio", transcript=said)
                if audio
                else ContentPart(type="output_text", text=said)
            ]
        if audio:
            self.emit(ev.AudioDone(response_id=self.id, item_id=item.id))
            self.emit(ev.AudioTranscriptDone(response_id=self.id, item_id=item.id, transcript=said))
            part = ev.Part(type="audio", transcript=said)
        else:
            self.emit(ev.TextDone(response_id=self.id, item_id=item.id, text=said))
            part = ev.Part(type="text", text=said)
        self.emit(ev.ContentPartDone(response_id=self.id, item_id=item.id, part=part))
        self._close_output(item)

    async def _speak_sentence(self, sentence: str, piece: str, item_id: str, first: bool) -> None:
        fmt = self.settings.output_format
        rate = wire_rate(fmt)
        samples = None
        draft = self.settings.draft
        if first and draft is not None:
            samples = await draft.audio_for(DraftKey(sentence, rate, self.settings.voice_speed))
            self.drafted = samples is not None
        if samples is None:
            loop = asyncio.get_running_loop()
            samples = await loop.run_in_executor(
                self.models.executor,
                self.models.synthesizer.speak,
                sentence,
                rate,
                self.settings.voice_speed,
            )
        self.emit(ev.AudioTranscriptDelta(response_id=self.id, item_id=item_id, delta=piece))
        step = rate * CHUNK_MS // 1000
        for start in range(0, len(samples), step):
            chunk = encode_wire(samples[start : start + step], fmt)
            self.emit(
                ev.AudioDelta(response_id=self.id, item_id=item_id, delta=encode_base64(chunk))
            )
        if self.first_audio_s is None and len(samples):
            self.first_audio_s = time.perf_counter()
            if self.settings.speech_stopped_at is not None:
                ttfa = (self.first_audio_s - self.settings.speech_stopped_at) * 1000
                how = "drafted" if self.drafted else "synthesized"
                log.info(
                    "response %s: first audio %.0f ms after speech_stopped (%s)", self.id, ttfa, how
                )
        ended = (self.spoken[-1][1] if self.spoken else 0) + len(samples) * 1000 // rate
        self.spoken.append((sentence, ended))

    def _finish(self, status: Literal["completed", "failed"], error: str | None = None) -> None:
        self.finished = True
        self.response.status = status
        if status == "failed":
            self.response.status_details = ev.StatusDetails(type="failed")
            if self.item is not None:
                self.item.status = "incomplete"
        self._usage()
        self.emit(ev.ResponseDone(response=self.response))
        if error is not None:
            detail = ev.ErrorDetail(type="server_error", code="response_failed", message=error)
            self.emit(ev.ErrorEvent(error=detail))

    def cancelled(self, reason: Literal["turn_detected", "client_cancelled"]) -> ev.ResponseDone:
        """The response.done of a response cancelled after its task stopped."""
        self.finished = True
        self.response.status = "cancelled"
        self.response.status_details = ev.StatusDetails(type="cancelled", reason=reason)
        if self.item is not None and self.item.status == "in_progress":
            self.item.status = "incomplete"
        self._usage()
        return ev.ResponseDone(response=self.response)

    def _usage(self) -> None:
        out = max(1, len(self.said) // 4) if self.said else 0
        self.response.usage = ev.Usage(total_tokens=out, input_tokens=0, output_tokens=out)
