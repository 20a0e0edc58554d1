"""Pure decisions for the keyless demo endpoint: who may use it, with what, how often.

The endpoint hands out sessions without the API key, so it is narrow on purpose:

- **On by default only for a loopback bind**, and then only for loopback clients that
  did not come through a proxy: a request carrying ``Forwarded``/``X-Forwarded-For``/
  ``X-Real-IP`` came from somewhere else (a reverse proxy on 127.0.0.1 would otherwise
  make it public). ``--demo`` turns it on explicitly, for any client.
- **``Host`` must be a served name** (localhost, 127.0.0.1, ::1, the bind host, the
  public IP, the advertised URL's host, ``EDGEVOICE_DEMO_HOSTS``): a page on another
  site whose name resolves to this machine (DNS rebinding) gets 403.
- **Only ``model`` (echo or local), ``voice`` and where to place the call** (``region``,
  ``client_rtt_ms``): no remote model (a bill for the operator), no ``instructions``,
  ``tools`` or ``webhook_url`` (a readable SSRF).
- **Rate-limited per client**: a token bucket, 429 with ``Retry-After`` when empty.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import BadRequest, Forbidden, NotFound, Problem
from .settings import Settings, is_loopback

DEMO_MODELS = ("echo", "local")
DEMO_FIELDS = frozenset({"model", "voice", "region", "client_rtt_ms"})
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
DEMO_BURST = 5  # sessions a client may create at once
DEMO_REFILL_SECONDS = 12.0  # then one more every this many seconds (5 a minute)
MAX_CLIENTS_TRACKED = 10_000


def host_name(header: str | None) -> str:
    """The name in a ``Host`` header, without port or IPv6 brackets, lower case."""
    value = (header or "").strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def served_names(settings: Settings) -> set[str]:
    names = {"localhost", "127.0.0.1", "::1", *(h.lower() for h in settings.demo_hosts)}
    if settings.host not in ("0.0.0.0", "::", ""):
        names.add(settings.host.lower())
    if settings.public_ip:
        names.add(settings.public_ip.lower())
    if settings.advertise_url:
        names.add((urlsplit(settings.advertise_url).hostname or "").lower())
    return names


def demo_refusal(
    settings: Settings, client: str | None, headers: Mapping[str, str]
) -> Problem | None:
    """Why this request may not use the demo endpoint (a problem to answer), or None."""
    if not settings.demo_enabled:
        return NotFound("the demo endpoint is off on this server")
    name = host_name(headers.get("host"))
    if name not in served_names(settings):
        return Forbidden(
            f"Host {name or '(none)'!r} is not a name this server serves; the demo endpoint "
            "answers only its own names (add yours to EDGEVOICE_DEMO_HOSTS)"
        )
    if settings.demo is None:  # on only because the bind is loopback: local clients only
        # (uvicorn may already have put X-Forwarded-For's address in ``client``)
        forwarded = [h for h in FORWARDING_HEADERS if h in headers]
        if forwarded:
            return Forbidden(
                f"this request came through a proxy ({forwarded[0]}): the demo endpoint is "
                "local-only unless the server is started with --demo (EDGEVOICE_DEMO=true)"
            )
        if client is None or not is_loopback(client):
            return Forbidden("the demo endpoint answers only clients on this machine")
    return None


def client_key(client: str | None, headers: Mapping[str, str]) -> str:
    """Whom to rate-limit: the peer, or behind a proxy on this machine the address that
    proxy appended last to X-Forwarded-For (the one it saw; earlier ones are the client's
    own claims)."""
    peer = client or "unknown"
    if is_loopback(peer):
        forwarded = headers.get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return peer


def check_demo_body(body: Any, default_model: str) -> tuple[str, str | None]:
    """The (model, voice) a demo request may have, or BadRequest saying what is refused."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest('the demo endpoint takes a JSON object: {"model": …, "voice": …}')
    refused = sorted(set(body) - DEMO_FIELDS)
    if refused:
        raise BadRequest(
            "the demo endpoint takes only 'model' (echo or local), 'voice', 'region' and "
            "'client_rtt_ms'; refused: "
            + ", ".join(refused)
            + ". Create sessions with the API key (POST /v1/sessions) for everything else"
        )
    model = body.get("model")
    if model is None:
        model = default_model if default_model in DEMO_MODELS else "echo"
    if model not in DEMO_MODELS:
        raise BadRequest(
            f"the demo endpoint runs only the echo and local models, not {str(model)[:64]!r}"
        )
    voice = body.get("voice")
    if voice is not None and (not isinstance(voice, str) or len(voice) > 64):
        raise BadRequest("voice is a name of up to 64 characters")
    return model, voice


def demo_placement(body: Any) -> dict[str, Any]:
    """The placement fields of a demo request (``region``, ``client_rtt_ms``: what the
    page measured to each region's ping URL), checked; BadRequest saying what is wrong."""
    if not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {}
    region = body.get("region")
    if region is not None:
        if not isinstance(region, str) or not 0 < len(region) <= 64:
            raise BadRequest("region is a region name of 1 to 64 characters")
        out["region"] = region
    rtts = body.get("client_rtt_ms")
    if rtts is not None:
        if not isinstance(rtts, dict) or len(rtts) > 64:
            raise BadRequest('client_rtt_ms is an object of up to 64 regions: {"eu": 23.5}')
        for name, rtt in rtts.items():
            number = isinstance(rtt, (int, float)) and not isinstance(rtt, bool)
            if len(name) > 64 or not number or not 0 <= rtt <= 60_000:
                raise BadRequest(
                    "client_rtt_ms: each region's RTT is 0-60000 ms, names up to 64 "
                    f"characters; refused {name[:64]!r}"
                )
        out["client_rtt_ms"] = {name: float(rtt) for name, rtt in rtts.items()}
    return out


@dataclass
class Bucket:
    tokens: float
    at: float


def take(
    bucket: Bucket | None, now: float, burst: int, refill_seconds: float
) -> tuple[Bucket, float]:
    """Take one token: the bucket after, and 0 if allowed, else seconds until a token."""
    if bucket is None:
        bucket = Bucket(float(burst), now)
    tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.at) / refill_seconds)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), 0.0
    return Bucket(tokens, now), (1.0 - tokens) * refill_seconds


class RateLimiter:
    """Token buckets per client, the least recently seen forgotten past a bound."""

    def __init__(
        self,
        burst: int = DEMO_BURST,
        refill_seconds: float = DEMO_REFILL_SECONDS,
        max_clients: int = MAX_CLIENTS_TRACKED,
    ) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def wait(self, key: str, now: float) -> int:
        """0 if ``key`` may go now (a token is taken), else whole seconds to wait."""
        bucket, wait = take(self._buckets.pop(key, None), now, self.burst, self.refill_seconds)
        self._buckets[key] = bucket
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return 0 if wait == 0 else max(1, math.ceil(wait))
