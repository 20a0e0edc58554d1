"""What a model tells the bridge: typed records discriminated on ``type``.

The names are the OpenAI Realtime GA server event names; a protocol client turns
JSON into these, the echo model makes them directly. Audio is raw PCM16 mono
24 kHz (already base64-decoded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(slots=True, frozen=True)
class AudioDelta:
    response_id: str
    item_id: str
    pcm: bytes
    type: Literal["response.output_audio.delta"] = "response.output_audio.delta"


@dataclass(slots=True, frozen=True)
class AudioDone:
    response_id: str
    item_id: str
    type: Literal["response.output_audio.done"] = "response.output_audio.done"


@dataclass(slots=True, frozen=True)
class TranscriptDelta:
    response_id: str
    item_id: str
    delta: str
    type: Literal["response.output_audio_transcript.delta"] = (
        "response.output_audio_transcript.delta"
    )


@dataclass(slots=True, frozen=True)
class TranscriptDone:
    response_id: str
    item_id: str
    transcript: str
    type: Literal["response.output_audio_transcript.done"] = "response.output_audio_transcript.done"


@dataclass(slots=True, frozen=True)
class InputTranscript:
    item_id: str
    transcript: str
    type: Literal["conversation.item.input_audio_transcription.completed"] = (
        "conversation.item.input_audio_transcription.completed"
    )


@dataclass(slots=True, frozen=True)
class SpeechStarted:
    item_id: str
    audio_start_ms: int
    type: Literal["input_audio_buffer.speech_started"] = "input_audio_buffer.speech_started"


@dataclass(slots=True, frozen=True)
class SpeechStopped:
    item_id: str
    audio_end_ms: int
    type: Literal["input_audio_buffer.speech_stopped"] = "input_audio_buffer.speech_stopped"


@dataclass(slots=True, frozen=True)
class ResponseCreated:
    response_id: str
    type: Literal["response.created"] = "response.created"


@dataclass(slots=True, frozen=True)
class OutputItemAdded:
    """The model has decided what to answer (after its transcription, before audio)."""

    response_id: str
    item_id: str
    type: Literal["response.output_item.added"] = "response.output_item.added"


@dataclass(slots=True, frozen=True)
class ResponseDone:
    response_id: str
    status: str
    type: Literal["response.done"] = "response.done"


@dataclass(slots=True, frozen=True)
class FunctionCall:
    response_id: str
    call_id: str
    name: str
    arguments: str
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"


@dataclass(slots=True, frozen=True)
class ModelError:
    message: str
    code: str | None = None
    error_type: str = "server_error"
    type: Literal["error"] = "error"


@dataclass(slots=True, frozen=True)
class ConnectionChanged:
    """Not a protocol event: the model link went up or down (reconnects)."""

    connected: bool
    detail: str = ""
    reconnect_seconds: float | None = None
    type: Literal["model.connection"] = "model.connection"


ModelEvent = (
    AudioDelta
    | AudioDone
    | TranscriptDelta
    | TranscriptDone
    | InputTranscript
    | SpeechStarted
    | SpeechStopped
    | ResponseCreated
    | OutputItemAdded
    | ResponseDone
    | FunctionCall
    | ModelError
    | ConnectionChanged
)
