from __future__ import annotations

import asyncio
import itertools

import numpy as np

from edgevoice.bridge.opus import FRAME_BYTES, OpusEncoder
from edgevoice.bridge.playout import BURST_AHEAD, Playout, truncate_position_ms
from edgevoice.sfu.fanout import Publication
from edgevoice.sfu.frames import EncodedFrame


def test_truncate_position_is_what_was_played_never_zero_never_past_received() -> None:
    assert truncate_position_ms(480, 2000) == 480
    assert truncate_position_ms(0, 2000) == 1
    assert truncate_position_ms(900, 600) == 600


class Collect:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.frames: list[EncodedFrame] = []
        self.done = asyncio.Event()
        self.want = 0

    def on_frame(self, frame: EncodedFrame) -> None:
        self.frames.append(frame)
        self.times.append(asyncio.get_running_loop().time())
        if len(self.frames) >= self.want:
            self.done.set()

    def on_end(self) -> None:
        return None

    async def wait(self, count: int) -> None:
        """Until ``count`` frames in all have been published (bounded by 2 s)."""
        self.want = count
        if len(self.frames) < count:
            self.done.clear()
            async with asyncio.timeout(2):
                await self.done.wait()


def tone(seconds: float) -> bytes:
    t = np.arange(int(24000 * seconds)) / 24000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).tobytes()


async def test_a_burst_is_paced_at_20_ms_with_no_frame_sent_ahead() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication)
    sink.want = 15
    start = asyncio.get_running_loop().time()
    playout.push(tone(0.3), "item1", 0.0)  # 15 frames at once, as TTS delivers them
    assert BURST_AHEAD == 0.0
    assert len(sink.frames) == 1  # only the frame whose slot is now
    async with asyncio.timeout(2):
        await sink.done.wait()
    gaps = np.diff(sink.times)
    assert abs(float(np.median(gaps)) - 0.020) < 0.004
    # no frame left before its slot: frame k at start + k * 20 ms or later
    assert all(t - start >= k * 0.020 - 0.001 for k, t in enumerate(sink.times))
    pts = [f.pts for f in sink.frames]
    assert all(b - a >= 960 for a, b in itertools.pairwise(pts))


async def test_partial_frames_are_joined_and_flushed_with_silence() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication)
    playout.push(tone(0.01), "a", 0.0)  # half a frame: nothing to send yet
    assert sink.frames == []
    playout.push(tone(0.01), "a", 0.0)  # now one whole frame
    assert len(sink.frames) == 1
    playout.push(tone(0.005), "a", 0.0)
    playout.flush()
    await sink.wait(2)
    assert playout.played_ms["a"] == 40
    assert playout.received_ms["a"] == 25


async def test_interrupt_drops_queued_frames_and_reports_what_was_heard() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication)
    playout.push(tone(1.0), "item", 0.0)
    sent = len(sink.frames)
    interrupted = playout.interrupt()
    assert interrupted is not None
    assert interrupted.item_id == "item"
    assert interrupted.played_ms == sent * 20
    assert interrupted.received_ms == 1000
    assert interrupted.dropped_frames == 50 - sent
    assert playout.queued_frames == 0
    await asyncio.sleep(0.1)  # nothing more may leave once interrupted
    assert len(sink.frames) == sent
    assert playout.interrupt() is None
    assert FRAME_BYTES == 960


async def test_late_frames_leave_at_once_and_do_not_build_a_lasting_delay() -> None:
    """A hiccup on the way in (frames held up, then a burst) must not become a lasting
    delay on the way out once the input is back to real time."""
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication)
    loop = asyncio.get_running_loop()
    frame = tone(0.02)
    playout.push(frame, "a", 0.0)
    await asyncio.sleep(0.1)  # a 100 ms gap on the way in ...
    for _ in range(7):  # ... then 7 frames arrive at once: those past their slot leave
        playout.push(frame, "a", 0.0)
    assert playout.queued_frames <= 3  # (at most the ones whose slot is still ahead)
    for _ in range(10):  # back to real time: the queue does not grow
        await asyncio.sleep(0.02)
        playout.push(frame, "a", 0.0)
        assert playout.queued_frames <= 3
    await sink.wait(18)
    assert loop.time() - sink.times[-1] < 0.005


async def test_unpaced_output_never_waits() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication, paced=False)
    playout.push(tone(0.5), "a", 0.0)
    assert len(sink.frames) == 25 and playout.queued_frames == 0


async def test_timestamps_stay_contiguous_through_jitter_and_jump_after_silence() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication, paced=False)
    frame = tone(0.02)
    for gap in (0.0, 0.035, 0.005, 0.03):  # frames arriving with jitter, none missing
        await asyncio.sleep(gap)
        playout.push(frame, "a", 0.0)
    pts = [f.pts for f in sink.frames]
    assert [b - a for a, b in itertools.pairwise(pts)] == [960, 960, 960]
    await asyncio.sleep(0.4)  # a real silence: the clock moves on
    playout.push(frame, "b", 0.0)
    assert sink.frames[-1].pts - pts[-1] >= 0.3 * 48000


async def test_a_reply_that_has_played_out_is_not_interrupted_again() -> None:
    """The next caller turn must not truncate a reply the caller already heard whole."""
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    played: list[str] = []
    done = asyncio.Event()

    def on_played(item: str) -> None:
        played.append(item)
        done.set()

    playout = Playout(OpusEncoder(), publication, on_item_played=on_played)
    playout.push(tone(0.1), "item", 0.0)
    playout.flush("item")
    assert playout.playing
    async with asyncio.timeout(2):
        await done.wait()
    assert played == ["item"] and len(sink.frames) == 5
    assert not playout.playing
    assert playout.interrupt() is None


async def test_pause_keeps_the_queue_and_resume_goes_on_where_it_stopped() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication)
    playout.push(tone(0.4), "item", 0.0)  # 20 frames
    await sink.wait(3)
    assert playout.pause()
    sent = len(sink.frames)
    await asyncio.sleep(0.1)  # nothing leaves while paused (waiting on the absence of frames)
    assert len(sink.frames) == sent and playout.queued_frames == 20 - sent
    assert playout.playing
    playout.resume()
    await sink.wait(20)
    assert len(sink.frames) == 20 and playout.played_ms["item"] == 400


async def test_interrupt_while_paused_reports_the_paused_position() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication)
    playout.push(tone(1.0), "item", 0.0)
    await sink.wait(2)
    assert playout.pause()
    interrupted = playout.interrupt()
    assert interrupted is not None
    assert interrupted.played_ms == len(sink.frames) * 20
    assert interrupted.dropped_frames == 50 - len(sink.frames)
    assert not playout.paused and not playout.playing


async def test_an_underrun_before_the_item_ends_still_counts_as_playing() -> None:
    publication, sink = Publication("reply"), Collect()
    publication.subscribe(sink)
    playout = Playout(OpusEncoder(), publication, paced=False)
    playout.push(tone(0.02), "item", 0.0)  # no AudioDone yet: more may come
    await asyncio.sleep(0.05)  # past the frame's end, within the underrun grace
    assert playout.playing
    interrupted = playout.interrupt()
    assert interrupted is not None and interrupted.played_ms == 20
