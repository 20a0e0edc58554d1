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


def make_model(settings: SessionSettings, endpoints: ModelEndpoints) -> RealtimeModel:
    if settings.model == "echo":
        return EchoModel()
    try:
        from ..bridge.realtime_client import RealtimeClient
    except ImportError as exc:  # the protocol client is not part of this build
        raise UnknownModel(f"model {settings.model!r} needs the realtime client") from exc
    if settings.model == "local":
        if endpoints.local_url is None:
            raise UnknownModel("the offline model server is not running on this node")
        return RealtimeClient(endpoints.local_url, settings, api_key=None)
    if endpoints.api_key is None:
        raise UnknownModel(
            f"model {settings.model!r} needs OPENAI_API_KEY (or EDGEVOICE_REALTIME_URL "
            "pointing at a compatible server)"
        )
    return RealtimeClient(endpoints.realtime_url, settings, api_key=endpoints.api_key)
