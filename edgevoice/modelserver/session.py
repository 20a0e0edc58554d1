"""One Realtime connection's state machine: client events in, server events out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from ..logs import transcripts_logged
from . import client_events as ce
from . import events as ev
from .audio import MODEL_RATE, Samples, StreamResampler, decode_base64, decode_wire, wire_rate
from .brain import UserSaid, decide
from .config import SemanticVad, SessionConfig, apply_update
from .conversation import Conversation, Entry, truncated_transcript
from .draft import COMPLETE_TURN_SILENCE_MS, Draft, DraftKey, complete_turn, first_sentence
from .errors import InternalServerError, InvalidStateError, RealtimeError
from .input_buffer import InputBuffer
from .items import ContentPart, MessageItem, new_id
from .models import Models
from .stt import Utterance
from .turn import ResponseSettings, ResponseTurn
from .vad import ONSET_MS, Continued, Quiet, Started, VoiceActivityDetector, draft_after_ms

log = logging.getLogger(__name__)
MIN_COMMIT_MS = 100
Emit = Callable[[ev.ServerEvent], None]


class RealtimeSession:
    def __init__(self, models: Models, emit: Emit, config: SessionConfig | None = None) -> None:
        self.models = models
        self.emit = emit
        self.config = config or SessionConfig()
        self.conversation = Conversation()
        self.buffer = InputBuffer()
        self.resampler = StreamResampler(decode_wire(b"", self.config.audio.input.format.type)[1])
        self.vad: VoiceActivityDetector | None = None
        self.speech_item_id: str | None = None
        self.utterance: Utterance | None = None
        self.draft: Draft | None = None  # a reply prepared while the silence runs
        self.active: ResponseTurn | None = None
        self.active_task: asyncio.Task[None] | None = None
        self.background: set[asyncio.Task[None]] = set()
        self.speech_stopped_at: float | None = None
        self._reset_vad()

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self.emit(ev.SessionCreated(session=self.config.wire()))

    async def close(self) -> None:
        self._drop_draft()
        if self.active_task is not None:
            self.active_task.cancel()
        if self.utterance is not None:
            self.utterance.abort()
        for task in list(self.background):
            task.cancel()

    async def handle(self, raw: str | bytes) -> None:
        """Handle one client message; every failure becomes an ``error`` event."""
        try:
            await self._dispatch(ce.parse_client_event(raw))
        except RealtimeError as exc:
            self._error(exc, ce.event_id_of(raw))
        except Exception as exc:
            log.exception("internal error while handling a client event")
            self._error(InternalServerError(f"internal error: {exc}"), ce.event_id_of(raw))

    def _error(self, exc: RealtimeError, event_id: str | None) -> None:
        detail = ev.ErrorDetail(
            type=exc.error_type,
            code=exc.code,
            message=exc.message,
            param=exc.param,
            event_id=event_id,
        )
        self.emit(ev.ErrorEvent(error=detail))

    async def _dispatch(self, event: ce.ClientEvent) -> None:
        match event:
            case ce.SessionUpdate():
                self._session_update(event)
            case ce.BufferAppend():
                await self._append(event)
            case ce.BufferCommit():
                self._commit(manual=True)
            case ce.BufferClear():
                self._clear_input()
                self.emit(ev.BufferCleared())
            case ce.ItemCreate():
                self._item_create(event)
            case ce.ItemTruncate():
                self._item_truncate(event)
            case ce.ItemDelete():
                self.conversation.delete(event.item_id)
                self.emit(ev.ItemDeleted(item_id=event.item_id))
            case ce.ResponseCreate():
                self._response_create(event.response)
            case ce.ResponseCancel():
                await self._response_cancel(event.response_id)

    # ---- session ---------------------------------------------------------------------
    def _session_update(self, event: ce.SessionUpdate) -> None:
        old = self.config
        self.config = apply_update(old, event.session)
        if self.config.audio.input.format != old.audio.input.format:
            rate = decode_wire(b"", self.config.audio.input.format.type)[1]
            self.resampler = StreamResampler(rate)
        if self.config.audio.input.turn_detection != old.audio.input.turn_detection:
            self._clear_input()
        self.emit(ev.SessionUpdated(session=self.config.wire()))

    def _reset_vad(self) -> None:
        self._drop_draft()
        vad = self.config.server_vad
        self.vad = (
            None
            if vad is None
            else VoiceActivityDetector(
                vad.threshold,
                vad.silence_duration_ms,
                self.buffer.end_ms,
                draft_ms=draft_after_ms(vad.silence_duration_ms) if vad.create_response else 0,
            )
        )
        self.speech_item_id = None

    def _clear_input(self) -> None:
        if self.utterance is not None:
            self.utterance.abort()
            self.utterance = None
        self.buffer.clear()
        self._reset_vad()

    # ---- input audio -----------------------------------------------------------------
    async def _append(self, event: ce.BufferAppend) -> None:
        raw, _ = decode_wire(decode_base64(event.audio), self.config.audio.input.format.type)
        samples = self.resampler.push(raw)
        self.buffer.append(samples)
        if self.utterance is not None:
            self.utterance.feed(samples)
        vad = self.config.server_vad
        if self.vad is None or vad is None:
            return
        for change in self.vad.push(samples):
            if isinstance(change, Started):
                await self._speech_started(change.audio_start_ms, vad.prefix_padding_ms)
            elif isinstance(change, Quiet):
                self._start_draft()
            elif isinstance(change, Continued):
                self._continued()
            else:
                self.speech_stopped_at = time.perf_counter()
                item_id = self.speech_item_id or new_id("item")
                self.emit(ev.SpeechStopped(audio_end_ms=change.audio_end_ms, item_id=item_id))
                self._commit(manual=False, item_id=item_id)
        if not self.vad.speaking:
            self.buffer.keep_last(vad.prefix_padding_ms + ONSET_MS + 100)

    async def _speech_started(self, start_ms: int, prefix_ms: int) -> None:
        self._drop_draft()
        self.speech_item_id = new_id("item")
        self.emit(ev.SpeechStarted(audio_start_ms=start_ms, item_id=self.speech_item_id))
        vad = self.config.server_vad
        if self.active is not None and vad is not None and vad.interrupt_response:
            await self._cancel_active("turn_detected")
        self.buffer.drop_before(start_ms - prefix_ms)
        self.utterance = Utterance(self.models.decoders, self.models.executor)
        self.utterance.feed(self.buffer.samples())

    def _commit(self, *, manual: bool, item_id: str | None = None) -> None:
        if manual and self.buffer.duration_ms < MIN_COMMIT_MS and self.utterance is None:
            raise InvalidStateError(
                f"buffer too small: {self.buffer.duration_ms} ms of audio, at least "
                f"{MIN_COMMIT_MS} ms are needed",
                code="input_audio_buffer_commit_empty",
            )
        samples = self.buffer.take()
        utterance = self.utterance
        draft, self.draft = self.draft, None
        if manual and draft is not None:
            # the draft's transcript stopped at the silence: recognise the whole buffer
            draft.cancel()
            draft = None
            utterance = None
        if utterance is None:
            utterance = Utterance(self.models.decoders, self.models.executor)
            utterance.feed(samples)
        self.utterance = None
        if manual:
            self._reset_vad()
        item = MessageItem(
            id=item_id or new_id("item"),
            role="user",
            content=[ContentPart(type="input_audio", transcript=None)],
        )
        transcript = asyncio.create_task(self._transcribe(item, utterance))
        previous = self.conversation.add(Entry(item, transcript=transcript))
        self.emit(ev.BufferCommitted(item_id=item.id, previous_item_id=previous))
        self.emit(ev.ItemAdded(item=item, previous_item_id=previous))
        vad = self.config.server_vad
        if not manual and vad is not None and vad.create_response:
            self._auto_respond(draft)
        elif draft is not None:
            draft.cancel()

    async def _transcribe(self, item: MessageItem, utterance: Utterance) -> str:
        try:
            text = await utterance.finish()
        except Exception as exc:
            log.exception("transcription of %s failed", item.id)
            text = ""
            if self.config.audio.input.transcription is not None:
                detail = ev.ErrorDetail(type="server_error", code="stt_failed", message=str(exc))
                self.emit(ev.TranscriptionFailed(item_id=item.id, error=detail))
        else:
            shown = repr(text) if transcripts_logged() else f"{len(text)} chars"
            log.info("stt %s: %s (final pass %.0f ms)", item.id, shown, utterance.finish_s * 1000)
            if self.config.audio.input.transcription is not None:
                if text:
                    self.emit(ev.TranscriptionDelta(item_id=item.id, delta=text))
                usage = ev.DurationUsage(seconds=round(utterance.seconds, 3))
                self.emit(ev.TranscriptionCompleted(item_id=item.id, transcript=text, usage=usage))
            item.content = [ContentPart(type="input_audio", transcript=text)]
        self.emit(ev.ItemDone(item=item))
        return text

    # ---- drafts: the reply prepared while the caller's silence runs (draft.py) ---------
    def _start_draft(self) -> None:
        if self.utterance is None or self.active is not None:
            return
        self._drop_draft()
        draft = Draft()
        draft.start(self._prepare(draft, self.utterance, self.config))
        self.draft = draft

    def _drop_draft(self) -> None:
        if self.draft is not None:
            self.draft.cancel()
            self.draft = None

    def _continued(self) -> None:
        """The caller spoke again after the draft began: drop it, recognise afresh."""
        if self.draft is None:
            return
        self._drop_draft()
        if self.utterance is not None and self.utterance.ended:
            self.utterance = Utterance(self.models.decoders, self.models.executor)
            self.utterance.feed(self.buffer.samples())

    async def _prepare(
        self, draft: Draft, utterance: Utterance, config: SessionConfig
    ) -> Samples | None:
        try:
            text = await utterance.finish()
            draft.transcript = text
            detection = config.audio.input.turn_detection
            if isinstance(detection, SemanticVad) and complete_turn(text):
                if self.draft is draft and self.vad is not None:
                    self.vad.end_turn_after(COMPLETE_TURN_SILENCE_MS[detection.eagerness])
            history = [*await self.conversation.history(), UserSaid(text)]
            decision = decide(history, config.tool_names, datetime.now())
            sentence = first_sentence(decision, config.output_modalities)
            if sentence is None:
                return None
            rate, speed = wire_rate(config.audio.output.format.type), config.audio.output.speed
            draft.key = DraftKey(sentence, rate, speed)
        finally:
            draft.decided.set()
        loop = asyncio.get_running_loop()
        synthesizer = self.models.synthesizer
        return await loop.run_in_executor(
            self.models.executor, synthesizer.speak, sentence, rate, speed
        )

    # ---- conversation ----------------------------------------------------------------
    def _item_create(self, event: ce.ItemCreate) -> None:
        item = event.item
        item.status = "completed"
        previous = self.conversation.add(Entry(item), event.previous_item_id)
        self.emit(ev.ItemAdded(item=item, previous_item_id=previous))
        self.emit(ev.ItemDone(item=item, previous_item_id=previous))

    def _item_truncate(self, event: ce.ItemTruncate) -> None:
        entry = self.conversation.get(event.item_id)
        item = entry.item
        if not (isinstance(item, MessageItem) and item.role == "assistant"):
            raise InvalidStateError(
                "only assistant messages can be truncated", code="invalid_value", param="item_id"
            )
        if event.content_index >= len(item.content) or item.content[0].type != "output_audio":
            raise InvalidStateError(
                f"item has no audio content at index {event.content_index}",
                code="invalid_value",
                param="content_index",
            )
        if event.audio_end_ms > entry.audio_ms:
            raise InvalidStateError(
                f"audio_end_ms {event.audio_end_ms} is past the item's audio ({entry.audio_ms} ms)",
                code="invalid_audio_end_ms",
                param="audio_end_ms",
            )
        heard = truncated_transcript(entry.spoken, event.audio_end_ms)
        item.content[event.content_index] = ContentPart(type="output_audio", transcript=heard)
        self.emit(
            ev.ItemTruncated(
                item_id=item.id,
                content_index=event.content_index,
                audio_end_ms=event.audio_end_ms,
            )
        )

    # ---- responses -------------------------------------------------------------------
    def _auto_respond(self, draft: Draft | None = None) -> None:
        if self.active is None:
            self._start_response(ce.ResponseOptions(), self.speech_stopped_at, draft)
            return
        if draft is not None:
            draft.cancel()
        # interrupt_response is off and a reply is still running: answer after it.
        waiting = self.active_task

        async def later() -> None:
            if waiting is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(waiting)
            if self.active is None:
                self._start_response(ce.ResponseOptions(), None)

        task = asyncio.create_task(later())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def _response_create(self, options: ce.ResponseOptions) -> None:
        if self.active is not None:
            raise InvalidStateError(
                f"conversation already has an active response {self.active.id}",
                code="conversation_already_has_active_response",
            )
        self._start_response(options, None)

    def _start_response(
        self, options: ce.ResponseOptions, stopped_at: float | None, draft: Draft | None = None
    ) -> None:
        config = self.config
        tools = config.tool_names
        if options.tools is not None:
            tools = frozenset(str(tool.get("name")) for tool in options.tools)
        if options.tool_choice == "none":
            tools = frozenset()
        settings = ResponseSettings(
            modalities=options.output_modalities or config.output_modalities,
            tools=tools,
            voice_speed=config.audio.output.speed,
            output_format=config.audio.output.format.type,
            in_conversation=options.conversation != "none",
            speech_stopped_at=stopped_at,
            draft=draft,
        )
        response = ev.Response(
            conversation_id=None if options.conversation == "none" else "conv_local",
            output_modalities=settings.modalities,
            metadata=options.metadata,
        )
        turn = ResponseTurn(response, settings, self.models, self.conversation, self.emit)
        self.emit(ev.ResponseCreated(response=response.model_copy(deep=True)))
        self.active = turn
        self.active_task = asyncio.create_task(turn.run())
        self.active_task.add_done_callback(lambda _: self._response_ended(turn))

    def _response_ended(self, turn: ResponseTurn) -> None:
        if self.active is turn:
            self.active = None
            self.active_task = None

    async def _response_cancel(self, response_id: str | None) -> None:
        active = self.active
        if active is None or active.finished or (response_id and response_id != active.id):
            raise InvalidStateError(
                "there is no active response to cancel"
                if response_id is None
                else f"response {response_id} is not active",
                code="response_cancel_not_active",
                param="response_id" if response_id else None,
            )
        await self._cancel_active("client_cancelled")

    async def _cancel_active(self, reason: Literal["turn_detected", "client_cancelled"]) -> None:
        turn, task = self.active, self.active_task
        if turn is None or task is None or turn.finished:
            return
        self.active = None
        self.active_task = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if not turn.finished:
            self.emit(turn.cancelled(reason))


__all__ = ["MODEL_RATE", "RealtimeSession"]
