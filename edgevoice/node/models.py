"""Which model a session gets, by the name it asked for."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..bridge.echo import EchoModel
from ..bridge.model import RealtimeModel, SessionSettings
from ..bridge.webhooks import WebhookPolicy
from .errors import UnknownModel


def webhook_policy_from_env() -> WebhookPolicy:
    """EDGEVOICE_WEBHOOK_ALLOW (hosts/CIDRs) and EDGEVOICE_WEBHOOK_SECRET."""
    return WebhookPolicy.parse(
        os.environ.get("EDGEVOICE_WEBHOOK_ALLOW"), os.environ.get("EDGEVOICE_WEBHOOK_SECRET")
    )


def local_key_from_env() -> str | None:
    """EDGEVOICE_LOCAL_MODEL_KEY: the offline model server's key (``model-server`` reads it too)."""
    return os.environ.get("EDGEVOICE_LOCAL_MODEL_KEY") or None


@dataclass(frozen=True)
class ModelEndpoints:
    """Where the protocol models live; ``local_url`` is the offline model server, which
    takes ``local_key`` when it was started with one; ``webhooks`` says where tool
    webhooks may point and signs them."""

    realtime_url: str = "wss://api.openai.com/v1/realtime"
    api_key: str | None = None
    local_url: str | None = None
    local_key: str | None = field(default_factory=local_key_from_env, repr=False)
    webhooks: WebhookPolicy = field(default_factory=webhook_policy_from_env, repr=False)


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
    from ..bridge.tools import ToolRunner, declared_names

    tools = ToolRunner(
        settings.webhook_url,
        session_id,
        declared=declared_names(settings.tools),
        policy=endpoints.webhooks,
    )
    if settings.model == "local":
        assert endpoints.local_url is not None
        url, key = endpoints.local_url, endpoints.local_key
    else:
        url, key = endpoints.realtime_url, endpoints.api_key
    audio_format: AudioFormat = "pcmu" if settings.audio_format == "pcmu" else "pcm16"
    model: RealtimeModel = RealtimeClient(
        url, settings, api_key=key, tools=tools, audio_format=audio_format
    )
    return model
