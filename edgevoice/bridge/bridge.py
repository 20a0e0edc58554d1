"""One session's bridge: caller frames → PCM → model; model audio → paced Opus reply.

The bridge is a FrameSink on the caller's publication and feeds the reply
publication; it knows the SFU only through ``sfu.frames``. Each caller frame is
decoded once, each reply frame encoded once, whoever listens. While a reply plays,
the decoded caller frames also go through a voice-activity detector: speech pauses
the reply at once (``bargein.py``), the model's ``speech_started`` turns the pause
into a truncation. An assistant transcript goes out once its audio has played, or,
when interrupted, cut to what the caller heard (``heard.py``).
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
from .bargein import Action, BargeInSettings, EdgeBargeIn, EdgeState
from .errors import CodecError
from .heard import SpokenText, heard_text
from .latency import LatencyWindow
from .mix import ConversationMix
from .model import RealtimeModel
from .opus import OpusDecoder, OpusEncoder
from .playout import Playout, truncate_position_ms
from .turns import TurnClock
from .vad import SpeechDetector

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
        barge_in: BargeInSettings | None = None,
    ) -> None:
        self.model = model
        self.decoder = OpusDecoder()
        self.encoder = encoder or OpusEncoder()
        # A model whose audio already arrives in real time (echo) needs no pacing.
        paced = not getattr(model, "realtime_output", False)
        self.mix = ConversationMix()  # for WHEP listeners of the conversation; idle until one
        self.playout = Playout(
            self.mix.tap(self.encoder), reply, paced=paced, on_item_played=self._played
        )
        self.ingress = LatencyWindow()
        self.egress = LatencyWindow()
        self.turns = TurnClock()
        self.reconnect_seconds: list[float] = []
        self.barge_ins = 0
        # Barge-in at the edge needs a model that detects turns (it confirms or not);
        # the echo model's "reply" is the caller's own voice.
        settings = barge_in or BargeInSettings()
        self._edge: EdgeBargeIn | None = None
        self._detector: SpeechDetector | None = None
        self._resume_timer: asyncio.TimerHandle | None = None
        if settings.enabled and paced and _detects_turns(model):
            self._edge = EdgeBargeIn(settings)
            self._detector = SpeechDetector(settings.aggressiveness)
        self._spoken: dict[str, SpokenText] = {}  # assistant items not yet reported
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
        self.mix.caller(pcm, frame.origin)
        edge = self._edge
        if edge is not None and (edge.state is not EdgeState.LISTENING or self.playout.playing):
            self._edge_frame(edge, pcm)

    def _edge_frame(self, edge: EdgeBargeIn, pcm: bytes) -> None:
        assert self._detector is not None
        voiced = self._detector.is_speech(pcm)
        loop = asyncio.get_running_loop()
        action = edge.on_frame(voiced, self.playout.playing, loop.time())
        if action is Action.PAUSE and self.playout.pause():
            self._emit({"type": "reply.paused", "item_id": self.playout.current_item})
            window = edge.settings.confirm_window_s
            self._resume_timer = loop.call_later(window, self._edge_timeout)
        elif action is Action.RESUME:
            self._resume()

    def _edge_timeout(self) -> None:
        self._resume_timer = None
        if self._edge is not None and self._edge.on_timer(asyncio.get_running_loop().time()) is (
            Action.RESUME
        ):
            self._resume()

    def _resume(self) -> None:
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        if self.playout.paused:
            self.playout.resume()
            self._emit({"type": "reply.resumed", "item_id": self.playout.current_item})

    def on_end(self) -> None:
        return None

    def on_reply_sent(self, frame: EncodedFrame) -> None:
        """Called when a reply frame leaves for the caller (the egress hop ends)."""
        now = time.perf_counter()
        self.egress.record(now - frame.origin)
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
                    self.playout.flush(event.item_id)
            case ev.SpeechStarted():
                self.turns.speech_started()
                if self._edge is not None:
                    self._edge.on_confirmed()
                    if self._resume_timer is not None:
                        self._resume_timer.cancel()
                        self._resume_timer = None
                await self._barge_in()
                self._emit({"type": "speech_started", "item_id": event.item_id})
            case ev.SpeechStopped():
                self.turns.speech_stopped(event.item_id, event.audio_end_ms, time.perf_counter())
                self._emit({"type": "speech_stopped", "item_id": event.item_id})
            case ev.InputTranscript():
                self._transcript("user", event.item_id, event.transcript)
            case ev.TranscriptDelta():
                if event.response_id in self._cancelled:
                    return
                spoken = self._spoken.setdefault(event.item_id, SpokenText())
                spoken.add(event.delta, self.playout.received_ms.get(event.item_id, 0))
                self._emit(
                    {"type": "transcript.delta", "role": "assistant", "item_id": event.item_id,
                     "delta": event.delta}
                )  # fmt: skip
            case ev.TranscriptDone():
                if event.response_id in self._cancelled:
                    return
                spoken = self._spoken.setdefault(event.item_id, SpokenText())
                spoken.final = event.transcript
                if self.playout.current_item != event.item_id and not self.playout.queued_frames:
                    self._played(event.item_id)  # nothing of it left to play
            case ev.OutputItemAdded():
                self.turns.answer_decided(time.perf_counter())
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

    def _played(self, item_id: str) -> None:
        """An assistant item's audio has played out: its whole transcript was heard."""
        spoken = self._spoken.get(item_id)
        if spoken is not None and spoken.final is not None:
            del self._spoken[item_id]
            self._transcript("assistant", item_id, spoken.final)

    async def _barge_in(self) -> None:
        interrupted = self.playout.interrupt()
        if interrupted is None:
            return
        self.barge_ins += 1
        position = truncate_position_ms(interrupted.played_ms, interrupted.received_ms)
        spoken = self._spoken.pop(interrupted.item_id, None)
        if spoken is not None:
            heard = heard_text(spoken.pieces, interrupted.received_ms, position)
            self._transcript("assistant", interrupted.item_id, heard, interrupted=True)
        self._emit(
            {"type": "barge_in", "item_id": interrupted.item_id, "played_ms": position,
             "dropped_frames": interrupted.dropped_frames}
        )  # fmt: skip
        response_id = self._response_of.pop(interrupted.item_id, None)
        if response_id is not None:
            self._cancelled.add(response_id)
        await self.model.interrupt(interrupted.item_id, position, response_id)

    def _transcript(self, role: str, item_id: str, text: str, *, interrupted: bool = False) -> None:
        entry: dict[str, Any] = {"role": role, "item_id": item_id, "text": text, "at": time.time()}
        if interrupted:
            entry["interrupted"] = True
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
                "edge_pauses": self._edge.pauses if self._edge else 0,
                "edge_resumes": self._edge.resumes if self._edge else 0,
                "edge_detector": None
                if self._detector is None
                else ("webrtcvad" if self._detector.uses_webrtcvad else "energy"),
            },
            "turns": turns,
            "last_turn": turns["last_turn"],
            "model_reconnects": {
                "count": len(self.reconnect_seconds),
                "seconds": [round(s, 3) for s in self.reconnect_seconds[-10:]],
            },
        }

    async def close(self) -> None:
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        self.playout.close()
        await self.model.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


def _detects_turns(model: RealtimeModel) -> bool:
    """Whether the model will say when the caller starts speaking (server turn detection)."""
    settings = getattr(model, "settings", None)
    return settings is None or getattr(settings, "turn_detection", None) is not None
