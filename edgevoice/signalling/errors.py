"""Errors of the control plane, each one an RFC 9457 problem.

Taxonomy (status → class):
- 400 ``BadRequest`` — malformed body, SDP without Opus audio, unknown model.
- 401 ``Unauthorized`` — missing, wrong or expired API key / client secret.
- 403 ``Forbidden`` — the demo endpoint refuses this client or ``Host``; a tenant key on
  an operator view (nodes, dashboard, probes).
- 404 ``NotFound`` — no such session or resource (or it has ended).
- 409 ``Conflict`` — the session is already connected (one caller per session).
- 412 ``PreconditionFailed`` / 428 ``PreconditionRequired`` — ETag checks on PATCH.
- 413 ``TooLarge`` — body over the limit.
- 415 ``UnsupportedMediaType`` — wrong Content-Type.
- 422 ``Unprocessable`` — understood but not supported (ICE restart).
- 429 ``TooManyRequests`` — a client over its rate (the demo endpoint); ``Retry-After`` set.
- 503 ``Unavailable`` — at capacity or the model is unreachable; ``Retry-After`` set;
  the only retryable one.
Lower planes' errors are mapped onto these in ``problems.py``.
"""

from __future__ import annotations


class Problem(Exception):
    status = 500
    title = "Internal Server Error"
    retryable = False

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        if cause is not None:
            self.__cause__ = cause


class BadRequest(Problem):
    status, title = 400, "Bad Request"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="edgevoice"'})


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class NotFound(Problem):
    status, title = 404, "Not Found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class PreconditionFailed(Problem):
    status, title = 412, "Precondition Failed"


class TooLarge(Problem):
    status, title = 413, "Content Too Large"


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported Media Type"


class Unprocessable(Problem):
    status, title = 422, "Unprocessable Content"


class PreconditionRequired(Problem):
    status, title = 428, "Precondition Required"


class TooManyRequests(Problem):
    status, title = 429, "Too Many Requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class Unavailable(Problem):
    status, title = 503, "Service Unavailable"
    retryable = True

    def __init__(
        self, detail: str, retry_after: int = 5, cause: BaseException | None = None
    ) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, cause=cause)
