"""Small request helpers shared by the routes: API key, SDP bodies, the service."""

from __future__ import annotations

from fastapi import Request

from . import auth
from .errors import BadRequest, Forbidden, TooLarge, Unauthorized, UnsupportedMediaType
from .keys import DEFAULT_TENANT
from .service import SessionService


def service(request: Request) -> SessionService:
    svc: SessionService = request.app.state.service
    return svc


async def require_api_key(request: Request) -> str:
    """Dependency: an API key as Bearer token; the tenant it belongs to (also kept in
    ``request.state.tenant``). ``EDGEVOICE_API_KEY`` is the default tenant's key."""
    token = auth.bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized("missing 'Authorization: Bearer <API key>' header")
    svc = service(request)
    tenant: str | None = None
    if svc.settings.api_key and auth.same_secret(token, svc.settings.api_key):
        tenant = DEFAULT_TENANT
    elif token.startswith(auth.API_KEY_PREFIX):
        tenant = await svc.keys.tenant_of(token)
    if tenant is None:
        raise Unauthorized("wrong API key")
    request.state.tenant = tenant
    return tenant


async def require_operator(request: Request) -> None:
    """Dependency: the operator's key (``EDGEVOICE_API_KEY``, the default tenant): the
    cluster-wide views (nodes, dashboard, probes) are not any one customer's business."""
    if await require_api_key(request) != DEFAULT_TENANT:
        raise Forbidden("this is the operator's view: use EDGEVOICE_API_KEY, not a tenant key")


def tenant(request: Request) -> str:
    """The tenant ``require_api_key`` found for this request."""
    found: str = request.state.tenant
    return found


async def read_body(request: Request, content_type: str) -> str:
    """The body as text, if it has ``content_type`` and fits the size limit."""
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given != content_type:
        raise UnsupportedMediaType(f"Content-Type must be {content_type}, got {given or 'nothing'}")
    limit = service(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("body is not UTF-8 text") from exc
