"""Session configuration: the GA ``session`` object, its defaults and ``session.update`` merging."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InvalidEventError, UnsupportedFeatureError

DEFAULT_INSTRUCTIONS = (
    "You are the edgevoice offline assistant. You greet callers, book appointments "
    "and tell the time."
)
DEFAULT_VOICE = "joe"
MODEL_NAME = "edgevoice-local"

# Keys whose value replaces the old one wholesale on session.update (no deep merge).
_REPLACED_KEYS = frozenset(
    {"turn_detection", "transcription", "format", "tools", "noise_reduction"}
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AudioFormat(_Model):
    type: Literal["audio/pcm", "audio/pcmu", "audio/pcma"] = "audio/pcm"
    rate: Literal[24000] | None = None

    def wire(self) -> dict[str, Any]:
        if self.type == "audio/pcm":
            return {"type": self.type, "rate": 24000}
        return {"type": self.type}


class ServerVad(_Model):
    type: Literal["server_vad"] = "server_vad"
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    prefix_padding_ms: int = Field(default=300, ge=0, le=5000)
    silence_duration_ms: int = Field(default=500, ge=0, le=10000)
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = None


class SemanticVad(_Model):
    type: Literal["semantic_vad"] = "semantic_vad"
    eagerness: Literal["low", "medium", "high", "auto"] = "auto"
    create_response: bool = True
    interrupt_response: bool = True

    def as_server_vad(self) -> ServerVad:
        """The offline server approximates semantic VAD with a silence length per eagerness."""
        silence = {"low": 900, "medium": 600, "auto": 600, "high": 300}[self.eagerness]
        return ServerVad(
            silence_duration_ms=silence,
            create_response=self.create_response,
            interrupt_response=self.interrupt_response,
        )


TurnDetection = Annotated[ServerVad | SemanticVad, Field(discriminator="type")]


class Transcription(_Model):
    model: str = "pocketsphinx-en-us"
    language: str | None = None
    prompt: str | None = None


class AudioInput(_Model):
    format: AudioFormat = AudioFormat()
    transcription: Transcription | None = None
    turn_detection: TurnDetection | None = ServerVad()
    noise_reduction: None = None


class AudioOutput(_Model):
    format: AudioFormat = AudioFormat()
    voice: str = DEFAULT_VOICE
    speed: float = Field(default=1.0, ge=0.25, le=4.0)

    @field_validator("voice", mode="before")
    @classmethod
    def _voice_id(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            return value["id"]
        return value


class AudioConfig(_Model):
    input: AudioInput = AudioInput()
    output: AudioOutput = AudioOutput()


class FunctionTool(_Model):
    type: Literal["function"] = "function"
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class SessionConfig(_Model):
    type: Literal["realtime"] = "realtime"
    model: str = MODEL_NAME
    instructions: str = DEFAULT_INSTRUCTIONS
    output_modalities: list[Literal["audio", "text"]] = ["audio"]
    audio: AudioConfig = AudioConfig()
    tools: list[FunctionTool] = []
    tool_choice: str | dict[str, Any] = "auto"
    max_output_tokens: int | Literal["inf"] = "inf"

    @property
    def server_vad(self) -> ServerVad | None:
        detection = self.audio.input.turn_detection
        if isinstance(detection, SemanticVad):
            return detection.as_server_vad()
        return detection

    @property
    def tool_names(self) -> frozenset[str]:
        if self.tool_choice == "none":
            return frozenset()
        return frozenset(tool.name for tool in self.tools)

    def wire(self) -> dict[str, Any]:
        """The session object as sent in session.created / session.updated."""
        data = self.model_dump(mode="json")
        data["audio"]["input"]["format"] = self.audio.input.format.wire()
        data["audio"]["output"]["format"] = self.audio.output.format.wire()
        data.update(tracing=None, truncation="auto", prompt=None, include=None)
        return data


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into ``base`` (pure); keys in ``_REPLACED_KEYS`` are replaced whole."""
    merged = dict(base)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and key not in _REPLACED_KEYS:
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def apply_update(current: SessionConfig, patch: dict[str, Any]) -> SessionConfig:
    """Return the session after a ``session.update`` with ``patch``; raise a RealtimeError."""
    kind = patch.get("type", "realtime")
    if kind != "realtime":
        raise UnsupportedFeatureError(
            f"session type {kind!r} is not supported by the offline model server",
            param="session.type",
        )
    for index, tool in enumerate(patch.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise UnsupportedFeatureError(
                "only function tools are supported", param=f"session.tools[{index}]"
            )
    merged = deep_merge(current.model_dump(mode="json"), patch)
    try:
        return SessionConfig.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidEventError(
            f"invalid session field {where}: {first['msg']}",
            code="invalid_value",
            param=f"session.{where}",
        ) from exc
