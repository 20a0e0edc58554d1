"""ICE servers handed to clients, with TURN REST credentials (coturn ``use-auth-secret``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any


def turn_credentials(secret: str, user: str, expires_at: int) -> tuple[str, str]:
    """username = ``<expiry>:<user>``, credential = base64(HMAC-SHA1(secret, username))."""
    username = f"{expires_at}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(
    urls: list[str], turn_secret: str | None, user: str, expires_at: int
) -> list[dict[str, Any]]:
    """One entry per configured URL; TURN URLs get short-lived credentials."""
    servers: list[dict[str, Any]] = []
    for url in urls:
        entry: dict[str, Any] = {"urls": [url]}
        if url.startswith(("turn:", "turns:")) and turn_secret:
            entry["username"], entry["credential"] = turn_credentials(turn_secret, user, expires_at)
        servers.append(entry)
    return servers


def link_header(server: dict[str, Any]) -> str:
    """A WHIP ``Link`` header value for one ICE server (RFC 9725 section 4.6)."""
    url = server["urls"][0]
    value = f'<{url}>; rel="ice-server"'
    if "username" in server:
        value += (
            f'; username="{server["username"]}"; credential="{server["credential"]}"'
            '; credential-type="password"'
        )
    return value
