"""Interop: the RealtimeClient against the project's real offline model server (VAD, STT,
brain, TTS on 127.0.0.1), a spoken question that goes through the tool path."""

from __future__ import annotations

import asyncio
import datetime
import re
import wave
from pathlib import Path

import numpy as np
import soxr

from edgevoice.bridge import events as ev
from edgevoice.bridge.model import SessionSettings
from edgevoice.bridge.realtime_client import RealtimeClient
from edgevoice.bridge.tools import ToolRunner, declared_names

DATA = Path(__file__).resolve().parent.parent / "data"
FRAME_BYTES = 960


def speech_24k(name: str, silence_s: float = 1.0) -> bytes:
    with wave.open(str(DATA / name)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = soxr.resample(samples.astype(np.float32) / 32768, rate, 24_000)
    audio = np.concatenate([audio, np.zeros(int(24_000 * silence_s), np.float32)])
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


async def test_spoken_time_question_through_the_offline_server(server_url: str) -> None:
    settings = SessionSettings(
        model="local",
        turn_detection={"type": "server_vad", "silence_duration_ms": 500},
        tools=(
            {"type": "function", "name": "get_time", "description": "The local time.",
             "parameters": {"type": "object", "properties": {}}},
        ),
        input_transcription={"model": "pocketsphinx-en-us"},
    )  # fmt: skip
    runner = ToolRunner(None, "sess_offline", declared=declared_names(settings.tools))
    client = RealtimeClient(f"ws://{server_url}/v1/realtime", settings, api_key=None, tools=runner)
    seen: list[ev.ModelEvent] = []
    try:
        async with asyncio.timeout(90):
            await client.start()
            pcm = speech_24k("what_time.wav")
            for start in range(0, len(pcm), FRAME_BYTES):
                client.send_audio(pcm[start : start + FRAME_BYTES])
                await asyncio.sleep(0)
            audio = bytearray()
            async for event in client.events():
                seen.append(event)
                if isinstance(event, ev.AudioDelta):
                    audio += event.pcm
                if isinstance(event, ev.ResponseDone) and audio:
                    break
    finally:
        await client.close()

    kinds = [type(e).__name__ for e in seen]
    assert kinds.index("SpeechStarted") < kinds.index("SpeechStopped") < kinds.index("FunctionCall")
    heard = next(e for e in seen if isinstance(e, ev.InputTranscript))
    assert "time" in heard.transcript
    call = next(e for e in seen if isinstance(e, ev.FunctionCall))
    assert call.name == "get_time"
    said = [e for e in seen if isinstance(e, ev.TranscriptDone)][-1].transcript
    spoken = re.search(r"\b(\d{1,2}):(\d{2})\b", said)  # the built-in get_time's "HH:MM"
    assert spoken is not None, said
    now = datetime.datetime.now()
    minutes = int(spoken[1]) * 60 + int(spoken[2])
    assert (now.hour * 60 + now.minute - minutes) % 1440 <= 1, said
    assert len(audio) > 24_000  # over half a second of speech
    assert client.frames_sent == len(pcm) // FRAME_BYTES + (len(pcm) % FRAME_BYTES > 0)
    assert client.frames_dropped == 0
