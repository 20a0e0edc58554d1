"""What the two peer servers share: loopback-only ICE and the bench's API subset.

The bench drives every server through the same few calls: ``POST /v1/sessions`` (API
key) → ``{id, client_secret.value, whip_url}``, a WHIP ``POST`` with the client secret
→ ``201`` + ``Location``, ``DELETE`` on that resource, ``GET /v1/sessions/{id}`` and
``GET /healthz``. This module keeps the sessions and checks the tokens; each server
supplies the media.
"""

from __future__ import annotations

import argparse
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import uvicorn
from fastapi import FastAPI, HTTPException, Request

API_KEY = os.environ.get("EDGEVOICE_API_KEY", "evk_bench_key")


def loopback_only() -> None:
    """Gather ICE host candidates on 127.0.0.1 only (no other interface, no STUN)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


@dataclass
class BenchSession:
    id: str
    secret: str
    media: Any = None  # the server's per-session state
    extra: dict[str, Any] = field(default_factory=dict)


class Sessions:
    def __init__(self) -> None:
        self.by_id: dict[str, BenchSession] = {}

    def create(self) -> BenchSession:
        session = BenchSession("sess_" + secrets.token_hex(8), "cs_" + secrets.token_urlsafe(16))
        self.by_id[session.id] = session
        return session

    def by_secret(self, request: Request) -> BenchSession:
        token = _bearer(request)
        for session in self.by_id.values():
            if secrets.compare_digest(session.secret, token):
                return session
        raise HTTPException(401, "unknown client secret")

    def get(self, session_id: str) -> BenchSession:
        session = self.by_id.get(session_id)
        if session is None:
            raise HTTPException(404, f"no session {session_id}")
        return session


def require_api_key(request: Request) -> None:
    if not secrets.compare_digest(_bearer(request), API_KEY):
        raise HTTPException(401, "bad API key")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise HTTPException(401, "missing bearer token")
    return header[7:].strip()


def session_routes(app: FastAPI, sessions: Sessions) -> None:
    """``/healthz`` and ``POST /v1/sessions``; the servers add WHIP and stats."""

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/sessions", status_code=201)
    async def create(request: Request) -> dict[str, Any]:
        require_api_key(request)
        session = sessions.create()
        base = str(request.base_url).rstrip("/")
        return {
            "id": session.id,
            "client_secret": {"value": session.secret},
            "whip_url": base + "/v1/whip",
        }


async def describe_caller(session_id: str, pc: Any | None) -> dict[str, Any]:
    """``GET /v1/sessions/{id}``'s subset: the caller's frames and loss, from aiortc."""
    caller: dict[str, Any] = {"frames": 0, "lost": 0, "late": 0}
    if pc is not None:
        for stat in (await pc.getStats()).values():
            if stat.type == "inbound-rtp":
                caller = {"frames": stat.packetsReceived, "lost": max(0, stat.packetsLost),
                          "late": 0}  # fmt: skip
    return {"id": session_id, "stats": {"tracks": {"caller_audio": caller}}}


def serve(app: FastAPI, description: str | None, default_port: int) -> None:
    """The command line of a peer server: ``--host``, ``--port``; loopback media only."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    loopback_only()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
