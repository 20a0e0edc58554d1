"""Barge-in at the edge: the pure decisions, the detector on real speech, the heard text."""

from __future__ import annotations

import numpy as np
import pytest

from edgevoice.bench.audio import speech_pcm
from edgevoice.bridge.bargein import Action, BargeInSettings, EdgeBargeIn, EdgeState
from edgevoice.bridge.heard import heard_text
from edgevoice.bridge.opus import FRAME_SAMPLES
from edgevoice.bridge.vad import SpeechDetector, to_8k
from edgevoice.statemachine import IllegalTransition

SETTINGS = BargeInSettings(onset_frames=2, confirm_window_s=0.5)


def test_two_voiced_frames_over_a_playing_reply_pause_it() -> None:
    edge = EdgeBargeIn(SETTINGS)
    assert edge.on_frame(True, True, 0.00) is Action.NONE
    assert edge.on_frame(True, True, 0.02) is Action.PAUSE
    assert edge.state is EdgeState.PAUSED and edge.pauses == 1


def test_speech_with_no_reply_playing_or_broken_runs_never_pause() -> None:
    edge = EdgeBargeIn(SETTINGS)
    assert edge.on_frame(True, False, 0.00) is Action.NONE
    assert edge.on_frame(True, False, 0.02) is Action.NONE
    edge = EdgeBargeIn(SETTINGS)
    for i, voiced in enumerate([True, False, True, False, True]):
        assert edge.on_frame(voiced, True, i * 0.02) is Action.NONE


def test_no_confirmation_resumes_after_the_window_then_rearms_after_quiet() -> None:
    edge = EdgeBargeIn(SETTINGS)
    edge.on_frame(True, True, 0.0)
    edge.on_frame(True, True, 0.02)
    assert edge.on_timer(0.30) is Action.NONE  # still inside the window
    assert edge.on_timer(0.52) is Action.RESUME
    assert edge.state is EdgeState.REARMING and edge.resumes == 1
    # the same noise going on does not pause the reply again ...
    assert edge.on_frame(True, True, 0.54) is Action.NONE
    assert edge.on_frame(True, True, 0.56) is Action.NONE
    # ... until the caller was quiet for a frame
    assert edge.on_frame(False, True, 0.58) is Action.NONE
    assert edge.on_frame(True, True, 0.60) is Action.NONE
    assert edge.on_frame(True, True, 0.62) is Action.PAUSE


def test_confirmation_ends_the_pause() -> None:
    edge = EdgeBargeIn(SETTINGS)
    edge.on_frame(True, True, 0.0)
    edge.on_frame(True, True, 0.02)
    edge.on_confirmed()
    assert edge.state is EdgeState.LISTENING
    assert edge.on_timer(5.0) is Action.NONE  # no resume after a confirmed barge-in
    with pytest.raises(IllegalTransition):
        edge.machine.to(EdgeState.REARMING)


def test_the_detector_hears_speech_and_not_silence_or_hum() -> None:
    detector = SpeechDetector()
    assert detector.uses_webrtcvad
    speech = speech_pcm()
    frames = [speech[i : i + FRAME_SAMPLES] for i in range(0, len(speech) - FRAME_SAMPLES, 480)]
    voiced = [detector.is_speech(f.tobytes()) for f in frames]
    assert 0.3 < sum(voiced) / len(voiced) < 0.98  # speech with pauses in it
    assert not detector.is_speech(bytes(FRAME_SAMPLES * 2))
    quiet = np.random.default_rng(1).normal(0, 30, FRAME_SAMPLES).astype(np.int16)
    assert not detector.is_speech(quiet.tobytes())
    assert not detector.is_speech(b"\x00" * 10)  # not a whole frame
    assert to_8k(np.arange(480, dtype=np.int16)).size == 160


def test_heard_text_cuts_the_transcript_at_the_played_position() -> None:
    pieces = [("Sure.", 0), (" Your appointment is booked for tomorrow.", 800)]
    total = 3000
    assert heard_text(pieces, total, 3000) == "Sure. Your appointment is booked for tomorrow."
    assert heard_text(pieces, total, 800) == "Sure."
    assert heard_text(pieces, total, 400) == ""  # half of a one-word piece: no word
    # 1100 of the second piece's 2200 ms: half of its six words
    assert heard_text(pieces, total, 1900) == "Sure. Your appointment is"
    assert heard_text([], 0, 500) == ""
