"""Voice activity detection: webrtcvad frames feeding a pure turn state machine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from .audio import MODEL_RATE, Samples

FRAME_MS = 20
FRAME_SAMPLES = MODEL_RATE * FRAME_MS // 1000
ONSET_MS = 100  # voiced audio needed, uninterrupted, before speech counts as started
MIN_RMS = 150.0  # frames quieter than this (about -47 dBFS) are never speech
DRAFT_AFTER_MS = 200  # silence after which a reply is drafted while the turn may go on


def draft_after_ms(silence_duration_ms: int) -> int:
    """When to draft a reply inside a ``silence_duration_ms`` wait: 200 ms, at most half
    the wait (pure). 0 means no draft (the wait is too short to gain anything)."""
    draft = min(DRAFT_AFTER_MS, silence_duration_ms // 2)
    return draft if draft >= FRAME_MS else 0


def aggressiveness(threshold: float) -> int:
    """Map the protocol's 0..1 VAD ``threshold`` onto webrtcvad's modes 0..3 (pure)."""
    return max(0, min(3, int(threshold * 4)))


@dataclass(frozen=True)
class Started:
    audio_start_ms: int


@dataclass(frozen=True)
class Stopped:
    audio_end_ms: int


@dataclass(frozen=True)
class Quiet:
    """The caller has been silent for the draft time: the turn may end, or go on."""

    audio_end_ms: int


@dataclass(frozen=True)
class Continued:
    """The caller spoke again after a :class:`Quiet`: a reply drafted then is stale."""


VadEvent = Started | Stopped | Quiet | Continued


class TurnStateMachine:
    """Turns per-frame speech flags into speech start/stop events (pure logic, no audio).

    With ``draft_ms``, a turn that has been silent that long reports :class:`Quiet` (once),
    and :class:`Continued` if speech comes back before the turn ends.
    """

    def __init__(
        self, silence_duration_ms: int, onset_ms: int = ONSET_MS, draft_ms: int = 0
    ) -> None:
        self.silence_frames = max(1, silence_duration_ms // FRAME_MS)
        self.onset_frames = max(1, onset_ms // FRAME_MS)
        draft_frames = draft_ms // FRAME_MS
        self.draft_frames = draft_frames if 0 < draft_frames < self.silence_frames else 0
        self.speaking = False
        self._voiced_run = 0
        self._silent_run = 0
        self._last_voiced_end_ms = 0
        self._quiet = False
        self._turn_silence_frames = self.silence_frames

    def end_turn_after(self, silence_ms: int) -> None:
        """Let the current turn end after ``silence_ms`` of silence (a complete turn)."""
        if self.speaking:
            frames = max(1, silence_ms // FRAME_MS)
            self._turn_silence_frames = min(self._turn_silence_frames, frames)

    def step(self, voiced: bool, frame_end_ms: int) -> VadEvent | None:
        if voiced:
            self._voiced_run += 1
            self._silent_run = 0
            self._last_voiced_end_ms = frame_end_ms
        else:
            self._voiced_run = 0
            self._silent_run += 1
        if not self.speaking:
            if self._voiced_run >= self.onset_frames:
                self.speaking = True
                self._quiet = False
                self._turn_silence_frames = self.silence_frames
                return Started(frame_end_ms - self._voiced_run * FRAME_MS)
            return None
        if voiced:
            if self._quiet:
                self._quiet = False
                self._turn_silence_frames = self.silence_frames
                return Continued()
            return None
        if self._silent_run >= self._turn_silence_frames:
            self.speaking = False
            self._quiet = False
            return Stopped(self._last_voiced_end_ms)
        if self.draft_frames and not self._quiet and self._silent_run >= self.draft_frames:
            self._quiet = True
            return Quiet(self._last_voiced_end_ms)
        return None


class VoiceActivityDetector:
    """Frames 16 kHz audio, classifies each 20 ms frame with webrtcvad, reports turns."""

    def __init__(
        self, threshold: float, silence_duration_ms: int, start_ms: int = 0, draft_ms: int = 0
    ) -> None:
        self._start_ms = start_ms
        self._vad = webrtcvad.Vad(aggressiveness(threshold))
        self._turns = TurnStateMachine(silence_duration_ms, draft_ms=draft_ms)
        self._pending = np.zeros(0, dtype=np.int16)
        self._frames_seen = 0

    @property
    def speaking(self) -> bool:
        return self._turns.speaking

    def end_turn_after(self, silence_ms: int) -> None:
        self._turns.end_turn_after(silence_ms)

    def push(self, samples: Samples) -> list[VadEvent]:
        """Feed samples; event times count from ``start_ms`` (the stream time of the first)."""
        self._pending = np.concatenate([self._pending, samples])
        events: list[VadEvent] = []
        while self._pending.size >= FRAME_SAMPLES:
            frame = self._pending[:FRAME_SAMPLES]
            self._pending = self._pending[FRAME_SAMPLES:]
            self._frames_seen += 1
            loud = float(np.sqrt(np.mean(frame.astype(np.float32) ** 2))) >= MIN_RMS
            voiced = loud and self._vad.is_speech(frame.tobytes(), MODEL_RATE)
            event = self._turns.step(voiced, self._start_ms + self._frames_seen * FRAME_MS)
            if event is not None:
                events.append(event)
        return events
