"""Barge-in at the edge: pause the reply on the caller's first words, before the model.

The model's own turn detection needs ~100 ms of speech plus a round trip before its
``speech_started`` reaches the bridge, and meanwhile the reply plays on. So the
bridge watches the caller's decoded frames itself: after ``onset_frames`` voiced
frames in a row while a reply plays, it *pauses* the reply (the queue is kept). When
the model confirms (``speech_started``), the reply is truncated at the paused
position as before; if it does not confirm within ``confirm_window_s`` (a cough, a
"mm-hm"), the reply *resumes* where it paused. After a resume the detector re-arms
only once the caller has been quiet for a frame, so a long unconfirmed noise does not
pause the reply over and over.

The decisions are pure (:class:`EdgeBargeIn` takes flags and times, returns an
:class:`Action`); the bridge applies them to its playout.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..statemachine import StateMachine


@dataclass(frozen=True, slots=True)
class BargeInSettings:
    enabled: bool = True
    onset_frames: int = 2  # voiced 20 ms frames in a row that pause the reply
    confirm_window_s: float = 1.0  # how long a pause waits for the model's speech_started
    aggressiveness: int = 2  # webrtcvad mode 0..3


class EdgeState(enum.Enum):
    LISTENING = "listening"  # counting voiced frames
    PAUSED = "paused"  # reply paused, waiting for the model to confirm
    REARMING = "rearming"  # resumed without confirmation: wait for a quiet frame


_EDGES = {
    EdgeState.LISTENING: frozenset({EdgeState.PAUSED}),
    EdgeState.PAUSED: frozenset({EdgeState.LISTENING, EdgeState.REARMING}),
    EdgeState.REARMING: frozenset({EdgeState.LISTENING}),
}


class Action(enum.Enum):
    NONE = "none"
    PAUSE = "pause"
    RESUME = "resume"


class EdgeBargeIn:
    def __init__(self, settings: BargeInSettings) -> None:
        self.settings = settings
        self.machine = StateMachine(EdgeState.LISTENING, _EDGES)
        self.voiced_run = 0
        self.paused_at: float | None = None
        self.pauses = 0
        self.resumes = 0

    @property
    def state(self) -> EdgeState:
        return self.machine.state

    def on_frame(self, voiced: bool, reply_playing: bool, now: float) -> Action:
        """One caller frame: PAUSE when speech starts over a playing reply."""
        state = self.machine.state
        if state is EdgeState.PAUSED:
            return self.on_timer(now)
        if state is EdgeState.REARMING:
            if not voiced:
                self.machine.to(EdgeState.LISTENING)
                self.voiced_run = 0
            return Action.NONE
        self.voiced_run = self.voiced_run + 1 if voiced else 0
        if reply_playing and self.voiced_run >= self.settings.onset_frames:
            self.machine.to(EdgeState.PAUSED)
            self.paused_at = now
            self.pauses += 1
            return Action.PAUSE
        return Action.NONE

    def on_timer(self, now: float) -> Action:
        """RESUME once a pause has waited ``confirm_window_s`` for the model."""
        if self.machine.state is not EdgeState.PAUSED or self.paused_at is None:
            return Action.NONE
        if now - self.paused_at < self.settings.confirm_window_s:
            return Action.NONE
        self.machine.to(EdgeState.REARMING)
        self.paused_at = None
        self.resumes += 1
        return Action.RESUME

    def on_confirmed(self) -> None:
        """The model said speech started: the pause (if any) became a truncation."""
        if self.machine.state is EdgeState.PAUSED:
            self.machine.to(EdgeState.LISTENING)
        self.paused_at = None
        self.voiced_run = 0
