"""The echo model: returns the caller's audio as reply audio, frame by frame.

It goes through the whole bridge path (decode, model, encode) with no model time,
which makes it the measuring stick for the media plane.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .events import AudioDelta, ModelEvent

_CLOSED = None


class EchoModel:
    realtime_output = True  # its audio arrives paced by the caller: no playout pacing

    def __init__(self) -> None:
        self._queue: asyncio.Queue[ModelEvent | None] = asyncio.Queue()
        self.received_frames = 0

    async def start(self) -> None:
        return None

    def send_audio(self, pcm: bytes) -> None:
        self.received_frames += 1
        self._queue.put_nowait(AudioDelta("echo", "echo", pcm))

    async def interrupt(self, item_id: str, audio_end_ms: int, response_id: str | None) -> None:
        return None

    async def send_tool_result(self, call_id: str, output: str) -> None:
        return None

    async def events(self) -> AsyncIterator[ModelEvent]:
        while (event := await self._queue.get()) is not _CLOSED:
            yield event

    async def close(self) -> None:
        self._queue.put_nowait(_CLOSED)
