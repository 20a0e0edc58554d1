"""Loading every model once, up front, with progress reports."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .audio import MODEL_RATE
from .stt import DecoderPool
from .tts import Synthesizer
from .vad import VoiceActivityDetector

Progress = Callable[[str], None]
DEFAULT_DECODERS = 2


@dataclass
class Models:
    """The loaded models and the executor their blocking calls run in."""

    decoders: DecoderPool
    synthesizer: Synthesizer
    executor: ThreadPoolExecutor
    load_seconds: float

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _quiet(_: str) -> None:
    pass


def load_models(progress: Progress | None = None, decoders: int = DEFAULT_DECODERS) -> Models:
    """Load VAD, STT and TTS (blocking, a few seconds); report each step to ``progress``."""
    say = progress or _quiet
    started = time.perf_counter()
    step = time.perf_counter()
    say("loading VAD (webrtcvad)...")
    VoiceActivityDetector(0.5, 500).push(np.zeros(MODEL_RATE // 10, dtype=np.int16))
    say(f"  VAD ready in {time.perf_counter() - step:.2f} s")
    step = time.perf_counter()
    say(f"loading STT (pocketsphinx en-us, {decoders} decoders)...")
    pool = DecoderPool(decoders)
    say(f"  STT ready in {time.perf_counter() - step:.2f} s")
    step = time.perf_counter()
    say("loading TTS (piper, joe voice)...")
    synthesizer = Synthesizer()
    synthesizer.speak("Ready.", MODEL_RATE)  # first inference warms onnxruntime up
    say(f"  TTS ready in {time.perf_counter() - step:.2f} s")
    workers = max(4, (os.cpu_count() or 2) * 2)
    total = time.perf_counter() - started
    say(f"models ready in {total:.2f} s")
    return Models(pool, synthesizer, ThreadPoolExecutor(workers, "modelserver"), total)
