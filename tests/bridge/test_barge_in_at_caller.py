"""Barge-in and voice-to-voice measured at the caller, over several turns.

A real aiortc caller (``bench.caller.VoiceCaller``) talks to a real session (SFU +
bridge + realtime client) and the real offline model server, all on 127.0.0.1. The
session is made in-process (``LiveSession``), not through the HTTP control plane. The
bounds are generous (a loaded 2-core machine); the figures themselves belong to
``python -m edgevoice.bench.conversation`` and docs/benchmarks.md.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from edgevoice.bench.conversation import Step, run_plan
from edgevoice.bench.delayproxy import DelayProxy
from edgevoice.bridge.model import SessionSettings
from edgevoice.bridge.realtime_client import RealtimeClient
from edgevoice.node.eventlog import EventLog
from edgevoice.node.session import LiveSession
from edgevoice.sfu.peer import MediaConfig

_ids = itertools.count(1)


@pytest.fixture
async def sessions() -> AsyncIterator[list[LiveSession]]:
    made: list[LiveSession] = []
    yield made
    for session in made:
        await session.close("test over")


def answerer(url: str, made: list[LiveSession]) -> Callable[[str], Any]:
    async def answer(offer: str) -> str:
        settings = SessionSettings(model="local")
        session = LiveSession(
            f"sess_{next(_ids)}", settings, RealtimeClient(url, settings, api_key=None),
            MediaConfig(), events=EventLog(), on_closed=lambda _: None, max_seconds=600,
        )  # fmt: skip
        made.append(session)
        return await session.connect(offer)

    return answer


async def test_barge_in_at_the_caller_over_several_turns(
    server_url: str, sessions: list[LiveSession]
) -> None:
    plan = (
        Step("answer", "hello.wav"),
        Step("barge", "book_appointment.wav", "goodbye.wav"),
        Step("barge", "hello.wav", "what_time.wav"),
    )
    result = await run_plan(answerer(f"ws://{server_url}/v1/realtime", sessions), plan)
    steps = result["steps"]
    barges = [s for s in steps if s["kind"] == "barge"]
    # the reply went silent at the caller soon after the caller started talking over it
    assert all(0 <= s["barge_in_ms"] < 400 for s in barges), steps
    assert all(s["truncated"] for s in barges), steps
    # one barge_in per interruption: none when a caller turn follows a finished reply
    assert result["barge_in_events"] == len(barges), result
    assert result["pauses"] >= len(barges)  # the edge paused before the model confirmed
    # every turn was answered, voice to voice, with its waterfall
    assert all(0 < s["voice_to_voice_ms"] < 3000 for s in steps), steps
    assert all(s["waterfall"]["voice_to_voice_ms"] > 0 for s in steps)
    # an interrupted reply's transcript holds only what was heard
    cut = [t for t in result["transcripts"] if t.get("interrupted")]
    assert len(cut) == len(barges)
    assert all("anything else" not in t["text"].lower() for t in cut), cut
    whole = [
        t for t in result["transcripts"] if t["role"] == "assistant" and "interrupted" not in t
    ]
    assert whole, result["transcripts"]


async def test_a_slow_model_link_does_not_slow_the_edge_pause_and_a_cough_resumes(
    server_url: str, sessions: list[LiveSession]
) -> None:
    port = int(server_url.rsplit(":", 1)[1])
    async with DelayProxy(port, 0.150) as proxy:
        url = f"ws://127.0.0.1:{proxy.port}/v1/realtime"
        plan = (
            Step("barge", "book_appointment.wav", "goodbye.wav"),
            Step("cough", "hello.wav"),
        )
        result = await run_plan(answerer(url, sessions), plan)
    barge, cough = result["steps"]
    # 300 ms of model round trip, yet the reply stops at the edge's pace
    assert 0 <= barge["barge_in_ms"] < 250, barge
    assert barge["truncated"]
    # a short noise paused the reply, the model never confirmed, the reply went on
    assert cough["resumed"] and not cough["truncated"], cough
    assert 0 <= cough["barge_in_ms"] < 250, cough
    assert result["resumes"] == 1 and result["barge_in_events"] == 1, result
