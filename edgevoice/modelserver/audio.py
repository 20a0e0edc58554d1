"""Audio plumbing: base64 PCM, G.711 codecs and sample-rate conversion."""

from __future__ import annotations

import base64
import binascii

import numpy as np
import numpy.typing as npt
import soxr

from .errors import InvalidEventError

WIRE_RATE = 24_000  # audio/pcm on the wire
G711_RATE = 8_000
MODEL_RATE = 16_000  # what the VAD and the recogniser consume

Samples = npt.NDArray[np.int16]


def _ulaw_table() -> npt.NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.uint8)
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent
    value = magnitude - 0x84
    return np.where(sign != 0, -value, value).astype(np.int16)


def _alaw_table() -> npt.NDArray[np.int16]:
    codes = np.arange(256, dtype=np.uint8) ^ 0x55
    sign = codes & 0x80
    exponent = ((codes >> 4) & 0x07).astype(np.int32)
    mantissa = (codes & 0x0F).astype(np.int32)
    value = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(sign != 0, value, -value).astype(np.int16)


_ULAW = _ulaw_table()
_ALAW = _alaw_table()


def decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidEventError(
            "audio is not valid base64", code="invalid_value", param="audio"
        ) from exc


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_wire(data: bytes, fmt: str) -> tuple[Samples, int]:
    """Wire bytes in session format ``fmt`` → (int16 samples, sample rate)."""
    if fmt == "audio/pcmu":
        return _ULAW[np.frombuffer(data, dtype=np.uint8)], G711_RATE
    if fmt == "audio/pcma":
        return _ALAW[np.frombuffer(data, dtype=np.uint8)], G711_RATE
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16), WIRE_RATE


def encode_wire(samples: Samples, fmt: str) -> bytes:
    """int16 samples at the wire rate of ``fmt`` → wire bytes."""
    if fmt == "audio/pcmu":
        return _nearest(_ULAW, samples)
    if fmt == "audio/pcma":
        return _nearest(_ALAW, samples)
    return samples.astype("<i2").tobytes()


def wire_rate(fmt: str) -> int:
    return WIRE_RATE if fmt == "audio/pcm" else G711_RATE


def _nearest(table: npt.NDArray[np.int16], samples: Samples) -> bytes:
    order = np.argsort(table)
    ordered = table[order].astype(np.int32)
    wanted = samples.astype(np.int32)
    index = np.clip(np.searchsorted(ordered, wanted), 1, 255)
    left, right = ordered[index - 1], ordered[index]
    pick = np.where(wanted - left <= right - wanted, index - 1, index)
    return order[pick].astype(np.uint8).tobytes()


def resample(samples: Samples, rate_in: int, rate_out: int) -> Samples:
    """Whole-buffer resampling (for a synthesized sentence)."""
    if rate_in == rate_out or samples.size == 0:
        return samples
    out = soxr.resample(samples.astype(np.float32) / 32768.0, rate_in, rate_out)
    return np.clip(np.asarray(out) * 32768.0, -32768, 32767).astype(np.int16)


class StreamResampler:
    """Streaming conversion of input audio to ``MODEL_RATE`` without edge clicks."""

    def __init__(self, rate_in: int, rate_out: int = MODEL_RATE) -> None:
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._stream = (
            None
            if rate_in == rate_out
            else soxr.ResampleStream(rate_in, rate_out, 1, dtype="int16")
        )

    def push(self, samples: Samples) -> Samples:
        if self._stream is None:
            return samples
        return np.asarray(self._stream.resample_chunk(samples), dtype=np.int16)
