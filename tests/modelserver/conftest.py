"""Fixtures: models loaded once, a real server on 127.0.0.1, an SDK client that validates."""

from __future__ import annotations

import base64
import json
import time
import typing
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest
import soxr
from openai import AsyncOpenAI
from openai.types.realtime import RealtimeServerEvent
from pydantic import BaseModel, Discriminator, TypeAdapter

DATA = Path(__file__).resolve().parent.parent / "data"
_SERVER_EVENT: TypeAdapter[Any] = TypeAdapter(
    Annotated[typing.get_args(RealtimeServerEvent)[0], Discriminator("type")]
)


def unknown_keys(model: object, path: str = "") -> list[str]:
    """Keys the SDK's models do not declare, anywhere in a validated event."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        for key in model.model_extra or {}:
            found.append(f"{path}{key}")
        for name in type(model).model_fields:
            found += unknown_keys(getattr(model, name), f"{path}{name}.")
    elif isinstance(model, list):
        for index, value in enumerate(model):
            found += unknown_keys(value, f"{path}{index}.")
    return found


def validate_server_event(event: dict[str, Any]) -> None:
    """Validate against the SDK's own pydantic models; fail on any undeclared key."""
    model = _SERVER_EVENT.validate_python(event)
    top = set(event) - set(type(model).model_fields)
    assert not top, f"{event['type']}: unknown top-level keys {top}"
    extra = unknown_keys(model)
    assert not extra, f"{event['type']}: unknown keys {extra}"


def load_wav_24k(name: str, trailing_silence_s: float = 0.8) -> bytes:
    with wave.open(str(DATA / name)) as wav:
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    audio = soxr.resample(pcm.astype(np.float32) / 32768.0, rate, 24_000)
    audio = np.concatenate([audio, np.zeros(int(24_000 * trailing_silence_s), np.float32)])
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def frames_20ms(pcm: bytes) -> Iterator[str]:
    step = 24_000 * 2 // 50
    for start in range(0, len(pcm), step):
        yield base64.b64encode(pcm[start : start + step]).decode()


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


class Client:
    """An ``openai`` SDK realtime connection that validates and records every event."""

    def __init__(self, connection: Any) -> None:
        self.conn = connection
        self.events: list[dict[str, Any]] = []
        self.arrived: list[float] = []

    async def send(self, event: dict[str, Any]) -> None:
        await self.conn.send(event)

    async def recv(self) -> dict[str, Any]:
        event = json.loads(await self.conn.recv_bytes())
        validate_server_event(event)
        self.events.append(event)
        self.arrived.append(time.perf_counter())
        return event

    async def until(self, kind: str, **fields: Any) -> dict[str, Any]:
        while True:
            event = await self.recv()
            if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event

    async def stream(self, pcm: bytes) -> None:
        for frame in frames_20ms(pcm):
            await self.send({"type": "input_audio_buffer.append", "audio": frame})

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]


@pytest.fixture
async def client(server_url: str) -> AsyncIterator[Client]:
    sdk = AsyncOpenAI(api_key="x", websocket_base_url=f"ws://{server_url}/v1")
    async with sdk.realtime.connect(model="local") as connection:
        yield Client(connection)
