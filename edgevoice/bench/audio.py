"""The bench's audio: speech encoded to Opus once, and the probe's marker bursts.

Callers send packets encoded here at start-up, so a caller spends no CPU encoding.
Probe callers send a marker (a short chirp once a second) and find it again in the
decoded echo by normalised cross-correlation.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soxr

from ..bridge.opus import FRAME_SAMPLES, MODEL_RATE, OpusEncoder

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
PROBE_PERIOD_FRAMES = 50  # one marker a second
CHIRP_SECONDS = 0.08
DETECT_THRESHOLD = 0.6


def wav_pcm(path: Path) -> np.ndarray:
    """One WAV file as int16 mono at 24 kHz."""
    with wave.open(str(path)) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        channels, rate = w.getnchannels(), w.getframerate()
    mono = raw.reshape(-1, channels).mean(axis=1) if channels > 1 else raw
    out: np.ndarray = np.clip(
        soxr.resample(mono.astype(np.float32), rate, MODEL_RATE), -32768, 32767
    ).astype(np.int16)
    return out


def speech_pcm(folder: Path = DATA) -> np.ndarray:
    """Every WAV of ``folder`` one after the other, as int16 mono at 24 kHz."""
    parts = [wav_pcm(path) for path in sorted(folder.glob("*.wav"))]
    if not parts:
        raise FileNotFoundError(f"no WAV files in {folder}")
    out: np.ndarray = np.concatenate(parts)
    return out


def encode(pcm: np.ndarray) -> list[bytes]:
    """Opus packets of 20 ms (the trailing partial frame is dropped)."""
    encoder = OpusEncoder()
    whole = len(pcm) - len(pcm) % FRAME_SAMPLES
    return [
        encoder.encode(pcm[i : i + FRAME_SAMPLES].tobytes()) for i in range(0, whole, FRAME_SAMPLES)
    ]


def chirp() -> np.ndarray:
    """The marker: a Hann-windowed 400 Hz → 4 kHz sweep, float in [-0.5, 0.5]."""
    n = int(CHIRP_SECONDS * MODEL_RATE)
    t = np.arange(n) / MODEL_RATE
    f0, f1 = 400.0, 4000.0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * CHIRP_SECONDS))
    return (0.5 * np.sin(phase) * np.hanning(n)).astype(np.float32)


def probe_pcm() -> np.ndarray:
    """One probe period: the chirp at the start of frame 0, then quiet noise."""
    period = np.random.default_rng(7).normal(0, 30, PROBE_PERIOD_FRAMES * FRAME_SAMPLES)
    marker = chirp() * 32767
    period[: len(marker)] += marker
    return np.clip(period, -32768, 32767).astype(np.int16)


def probe_packets() -> list[bytes]:
    """One probe period of packets; the marker starts in packet 0."""
    two = encode(np.concatenate([probe_pcm(), probe_pcm()]))
    return two[PROBE_PERIOD_FRAMES:]  # the second period: the encoder has settled


def find_markers(pcm: np.ndarray) -> list[int]:
    """Sample offsets (24 kHz) where the marker starts in decoded ``pcm`` (int16)."""
    template = chirp()
    signal = pcm.astype(np.float32) / 32768
    if len(signal) < len(template):
        return []
    size = 1 << (len(signal) + len(template) - 1).bit_length()
    spec = np.fft.rfft(signal, size) * np.conj(np.fft.rfft(template, size))
    corr = np.fft.irfft(spec, size)[: len(signal) - len(template) + 1]
    energy = np.concatenate([[0.0], np.cumsum(signal.astype(np.float64) ** 2)])
    local = np.sqrt(energy[len(template) :] - energy[: -len(template)])
    score = corr / (np.linalg.norm(template) * np.maximum(local, 1e-6))
    found: list[int] = []
    gap = PROBE_PERIOD_FRAMES * FRAME_SAMPLES // 2
    for index in np.flatnonzero(score > DETECT_THRESHOLD):
        i = int(index)
        if found and i - found[-1] < gap:
            if score[i] > score[found[-1]]:
                found[-1] = i
            continue
        found.append(i)
    return found


def marker_delays(
    sent: Sequence[float], pcm: np.ndarray, arrivals: Sequence[float]
) -> list[tuple[float, float]]:
    """``(heard, round trip)`` in seconds for each marker found in ``pcm``.

    ``arrivals[k]`` is when decoded frame ``k`` (samples ``k*480 ..``) arrived; a marker
    at sample ``s`` is heard at ``arrivals[s // 480] + (s % 480) / 24000``.
    """
    delays: list[tuple[float, float]] = []
    sent_sorted = sorted(sent)
    for s in find_markers(pcm):
        frame = s // FRAME_SAMPLES
        if frame >= len(arrivals):
            continue
        heard = arrivals[frame] + (s % FRAME_SAMPLES) / MODEL_RATE
        earlier = [t for t in sent_sorted if t <= heard]
        if earlier and heard - earlier[-1] < PROBE_PERIOD_FRAMES * 0.02 / 2:
            delays.append((heard, heard - earlier[-1]))
    return delays
