"""CORS for the routes a browser page calls from any origin: WHIP and WHEP.

Every answer on those paths carries these headers, errors included (a problem+json
detail must reach a cross-origin page, not "Failed to fetch"), and each route
answers its preflight. Credentials are Bearer tokens in a header, never cookies, so
``*`` is safe. Pure: the path rule and the header sets, tested directly.
"""

from __future__ import annotations

import re

# Eyevinn's WHIP client reads Access-Control-Allow-Methods of an OPTIONS answer (PATCH
# listed: it trickles) and sends its ETag back as an ``ETag`` request header.
EXPOSED = (
    "Location, ETag, Link, Accept-Post, Accept-Patch, Retry-After, WWW-Authenticate, "
    "Access-Control-Allow-Methods"
)
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, ETag"
MAX_AGE = "600"
_BROWSER_PATHS = re.compile(r"^/v1/(whip(/[^/]+)?|sessions/[^/]+/whep(/[^/]+)?)/?$")


def covers(path: str) -> bool:
    """Whether ``path`` is a WHIP or WHEP endpoint or resource (a browser's routes)."""
    return _BROWSER_PATHS.match(path) is not None


def headers() -> dict[str, str]:
    """The headers of every answer on a covered path."""
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}


def preflight(methods: str) -> dict[str, str]:
    """The answer to a preflight (``OPTIONS``) of a route allowing ``methods``."""
    return {
        **headers(),
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
    }
