"""Speech to text with pocketsphinx's bundled US English model, streamed per utterance."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Executor
from typing import Any

from pocketsphinx import Decoder

from .audio import MODEL_RATE, Samples
from .errors import ModelLoadError


def _new_decoder() -> Any:
    try:
        # fwdflat off: the final pass then costs ~60 ms instead of ~250 ms, same words.
        return Decoder(samprate=MODEL_RATE, fwdflat=False, loglevel="FATAL")
    except Exception as exc:  # pocketsphinx raises plain RuntimeError/ValueError
        raise ModelLoadError(f"cannot load the pocketsphinx model: {exc}") from exc


class DecoderPool:
    """Decoders loaded up front; a burst of concurrent utterances grows the pool."""

    def __init__(self, size: int) -> None:
        self._idle = [_new_decoder() for _ in range(size)]
        self._lock = threading.Lock()
        self.size = size

    def take(self) -> Any:
        """Blocking (call it in an executor): an idle decoder, or a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.size += 1
        return _new_decoder()

    def give_back(self, decoder: Any) -> None:
        with self._lock:
            self._idle.append(decoder)


def _decode_start(pool: DecoderPool) -> Any:
    decoder = pool.take()
    decoder.start_utt()
    return decoder


def _decode_feed(decoder: Any, pcm: bytes) -> None:
    decoder.process_raw(pcm, False, False)


def _decode_end(decoder: Any) -> str:
    decoder.end_utt()
    hyp = decoder.hyp()
    return str(hyp.hypstr) if hyp is not None else ""


class Utterance:
    """One utterance being recognised while it is spoken.

    ``feed`` never blocks the event loop: audio is queued and a worker task hands it
    to the decoder in the executor, in order. ``finish`` returns the transcript; it may
    be called again (the same transcript), and audio fed after it is ignored.
    """

    def __init__(self, pool: DecoderPool, executor: Executor) -> None:
        self._pool = pool
        self._executor = executor
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._worker = asyncio.create_task(self._run())
        self.seconds = 0.0
        self.finish_s = 0.0
        self.ended = False

    def feed(self, samples: Samples) -> None:
        if samples.size and not self.ended:
            self.seconds += samples.size / MODEL_RATE
            self._queue.put_nowait(samples.astype("<i2").tobytes())

    async def finish(self) -> str:
        self._end()
        return await asyncio.shield(self._worker)

    def abort(self) -> None:
        """Stop recognising; the decoder goes back to the pool once it is idle."""
        self._end()

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self._queue.put_nowait(None)

    async def _run(self) -> str:
        loop = asyncio.get_running_loop()
        decoder = await loop.run_in_executor(self._executor, _decode_start, self._pool)
        clean = False
        try:
            while True:
                chunk = await self._queue.get()
                parts: list[bytes] = []
                done = chunk is None
                if chunk is not None:
                    parts.append(chunk)
                while not done and not self._queue.empty():
                    more = self._queue.get_nowait()
                    done = more is None
                    if more is not None:
                        parts.append(more)
                if parts:
                    await loop.run_in_executor(
                        self._executor, _decode_feed, decoder, b"".join(parts)
                    )
                if done:
                    started = time.perf_counter()
                    text = await loop.run_in_executor(self._executor, _decode_end, decoder)
                    self.finish_s = time.perf_counter() - started
                    clean = True
                    return text
        finally:
            # A worker cancelled mid-call may leave the decoder busy in a thread: drop it.
            if clean:
                self._pool.give_back(decoder)
