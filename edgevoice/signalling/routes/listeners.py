"""Listener tokens (API key): a supervisor's page listens over WHEP without the API key."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..http import require_api_key, service, tenant
from ..listeners import ListenerService
from ..schemas import CreateListener, ListenerGrant

router = APIRouter(
    prefix="/v1/sessions", tags=["listeners"], dependencies=[Depends(require_api_key)]
)


@router.post("/{session_id}/listeners", status_code=201, response_model=ListenerGrant)
async def create_listener(
    session_id: str, request: Request, body: CreateListener | None = None
) -> ListenerGrant:
    """A short-lived listener token and the session's WHEP URL, for a page to listen with."""
    ttl = (body or CreateListener()).ttl_seconds
    svc = service(request)
    await svc.owned(session_id, tenant(request))
    return await ListenerService(svc).mint(session_id, ttl, str(request.base_url))
