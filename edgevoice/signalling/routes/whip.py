"""WHIP (RFC 9725) for callers and WHEP for listeners, callable from any origin.

Every route answers its CORS preflight, and every answer on these paths (errors too,
``problems.py``) carries the CORS headers of ``cors.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ...sfu.listen import parse_feed
from .. import auth, cors
from ..errors import BadRequest
from ..http import read_body, require_api_key, service
from ..listeners import ListenerService, is_listener_token
from ..turn import link_header

router = APIRouter(tags=["whip"])

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
ENDPOINT_METHODS = "POST, OPTIONS"
RESOURCE_METHODS = "PATCH, DELETE, OPTIONS"


def _preflight(methods: str, **extra: str) -> Response:
    return Response(status_code=204, headers={**cors.preflight(methods), **extra})


@router.options("/v1/whip", include_in_schema=False)
async def whip_options() -> Response:
    # PATCH is listed for clients that ask the endpoint what its resources take.
    return _preflight("POST, PATCH, DELETE, OPTIONS", **{"Accept-Post": SDP,
                      "Accept-Patch": SDPFRAG})  # fmt: skip


@router.post("/v1/whip", status_code=201, response_class=Response)
async def whip_post(request: Request) -> Response:
    """Post the caller's SDP offer with the session's client secret; get the answer."""
    offer = await read_body(request, SDP)
    svc = service(request)
    record, answer = await svc.whip_offer(request.headers.get("authorization"), offer)
    headers = {**cors.headers(), "Location": f"/v1/whip/{record.resource_id}",
               "ETag": record.etag or "", "Accept-Patch": SDPFRAG}  # fmt: skip
    response = Response(answer, status_code=201, media_type=SDP, headers=headers)
    for server in svc.ice_servers(record):
        response.headers.append("Link", link_header(server))
    return response


@router.options("/v1/whip/{resource_id}", include_in_schema=False)
async def resource_options(resource_id: str) -> Response:
    return _preflight(RESOURCE_METHODS, **{"Accept-Patch": SDPFRAG})


@router.patch("/v1/whip/{resource_id}", status_code=204, response_class=Response)
async def whip_patch(resource_id: str, request: Request) -> Response:
    """Trickle ICE candidates (204); an ICE restart (changed ufrag/pwd) is refused: 422."""
    fragment = await read_body(request, SDPFRAG)
    await service(request).whip_patch(
        resource_id,
        request.headers.get("authorization"),
        request.headers.get("if-match"),
        fragment,
    )
    return Response(status_code=204, headers=cors.headers())


@router.delete("/v1/whip/{resource_id}", response_class=Response)
async def whip_delete(resource_id: str, request: Request) -> Response:
    """End the session and release everything it held (200 again if it just ended)."""
    await service(request).whip_delete(resource_id, request.headers.get("authorization"))
    return Response(status_code=200, headers=cors.headers())


# WHEP --------------------------------------------------------------------------------
async def _listener_access(request: Request, session_id: str, *, starting: bool) -> None:
    """The API key, or a listener token of this session (``listeners.py``)."""
    token = auth.bearer_token(request.headers.get("authorization"))
    svc = service(request)
    if token is not None and is_listener_token(token):
        await ListenerService(svc).check_token(session_id, token, starting=starting)
    else:
        await svc.owned(session_id, await require_api_key(request))  # the tenant's session


@router.options("/v1/sessions/{session_id}/whep", include_in_schema=False)
async def whep_options(session_id: str) -> Response:
    return _preflight(ENDPOINT_METHODS, **{"Accept-Post": SDP})


@router.post("/v1/sessions/{session_id}/whep", status_code=201, response_class=Response)
async def whep_post(session_id: str, request: Request, track: str | None = None) -> Response:
    """A listener (WHEP; the API key or a listener token). One receiving audio section
    hears the conversation (caller and agent mixed), or one side with
    ``?track=caller|agent|mix``; two hear the caller and the agent; video is rejected."""
    await _listener_access(request, session_id, starting=True)
    try:
        feed = parse_feed(track)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    offer = await read_body(request, SDP)
    listener_id, answer, etag = await ListenerService(service(request)).offer(
        session_id, offer, feed
    )
    headers = {**cors.headers(), "Location": f"/v1/sessions/{session_id}/whep/{listener_id}",
               "ETag": etag, "Accept-Patch": SDPFRAG}  # fmt: skip
    return Response(answer, status_code=201, media_type=SDP, headers=headers)


@router.options("/v1/sessions/{session_id}/whep/{listener_id}", include_in_schema=False)
async def whep_resource_options(session_id: str, listener_id: str) -> Response:
    return _preflight(RESOURCE_METHODS, **{"Accept-Patch": SDPFRAG})


@router.patch(
    "/v1/sessions/{session_id}/whep/{listener_id}", status_code=204, response_class=Response
)
async def whep_patch(session_id: str, listener_id: str, request: Request) -> Response:
    """Trickle the listener's ICE candidates (204); an ICE restart is refused (422)."""
    await _listener_access(request, session_id, starting=False)
    fragment = await read_body(request, SDPFRAG)
    await ListenerService(service(request)).patch(
        session_id, listener_id, request.headers.get("if-match"), fragment
    )
    return Response(status_code=204, headers=cors.headers())


@router.delete("/v1/sessions/{session_id}/whep/{listener_id}", response_class=Response)
async def whep_delete(session_id: str, listener_id: str, request: Request) -> Response:
    """Stop listening (200 again for a listener that already left, lately)."""
    await _listener_access(request, session_id, starting=False)
    await ListenerService(service(request)).delete(session_id, listener_id)
    return Response(status_code=200, headers=cors.headers())
