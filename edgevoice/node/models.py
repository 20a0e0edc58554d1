"""Which model a session gets, by the name it asked for."""

from __future__ import annotations

from dataclasses import dataclass

from ..bridge.echo import EchoModel
from ..bridge.model import RealtimeModel, SessionSettings
from .errors import UnknownModel


@dataclass(frozen=True)
class ModelEndpoints:
    """Where the protocol models live; ``local_url`` is the offline model server."""

    realtime_url: str = "wss://api.openai.com/v1/realtime"
    api_key: str | None = None
    local_url: str | None = None


def check_model(name: str, endpoints: ModelEndpoints) -> None:
    """Raise UnknownModel (with what to do about it) unless ``name`` can run here."""
    if name == "echo":
        return
    if not _client_available():
        raise UnknownModel(f"model {name!r} needs the realtime protocol client; use 'echo'")
    if name == "local" and endpoints.local_url is None:
        raise UnknownModel("the offline model server is not running on this node")
    if name != "local" and endpoints.api_key is None:
        raise UnknownModel(
            f"unknown model {name!r}: this server has no OPENAI_API_KEY, so only 'echo' and "
            "'local' are available (set OPENAI_API_KEY, and EDGEVOICE_REALTIME_URL for a "
            "compatible server, to use a realtime model)"
        )


def _client_available() -> bool:
    try:
        from ..bridge import realtime_client  # noqa: F401
    except ImportError:
        return False
    return True


def make_model(
    settings: SessionSettings, endpoints: ModelEndpoints, session_id: str
) -> RealtimeModel:
    check_model(settings.model, endpoints)
    if settings.model == "echo":
        return EchoModel()
    from ..bridge.g711 import AudioFormat
    from ..bridge.realtime_client import RealtimeClient
    from ..bridge.tools import ToolRunner

    tools = ToolRunner(settings.webhook_url, session_id)
    if settings.model == "local":
        assert endpoints.local_url is not None
        url, key = endpoints.local_url, None
    else:
        url, key = endpoints.realtime_url, endpoints.api_key
    audio_format: AudioFormat = "pcmu" if settings.audio_format == "pcmu" else "pcm16"
    model: RealtimeModel = RealtimeClient(
        url, settings, api_key=key, tools=tools, audio_format=audio_format
    )
    return model
