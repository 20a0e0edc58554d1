"""Audio on the model socket: PCM16 24 kHz as is, or G.711 μ-law at 8 kHz.

The bridge always speaks PCM16 mono 24 kHz. With ``audio/pcmu`` the protocol client
resamples to 8 kHz and μ-law encodes the caller's audio, and does the reverse for the
model's reply. The μ-law tables follow ITU-T G.711 (bias 0x84, clip 32635).
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import soxr

AudioFormat = Literal["pcm16", "pcmu"]
PCM_RATE = 24_000
PCMU_RATE = 8_000
_BIAS = 0x84
_CLIP = 32_635


def _build_decode_table() -> npt.NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_encode_table() -> npt.NDArray[np.uint8]:
    samples = np.arange(-32_768, 32_768, dtype=np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes = ~(sign | (exponent << 4) | mantissa) & 0xFF
    # index the table by the sample's bits read as unsigned 16-bit
    table = np.empty(65_536, dtype=np.uint8)
    table[samples.astype(np.int16).view(np.uint16)] = codes.astype(np.uint8)
    return table


_DECODE = _build_decode_table()
_ENCODE = _build_encode_table()


def mulaw_encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → one μ-law byte a sample (same rate)."""
    samples = np.frombuffer(pcm, dtype="<i2")
    return bytes(_ENCODE[samples.view(np.uint16)].tobytes())


def mulaw_decode(data: bytes) -> bytes:
    """μ-law bytes → PCM16 little-endian (same rate)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return bytes(_DECODE[codes].astype("<i2").tobytes())


class AudioCodec(Protocol):
    wire_format: dict[str, object]

    def encode(self, pcm: bytes) -> bytes:
        """Caller PCM16 24 kHz → what goes on the socket."""

    def decode(self, data: bytes) -> bytes:
        """What came off the socket → PCM16 24 kHz."""

    def flush(self) -> bytes:
        """The reply audio still held by the decoder (call at the end of a reply)."""


class Pcm16Codec:
    wire_format: dict[str, object] = {"type": "audio/pcm", "rate": PCM_RATE}

    def encode(self, pcm: bytes) -> bytes:
        return pcm

    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class PcmuCodec:
    """Streaming 24 kHz ↔ 8 kHz resampling (state kept across frames) plus μ-law.

    soxr's low-quality setting keeps the added delay near 12 ms each way (the medium
    one adds over 30 ms); the band is 4 kHz anyway.
    """

    wire_format: dict[str, object] = {"type": "audio/pcmu"}

    def __init__(self) -> None:
        self._down = soxr.ResampleStream(PCM_RATE, PCMU_RATE, 1, dtype="int16", quality="LQ")
        self._up = soxr.ResampleStream(PCMU_RATE, PCM_RATE, 1, dtype="int16", quality="LQ")

    def encode(self, pcm: bytes) -> bytes:
        down = self._down.resample_chunk(np.frombuffer(pcm, dtype="<i2"))
        return mulaw_encode(np.asarray(down, dtype="<i2").tobytes())

    def decode(self, data: bytes) -> bytes:
        pcm = np.frombuffer(mulaw_decode(data), dtype="<i2")
        up = self._up.resample_chunk(pcm)
        return bytes(np.asarray(up, dtype="<i2").tobytes())

    def flush(self) -> bytes:
        tail = self._up.resample_chunk(np.zeros(0, dtype="<i2"), last=True)
        self._up.clear()
        return bytes(np.asarray(tail, dtype="<i2").tobytes())


def make_codec(audio_format: AudioFormat) -> AudioCodec:
    if audio_format == "pcm16":
        return Pcm16Codec()
    if audio_format == "pcmu":
        return PcmuCodec()
    raise ValueError(f"unknown audio format {audio_format!r}; use 'pcm16' or 'pcmu'")
