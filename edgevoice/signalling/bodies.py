"""Request bodies at the door: every JSON endpoint's body is size-limited (413), must
say it is JSON (415), and may not nest deeper than ``limits.MAX_JSON_DEPTH`` or use
NaN/Infinity (400), all checked before FastAPI parses it.

The SDP routes (WHIP, WHEP, trickle) read their own bodies with their own type and
limit (``http.read_body``); every other body-carrying request is a JSON one.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..cluster.remote import INTERNAL_PREFIX
from .errors import BadRequest, Problem, TooLarge, UnsupportedMediaType
from .limits import MAX_JSON_DEPTH, json_shape
from .problems import problem_response
from .settings import Settings

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SDP_ROUTES = re.compile(r"^/v1/whip(/[^/]+)?/?$|^/v1/sessions/[^/]+/whep(/[^/]+)?/?$")


def is_sdp_route(path: str) -> bool:
    return bool(_SDP_ROUTES.match(path))


def is_json_type(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def json_limit(path: str, settings: Settings) -> int:
    """The body limit of a JSON route: the public limit, or for a node's internal API
    (a caller's offer inside the session's settings) room for an SDP body as well."""
    if path.startswith(INTERNAL_PREFIX):
        return settings.max_json_bytes + 4 * settings.max_body_bytes
    return settings.max_json_bytes


def body_problem(content_type: str | None, body: bytes) -> Problem | None:
    """What is wrong with a JSON route's (complete, within-limit) body, if anything."""
    if not body.strip():
        return None  # no body: the route decides whether it needs one
    if not is_json_type(content_type):
        given = (content_type or "").split(";")[0].strip() or "no Content-Type"
        return UnsupportedMediaType(
            f"this endpoint takes a JSON body with 'Content-Type: application/json', got {given}"
        )
    depth, nonstandard = json_shape(body)
    if depth > MAX_JSON_DEPTH:
        return BadRequest(f"the JSON body nests {depth} levels deep; at most {MAX_JSON_DEPTH}")
    if nonstandard:
        return BadRequest("the JSON body uses NaN or Infinity, which JSON does not have")
    return None


async def _read(receive: Receive, limit: int) -> tuple[bytes, Message | None, bool]:
    """The body (up to ``limit``), a disconnect message if one came, whether it was over."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message, False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", None, True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None, False


class BodyLimits:
    """ASGI middleware applying ``body_problem`` and the size limit to JSON routes."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or is_sdp_route(path):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = json_limit(path, self.settings)
        declared = headers.get("content-length", "")
        problem: Problem | None = None
        body, disconnect = b"", None
        if declared.isdigit() and int(declared) > limit:
            problem = TooLarge(f"body of {declared} bytes is over the {limit}-byte limit")
        else:
            body, disconnect, over = await _read(receive, limit)
            if over:
                problem = TooLarge(f"body is over the {limit}-byte limit")
            else:
                problem = body_problem(headers.get("content-type"), body)
        if problem is not None:
            response = problem_response(
                problem.status, problem.title, problem.detail, path, problem.headers
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if disconnect is not None:
                    return disconnect
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
