from __future__ import annotations

import numpy as np
import pytest

from edgevoice.bridge.errors import CodecError
from edgevoice.bridge.opus import FRAME_BYTES, OpusDecoder, OpusEncoder
from tests.peers import best_alignment, wav_samples


def test_round_trip_at_24_khz_keeps_the_speech() -> None:
    speech48 = wav_samples("hello.wav")
    speech = (speech48[::2] * 32767).astype(np.int16)  # crude 24 kHz is fine for a test
    pcm = speech.tobytes()
    encoder, decoder = OpusEncoder(), OpusDecoder()
    out = b"".join(
        decoder.decode(encoder.encode(pcm[i : i + FRAME_BYTES]))
        for i in range(0, len(pcm) - FRAME_BYTES, FRAME_BYTES)
    )
    assert encoder.frames == decoder.frames == len(pcm) // FRAME_BYTES
    decoded = np.frombuffer(out, np.int16).astype(np.float32) / 32768
    reference = speech.astype(np.float32)[12000:36000] / 32768
    score, _ = best_alignment(reference, decoded)
    assert score > 0.8


def test_loss_is_concealed_with_one_frame_and_bad_input_refused() -> None:
    decoder = OpusDecoder()
    assert len(decoder.decode(None)) == FRAME_BYTES
    with pytest.raises(CodecError):
        OpusEncoder().encode(b"\0" * 10)
