"""Voice-to-voice latency per turn, and where it went.

A turn runs from the end of the caller's speech (the model's ``speech_stopped``
position, mapped back to when that audio arrived at this node) to the first reply
packet sent back to the caller. Its parts: the bridge's ingress for the last speech
frame, the model's time to first audio (from that frame being handed over to the
first reply delta), and the bridge's egress for the first reply frame. The model's
time is split by what the bridge sees of it: the wait for silence (until
``speech_stopped`` arrives), the answer decided (``response.output_item.added``:
transcription and reply text done), and the first audio (synthesis of the first
sentence).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .latency import LatencyWindow

FRAME_MS = 20


@dataclass(slots=True)
class Turn:
    item_id: str
    voice_to_voice_ms: float
    model_first_audio_ms: float
    ingress_ms: float
    egress_ms: float
    silence_wait_ms: float | None = None  # last speech frame handed → speech_stopped here
    answer_decided_ms: float | None = None  # speech_stopped → output item added
    first_audio_ms: float | None = None  # output item added (or speech_stopped) → first delta


@dataclass(slots=True)
class _Pending:
    item_id: str
    speech_end: float  # arrival of the last speech frame (perf_counter)
    handed: float  # when that frame reached the model
    stopped: float  # when speech_stopped reached the bridge
    decided: float | None = None
    first_audio: float | None = None


class TurnClock:
    def __init__(self, keep: int = 20) -> None:
        # (end of frame in the model's input timeline ms, arrival, handed to model)
        self._frames: deque[tuple[int, float, float]] = deque(maxlen=1500)
        self._input_ms = 0
        self._pending: _Pending | None = None
        self.turns: deque[Turn] = deque(maxlen=keep)
        self.voice_to_voice = LatencyWindow(256)

    def frame_sent(self, arrival: float, handed: float) -> None:
        """One 20 ms caller frame went to the model."""
        self._input_ms += FRAME_MS
        self._frames.append((self._input_ms, arrival, handed))

    def speech_stopped(self, item_id: str, audio_end_ms: int, now: float) -> None:
        for end_ms, arrival, handed in self._frames:
            if end_ms >= audio_end_ms:
                self._pending = _Pending(item_id, arrival, handed, now)
                return
        if self._frames:  # the position is past what we sent: use the newest frame
            _, arrival, handed = self._frames[-1]
            self._pending = _Pending(item_id, arrival, handed, now)

    def answer_decided(self, now: float) -> None:
        if self._pending is not None and self._pending.decided is None:
            self._pending.decided = now

    def speech_started(self) -> None:
        self._pending = None

    def reply_audio(self, arrived: float) -> None:
        """A reply delta reached the bridge; only the first after speech counts."""
        if self._pending is not None and self._pending.first_audio is None:
            self._pending.first_audio = arrived

    def reply_sent(self, sent: float, frame_origin: float) -> Turn | None:
        """A reply frame left for the caller; completes the pending turn if any."""
        pending = self._pending
        if pending is None or pending.first_audio is None:
            return None
        self._pending = None
        turn = Turn(
            item_id=pending.item_id,
            voice_to_voice_ms=round((sent - pending.speech_end) * 1000, 1),
            model_first_audio_ms=round((pending.first_audio - pending.handed) * 1000, 1),
            ingress_ms=round((pending.handed - pending.speech_end) * 1000, 2),
            egress_ms=round((sent - frame_origin) * 1000, 2),
            silence_wait_ms=round((pending.stopped - pending.handed) * 1000, 1),
            answer_decided_ms=None
            if pending.decided is None
            else round((pending.decided - pending.stopped) * 1000, 1),
            first_audio_ms=round(
                (pending.first_audio - (pending.decided or pending.stopped)) * 1000, 1
            ),
        )
        self.turns.append(turn)
        self.voice_to_voice.record(turn.voice_to_voice_ms / 1000)
        return turn

    def summary(self) -> dict[str, Any]:
        return {
            "count": len(self.turns),
            "voice_to_voice_ms": self.voice_to_voice.summary_ms(),
            "last_turn": asdict(self.turns[-1]) if self.turns else None,
            "recent": [asdict(t) for t in self.turns],
        }
