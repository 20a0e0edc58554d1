"""The conversation mix: caller and agent summed, encoded once, only while listened to."""

from __future__ import annotations

import numpy as np

from edgevoice.bridge.mix import ConversationMix, frames_of, mix_pcm
from edgevoice.bridge.opus import FRAME_BYTES, FRAME_SAMPLES, MODEL_RATE, OpusDecoder, OpusEncoder
from edgevoice.sfu.fanout import Publication
from edgevoice.sfu.frames import FRAME_SAMPLES_48K, EncodedFrame


def tone(hz: float, frame: int, level: float = 0.3) -> bytes:
    t = (np.arange(FRAME_SAMPLES) + frame * FRAME_SAMPLES) / MODEL_RATE
    return (np.sin(2 * np.pi * hz * t) * level * 32767).astype("<i2").tobytes()


class Sink:
    def __init__(self) -> None:
        self.frames: list[EncodedFrame] = []

    def on_frame(self, frame: EncodedFrame) -> None:
        self.frames.append(frame)

    def on_end(self) -> None:
        return None


def test_mix_pcm_sums_and_clips() -> None:
    a = np.array([1000, 30000, -30000, 5], "<i2").tobytes()
    b = np.array([-500, 10000, -10000], "<i2").tobytes()
    out = np.frombuffer(mix_pcm(a, b), "<i2")
    assert out.tolist() == [500, 32767, -32768, 5]
    assert mix_pcm(b, a) == mix_pcm(a, b)


def test_frames_of_cuts_and_pads() -> None:
    pieces = frames_of(bytes(FRAME_BYTES + 10))
    assert [len(p) for p in pieces] == [FRAME_BYTES, FRAME_BYTES]


def test_idle_without_listeners_then_both_sides_in_one_stream() -> None:
    made: list[OpusEncoder] = []

    def encoder() -> OpusEncoder:
        made.append(OpusEncoder())
        return made[-1]

    mix = ConversationMix(encoder)
    output = Publication("mix")
    mix.attach(output)
    for i in range(10):  # nobody listens: no work, no encoder
        mix.agent(tone(1000, i))
        mix.caller(tone(440, i), 0.0)
    assert mix.frames == 0 and made == []
    listeners = [Sink(), Sink()]
    for sink in listeners:
        output.subscribe(sink)
    for i in range(50):
        mix.agent(tone(1000, i))  # as the echo does: the agent's frame, then the caller's
        mix.caller(tone(440, i), float(i))
    assert len(made) == 1 and made[0].frames == 50  # one encode per frame for both
    assert mix.frames == 50
    frames = listeners[0].frames
    assert frames == listeners[1].frames  # the same objects
    assert [f.pts for f in frames[:3]] == [0, FRAME_SAMPLES_48K, 2 * FRAME_SAMPLES_48K]
    decoder = OpusDecoder()
    pcm = b"".join(decoder.decode(f.data) for f in frames[10:])
    samples = np.frombuffer(pcm, "<i2").astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(len(samples), 1 / MODEL_RATE)

    def band(hz: float) -> float:
        return float(spectrum[(freqs > hz - 20) & (freqs < hz + 20)].max())

    floor = float(np.median(spectrum))
    assert band(440) > 50 * floor and band(1000) > 50 * floor  # caller and agent both there


def test_agent_alone_goes_out_when_the_caller_stalls() -> None:
    mix = ConversationMix()
    output = Publication("mix")
    sink = Sink()
    output.subscribe(sink)
    mix.attach(output)
    for i in range(10):
        mix.agent(tone(1000, i))
    assert len(sink.frames) == 10 - 3  # at most three frames wait for the caller
    mix.caller(tone(440, 0), 0.0)
    assert len(sink.frames) == 8


def test_the_tapped_encoder_shows_each_reply_frame_to_the_mix() -> None:
    mix = ConversationMix()
    output = Publication("mix")
    sink = Sink()
    output.subscribe(sink)
    mix.attach(output)
    real = OpusEncoder()
    tapped = mix.tap(real)
    packet = tapped.encode(tone(1000, 0))
    assert packet and real.frames == 1
    mix.caller(tone(440, 0), 0.0)
    assert len(sink.frames) == 1
