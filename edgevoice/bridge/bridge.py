"""One session's bridge: caller frames → PCM → model; model audio → paced Opus reply.

The bridge is a FrameSink on the caller's publication and feeds the reply
publication; it knows the SFU only through ``sfu.frames``. Each caller frame is
decoded once, each reply frame encoded once, whoever listens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ..sfu.frames import FRAME_SAMPLES_48K, EncodedFrame, FramePublisher
from . import events as ev
from .errors import CodecError
from .latency import LatencyWindow
from .model import RealtimeModel
from .opus import OpusDecoder, OpusEncoder
from .playout import Playout, truncate_position_ms
from .turns import TurnClock

log = logging.getLogger(__name__)

MAX_CONCEALED_FRAMES = 5
Emit = Callable[[dict[str, Any]], None]


class Bridge:
    def __init__(
        self,
        model: RealtimeModel,
        reply: FramePublisher,
        *,
        emit: Emit,
        encoder: OpusEncoder | None = None,
    ) -> None:
        self.model = model
        self.decoder = OpusDecoder()
        self.encoder = encoder or OpusEncoder()
        # A model whose audio already arrives in real time (echo) needs no pacing.
        paced = not getattr(model, "realtime_output", False)
        self.playout = Playout(self.encoder, reply, paced=paced)
        self.ingress = LatencyWindow()
        self.egress = LatencyWindow()
        self.turns = TurnClock()
        self.reconnect_seconds: list[float] = []
        self.barge_ins = 0
        self._barge_at: float | None = None
        self.barge_in_stop = LatencyWindow(64)  # speech_started → last old reply frame sent
        self.concealed = 0
        self.decode_errors = 0
        self.transcript: list[dict[str, Any]] = []
        self._emit = emit
        self._last_pts: int | None = None
        self._cancelled: set[str] = set()
        self._response_of: dict[str, str] = {}  # item id → response id, for barge-in
        self._task: asyncio.Task[None] | None = None

    # caller side (FrameSink) -----------------------------------------------
    def on_frame(self, frame: EncodedFrame) -> None:
        last = self._last_pts
        self._last_pts = frame.pts
        if last is not None:
            missing = (frame.pts - last) // FRAME_SAMPLES_48K - 1
            for _ in range(min(missing, MAX_CONCEALED_FRAMES)):
                self.model.send_audio(self.decoder.decode(None))
                self.turns.frame_sent(frame.origin, time.perf_counter())
                self.concealed += 1
        try:
            pcm = self.decoder.decode(frame.data)
        except CodecError:
            self.decode_errors += 1
            pcm = self.decoder.decode(None)
        self.model.send_audio(pcm)
        handed = time.perf_counter()
        self.ingress.record(handed - frame.origin)
        self.turns.frame_sent(frame.origin, handed)

    def on_end(self) -> None:
        return None

    def on_reply_sent(self, frame: EncodedFrame) -> None:
        """Called when a reply frame leaves for the caller (the egress hop ends)."""
        now = time.perf_counter()
        self.egress.record(now - frame.origin)
        if self._barge_at is not None and frame.origin < self._barge_at:
            # a frame of the interrupted reply still left after the barge-in
            self.barge_in_stop.record(now - self._barge_at)
        turn = self.turns.reply_sent(now, frame.origin)
        if turn is not None:
            self._emit({"type": "turn", **asdict(turn)})

    # model side --------------------------------------------------------------
    async def start(self) -> None:
        await self.model.start()
        self._task = asyncio.create_task(self._pump(), name="bridge-events")

    async def _pump(self) -> None:
        async for event in self.model.events():
            try:
                await self.handle(event)
            except Exception:
                log.exception("bridge failed to handle %s", event.type)

    async def handle(self, event: ev.ModelEvent) -> None:
        match event:
            case ev.AudioDelta():
                if event.response_id not in self._cancelled:
                    arrived = time.perf_counter()
                    self._response_of[event.item_id] = event.response_id
                    self.turns.reply_audio(arrived)
                    self.playout.push(event.pcm, event.item_id, arrived)
            case ev.AudioDone():
                if event.response_id not in self._cancelled:
                    self.playout.flush()
            case ev.SpeechStarted():
                self.turns.speech_started()
                await self._barge_in()
                self._emit({"type": "speech_started", "item_id": event.item_id})
            case ev.SpeechStopped():
                self.turns.speech_stopped(event.item_id, event.audio_end_ms)
                self._emit({"type": "speech_stopped", "item_id": event.item_id})
            case ev.InputTranscript():
                self._transcript("user", event.item_id, event.transcript)
            case ev.TranscriptDelta():
                self._emit(
                    {"type": "transcript.delta", "role": "assistant", "item_id": event.item_id,
                     "delta": event.delta}
                )  # fmt: skip
            case ev.TranscriptDone():
                self._transcript("assistant", event.item_id, event.transcript)
            case ev.ResponseCreated():
                self._emit({"type": "response.created", "response_id": event.response_id})
            case ev.ResponseDone():
                self._emit(
                    {"type": "response.done", "response_id": event.response_id,
                     "status": event.status}
                )  # fmt: skip
            case ev.ModelError():
                self._emit({"type": "error", "message": event.message, "code": event.code})
            case ev.ConnectionChanged():
                if event.reconnect_seconds is not None:
                    self.reconnect_seconds.append(event.reconnect_seconds)
                self._emit(
                    {"type": "model.connection", "connected": event.connected,
                     "detail": event.detail, "reconnect_seconds": event.reconnect_seconds}
                )  # fmt: skip
            case ev.FunctionCall():
                self._emit({"type": "tool.call", "name": event.name, "call_id": event.call_id})

    async def _barge_in(self) -> None:
        interrupted = self.playout.interrupt()
        if interrupted is None:
            return
        self.barge_ins += 1
        self._barge_at = time.perf_counter()
        position = truncate_position_ms(interrupted.played_ms, interrupted.received_ms)
        self._emit(
            {"type": "barge_in", "item_id": interrupted.item_id, "played_ms": position,
             "dropped_frames": interrupted.dropped_frames}
        )  # fmt: skip
        response_id = self._response_of.pop(interrupted.item_id, None)
        if response_id is not None:
            self._cancelled.add(response_id)
        await self.model.interrupt(interrupted.item_id, position, response_id)

    def _transcript(self, role: str, item_id: str, text: str) -> None:
        entry = {"role": role, "item_id": item_id, "text": text, "at": time.time()}
        self.transcript.append(entry)
        self._emit({"type": "transcript", **entry})

    # life ----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        turns = self.turns.summary()
        return {
            "frames_decoded": self.decoder.frames,
            "frames_encoded": self.encoder.frames,
            "frames_concealed": self.concealed,
            "decode_errors": self.decode_errors,
            "latency_ms": {
                "ingress": self.ingress.summary_ms(),
                "egress": self.egress.summary_ms(),
            },
            "barge_in": {
                "count": self.barge_ins,
                "late_frames_after_stop": self.barge_in_stop.count,
                "last_frame_after_ms": self.barge_in_stop.summary_ms()["max"] or 0.0,
            },
            "turns": turns,
            "last_turn": turns["last_turn"],
            "model_reconnects": {
                "count": len(self.reconnect_seconds),
                "seconds": [round(s, 3) for s in self.reconnect_seconds[-10:]],
            },
        }

    async def close(self) -> None:
        self.playout.close()
        await self.model.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
