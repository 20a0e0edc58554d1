"""The input audio buffer: 16 kHz audio since the last commit, on the stream's clock."""

from __future__ import annotations

import numpy as np

from .audio import MODEL_RATE, Samples


def samples_to_ms(count: int) -> int:
    return count * 1000 // MODEL_RATE


class InputBuffer:
    def __init__(self) -> None:
        self._chunks: list[Samples] = []
        self._size = 0
        self._start = 0  # stream sample index of the buffer's first sample

    @property
    def start_ms(self) -> int:
        return samples_to_ms(self._start)

    @property
    def end_ms(self) -> int:
        """Stream time of the end of everything appended so far."""
        return samples_to_ms(self._start + self._size)

    @property
    def duration_ms(self) -> int:
        return samples_to_ms(self._size)

    def append(self, samples: Samples) -> None:
        if samples.size:
            self._chunks.append(samples)
            self._size += samples.size

    def samples(self) -> Samples:
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0]

    def drop_before(self, stream_ms: int) -> None:
        """Forget audio older than ``stream_ms``."""
        cut = stream_ms * MODEL_RATE // 1000 - self._start
        if cut <= 0:
            return
        kept = self.samples()[cut:]
        self._start += min(cut, self._size)
        self._chunks = [kept] if kept.size else []
        self._size = int(kept.size)

    def keep_last(self, ms: int) -> None:
        self.drop_before(self.end_ms - ms)

    def take(self) -> Samples:
        """Everything buffered; the buffer is then empty and continues on the same clock."""
        data = self.samples()
        self._start += self._size
        self._chunks = []
        self._size = 0
        return data

    def clear(self) -> None:
        self.take()
