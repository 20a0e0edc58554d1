"""Pure decisions about credentials: API keys, client secrets, bearer headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "evs_"
API_KEY_PREFIX = "evk_"


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_client_secret() -> str:
    """A single-purpose session secret: 192 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(24)


def new_resource_id() -> str:
    """An unguessable id for a WHIP/WHEP resource URL (128 random bits)."""
    return secrets.token_urlsafe(16)


def hash_secret(secret: str) -> str:
    """Only this hash is stored; a leaked store does not leak usable secrets."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
