"""RFC 9457 problem+json responses, and the mapping of every error onto one.

Answers on WHIP/WHEP paths carry CORS headers (``cors.py``), so a cross-origin page
reads the detail; every 4xx answer is logged (method, path, status, detail).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..bridge.errors import BridgeError
from ..cluster.errors import ClusterError, NoCapacity, NodeUnreachable, RemoteProblem
from ..node.errors import AtCapacity, NodeError, UnknownCall, UnknownModel
from ..sfu.errors import (
    CallStateError,
    IceRestartRefused,
    MediaError,
    OfferError,
    PortsExhausted,
    UnknownListener,
)
from . import cors
from .errors import (
    BadRequest,
    Conflict,
    NotFound,
    Problem,
    Unavailable,
    Unprocessable,
)

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int, title: str, detail: str, instance: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": instance}  # fmt: skip
    if cors.covers(instance):
        headers = {**(headers or {}), **cors.headers()}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def log_client_error(request: Request, status: int, detail: str) -> None:
    """4xx answers are the client's to fix, but an operator asks why a client failed."""
    if 400 <= status < 500:
        log.info("%s %s -> %d: %s", request.method, request.url.path, status, detail)


def as_problem(exc: BaseException) -> Problem:
    """Map an error of any plane onto the HTTP problem a client should see."""
    match exc:
        case Problem():
            return exc
        case RemoteProblem():
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            problem = Problem(exc.detail, headers=headers, cause=exc)
            problem.status, problem.title = exc.status, exc.title
            return problem
        case RedisConnectionError() | RedisTimeoutError():
            return Unavailable(
                "the cluster's store (Redis) cannot be reached; live calls go on, new "
                "sessions wait for it",
                retry_after=2,
                cause=exc,
            )
        case NoCapacity():
            return Unavailable(str(exc), retry_after=exc.retry_after, cause=exc)
        case NodeUnreachable():
            return Unavailable(f"{exc}; try again shortly", retry_after=2, cause=exc)
        case AtCapacity():
            return Unavailable(str(exc), retry_after=exc.retry_after, cause=exc)
        case PortsExhausted():
            return Unavailable(f"{exc}; try again shortly", retry_after=2, cause=exc)
        case IceRestartRefused():
            return Unprocessable(str(exc), cause=exc)
        case UnknownListener():
            return NotFound(str(exc), cause=exc)
        case OfferError():
            return BadRequest(str(exc), cause=exc)
        case CallStateError():
            return Conflict(str(exc), cause=exc)
        case UnknownCall():
            return NotFound(str(exc), cause=exc)
        case UnknownModel():
            return BadRequest(str(exc), cause=exc)
        case BridgeError() if exc.retryable:
            return Unavailable(f"the model could not be reached: {exc}", cause=exc)
        case BridgeError() | MediaError():
            return BadRequest(str(exc), cause=exc)
    return Problem("an unexpected error occurred; it has been logged", cause=exc)


def install(app: FastAPI) -> None:
    async def _known(request: Request, exc: Exception) -> JSONResponse:
        problem = as_problem(exc)
        if type(problem) is Problem and not isinstance(exc, RemoteProblem):
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        log_client_error(request, problem.status, problem.detail)
        return problem_response(
            problem.status, problem.title, problem.detail, request.url.path, problem.headers
        )

    # Known errors of every plane answer here; anything else reaches the Exception
    # handler (same body), which Starlette runs last and then logs.
    for cls in (Problem, MediaError, NodeError, BridgeError, ClusterError, RedisError, Exception):
        app.add_exception_handler(cls, _known)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404:
            detail = f"no route {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
        log_client_error(request, exc.status_code, detail)
        return problem_response(
            exc.status_code, title, detail, request.url.path, dict(exc.headers or {})
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        detail = "invalid request: " + "; ".join(parts)
        log_client_error(request, 400, detail)
        return problem_response(400, "Bad Request", detail, request.url.path)
