"""Voice activity on the caller's already-decoded PCM, for barge-in at the edge.

The bridge decodes every caller frame once (24 kHz mono). webrtcvad takes 8, 16, 32
or 48 kHz, so each 20 ms frame is brought to 8 kHz by averaging groups of three
samples (a cheap low-pass and decimation; the detector only needs the speech band's
low end). Frames quieter than ``MIN_RMS`` are never speech. Without webrtcvad the
detector falls back to that energy gate alone, with a higher bar.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .opus import FRAME_SAMPLES

log = logging.getLogger(__name__)

VAD_RATE = 8000
DECIMATE = 3  # 24 kHz → 8 kHz
MIN_RMS = 150.0  # about -47 dBFS: quieter is never speech
FALLBACK_RMS = 900.0  # about -31 dBFS: the bar when only energy decides


def _load_webrtcvad(aggressiveness: int) -> Any | None:
    try:
        import webrtcvad
    except ImportError:
        log.warning("webrtcvad is not installed: barge-in at the edge uses an energy gate")
        return None
    return webrtcvad.Vad(aggressiveness)


def frame_rms(samples: np.ndarray) -> float:
    """Root mean square of int16 samples (pure)."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float32)))) if samples.size else 0.0


def to_8k(samples: np.ndarray) -> np.ndarray:
    """A 24 kHz frame as 8 kHz int16 by averaging each group of three (pure)."""
    whole = samples.size - samples.size % DECIMATE
    groups = samples[:whole].reshape(-1, DECIMATE).astype(np.int32)
    out: np.ndarray = (groups.sum(axis=1) // DECIMATE).astype(np.int16)
    return out


class SpeechDetector:
    """Says whether one 20 ms caller frame (PCM16 24 kHz) holds speech."""

    def __init__(self, aggressiveness: int = 2) -> None:
        self._vad = _load_webrtcvad(aggressiveness)

    @property
    def uses_webrtcvad(self) -> bool:
        return self._vad is not None

    def is_speech(self, pcm: bytes) -> bool:
        samples = np.frombuffer(pcm, np.int16)
        if samples.size != FRAME_SAMPLES:
            return False
        rms = frame_rms(samples)
        if self._vad is None:
            return rms >= FALLBACK_RMS
        if rms < MIN_RMS:
            return False
        return bool(self._vad.is_speech(to_8k(samples).tobytes(), VAD_RATE))
