"""A fan-out subscriber that raises ends its call with a reason, an error event and a count.

Before, fan-out logged and detached it: an aiortc upgrade that broke a private hook
showed up as silent one-way audio. The failure is injected at the frame seam: a sink
whose ``on_frame`` raises is subscribed to a live call's caller audio.
"""

from __future__ import annotations

import asyncio

import pytest

from edgevoice.sfu import counters
from edgevoice.sfu.fanout import Publication
from edgevoice.sfu.frames import EncodedFrame
from tests.livecall import live_call
from tests.peers import Caller


class BrokenSink:
    def __init__(self) -> None:
        self.frames = 0

    def on_frame(self, frame: EncodedFrame) -> None:
        self.frames += 1
        raise AttributeError("'RTCRtpReceiver' object has no attribute '_hook'")

    def on_end(self) -> None:
        return None


class GoodSink:
    def __init__(self) -> None:
        self.frames = 0
        self.ended = False

    def on_frame(self, frame: EncodedFrame) -> None:
        self.frames += 1

    def on_end(self) -> None:
        self.ended = True


def test_publication_reports_a_failing_sink_and_keeps_the_others() -> None:
    failures: list[tuple[object, Exception]] = []
    publication = Publication("p", on_failure=lambda sink, exc: failures.append((sink, exc)))
    broken, good = BrokenSink(), GoodSink()
    publication.subscribe(broken)
    publication.subscribe(good)
    before = counters.snapshot()["sink_failures"]
    for pts in (0, 960):
        publication.publish(EncodedFrame(b"\xf8", pts, 0.0))
    assert broken.frames == 1 and good.frames == 2
    assert publication.subscribers == 1
    assert len(failures) == 1 and failures[0][0] is broken
    assert isinstance(failures[0][1], AttributeError)
    assert counters.snapshot()["sink_failures"] == before + 1


@pytest.mark.timeout(60)
async def test_a_failing_sink_ends_the_session_with_an_error_event() -> None:
    async with live_call(Caller("hello.wav", loop_audio=True)) as call:
        before = counters.snapshot()["sink_failures"]
        call.session.call.caller_audio.subscribe(BrokenSink())
        async with asyncio.timeout(10):
            error = await call.caller.next_event("error", code="sink_failed")
            await call.session.ended.wait()
        assert "AttributeError" in error["message"]
        assert call.session.call.closed_reason == "sink_failed"
        kept = call.session.events.recent()
        closing = [e for e in kept if e["type"] == "session.closing"]
        assert closing and closing[0]["reason"] == "sink_failed"
        assert [e["type"] for e in kept].index("error") < [e["type"] for e in kept].index(
            "session.closing"
        )
        assert call.session.id not in call.node.sessions
        assert counters.snapshot()["sink_failures"] == before + 1
