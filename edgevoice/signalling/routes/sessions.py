"""Session API for the customer's backend (API key): create, inspect, end, follow."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ..http import require_api_key, service, tenant
from ..schemas import CreateSession, SessionCreated

router = APIRouter(
    prefix="/v1/sessions", tags=["sessions"], dependencies=[Depends(require_api_key)]
)


@router.post("", status_code=201, response_model=SessionCreated)
async def create_session(body: CreateSession, request: Request) -> SessionCreated:
    """Create a session; the client secret goes to the browser, the API key never does."""
    return await service(request).create(body, str(request.base_url), tenant(request))


@router.get("/{session_id}")
async def get_session(session_id: str, request: Request) -> dict[str, object]:
    """State, timestamps, per-track figures, RTT, jitter, loss, per-hop latency, transcript."""
    svc = service(request)
    await svc.owned(session_id, tenant(request))
    return await svc.describe(session_id)


@router.delete("/{session_id}", status_code=204)
async def delete_session(session_id: str, request: Request) -> Response:
    svc = service(request)
    await svc.owned(session_id, tenant(request))
    await svc.delete(session_id)
    return Response(status_code=204)


@router.get("/{session_id}/events")
async def session_events(session_id: str, request: Request) -> StreamingResponse:
    """Server-sent events: transcripts, state changes, latency figures, errors."""
    svc = service(request)
    await svc.owned(session_id, tenant(request))
    events = await svc.events(session_id)

    async def stream() -> AsyncIterator[str]:
        yield ": edgevoice session events\n\n"
        async for event in events:
            yield f"id: {event['seq']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
