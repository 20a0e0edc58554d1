"""Configuration: environment variables (``EDGEVOICE_*``) overridden by CLI flags."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDGEVOICE_", extra="ignore")

    host: str = Field("127.0.0.1", description="HTTP bind address")
    port: int = Field(8080, description="HTTP port")
    api_key: str | None = Field(None, description="API key for /v1/sessions; generated if unset")
    model: str = Field("local", description="default model: echo, local or a realtime model name")
    rtc_ports: str | None = Field(None, description="UDP port range for media, e.g. 40000-40999")
    media_address: str | None = Field(
        None, description="address media binds to (default: the HTTP host if it is loopback)"
    )
    public_ip: str | None = Field(None, description="address announced in SDP answers (NAT)")
    ice_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="STUN/TURN URLs for clients (comma-separated)"
    )
    turn_secret: str | None = Field(None, description="TURN REST shared secret (coturn)")
    redis_url: str | None = Field(None, description="Redis URL; in-memory store when unset")
    max_sessions: int = Field(200, ge=1, description="live sessions this node accepts")
    session_ttl_seconds: int = Field(60, ge=5, le=3600, description="default client secret TTL")
    max_session_seconds: int = Field(3600, ge=10, description="longest a connected call lasts")
    connect_timeout: float = Field(
        15, gt=0, description="a caller whose media has not connected this long after its "
        "WHIP offer is ended (reason connect_timeout), freeing its slot, ports and model link"
    )  # fmt: skip
    max_body_bytes: int = Field(64 * 1024, description="largest accepted SDP body")
    max_json_bytes: int = Field(
        256 * 1024, ge=1024, description="largest accepted JSON body (POST /v1/sessions, ...)"
    )
    header_timeout_seconds: float = Field(
        10, gt=0, description="a connection that has not sent a request's headers this long "
        "after opening (or after its last response) gets 408 and is closed"
    )  # fmt: skip
    max_connections_per_client: int = Field(
        256, ge=0, description="open HTTP connections one address may hold (0: no limit; "
        "behind a reverse proxy every connection comes from the proxy)"
    )  # fmt: skip
    demo: bool | None = Field(None, description="demo session endpoint (default: on for loopback)")
    demo_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="more Host names the demo routes answer to (comma-separated; "
        "localhost, 127.0.0.1, the bind host and the advertised host always)",
    )
    realtime_url: str = Field("wss://api.openai.com/v1/realtime", description="realtime model URL")
    openai_api_key: str | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "EDGEVOICE_OPENAI_API_KEY"),
        description="key for the realtime model (server side only)",
    )
    local_model_url: str | None = Field(
        None, description="offline model server URL (serve starts one when unset)"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines as text or one JSON object each (with session_id)"
    )
    log_transcripts: bool = Field(
        False, description="allow transcript text in logs (off: never logged)"
    )
    # cluster ------------------------------------------------------------------
    region: str = Field("local", description="region of this node (placement prefers the "
                        "session's hinted region, else the signalling's own)")  # fmt: skip
    node_id: str | None = Field(None, description="this node's id (default: host-port)")
    advertise_url: str | None = Field(
        None, description="HTTP base URL clients reach this node at (default: from host/port)"
    )
    cluster_secret: str | None = Field(
        None, description="shared secret of the nodes' internal API (required in a cluster)"
    )
    drain_seconds: float = Field(
        300, ge=0, description="on SIGTERM a node lets live calls run this long, then ends them"
    )
    relay: str | None = Field(
        None, description="node: the relay's public IP:PORT, advertised in answers instead "
        "of the node's own sockets (edgevoice relay)"
    )  # fmt: skip
    nodes: str = Field("1", description="serve: node processes, a number or 'auto' (one per core)")

    @field_validator("ice_servers", "demo_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("nodes")
    @classmethod
    def _nodes(cls, value: str) -> str:
        if value != "auto" and not (value.isdigit() and int(value) >= 1):
            raise ValueError("nodes is a number of processes (1 or more) or 'auto'")
        return value

    @property
    def node_count(self) -> int:
        import os

        return (os.cpu_count() or 1) if self.nodes == "auto" else int(self.nodes)

    @property
    def demo_enabled(self) -> bool:
        return is_loopback(self.host) if self.demo is None else self.demo

    @property
    def effective_media_address(self) -> str | None:
        if self.media_address:
            return self.media_address
        return "127.0.0.1" if is_loopback(self.host) else None
