"""A session reports the transcriber that will actually run."""

from __future__ import annotations

from edgevoice.signalling.service import OFFLINE_TRANSCRIBER, transcription_for


def test_sessions_report_what_actually_transcribes() -> None:
    default = {"model": "gpt-4o-mini-transcribe"}
    assert transcription_for("local", default) == {"model": OFFLINE_TRANSCRIBER}
    assert transcription_for("echo", default) is None
    assert transcription_for("gpt-realtime", default) == default
    assert transcription_for("local", None) is None
