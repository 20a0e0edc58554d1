"""WHIP (RFC 9725) for callers and WHEP for listeners."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from ..http import read_body, require_api_key, service
from ..turn import link_header

router = APIRouter(tags=["whip"])

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, Link, ETag",
}


@router.options("/v1/whip", include_in_schema=False)
async def whip_options() -> Response:
    return Response(
        status_code=204,
        headers={**CORS, "Access-Control-Allow-Methods": "POST, OPTIONS", "Accept-Post": SDP},
    )


@router.post("/v1/whip", status_code=201, response_class=Response)
async def whip_post(request: Request) -> Response:
    """Post the caller's SDP offer with the session's client secret; get the answer."""
    offer = await read_body(request, SDP)
    svc = service(request)
    record, answer = await svc.whip_offer(request.headers.get("authorization"), offer)
    headers = {**CORS, "Location": f"/v1/whip/{record.resource_id}", "ETag": record.etag or ""}
    response = Response(answer, status_code=201, media_type=SDP, headers=headers)
    for server in svc.ice_servers(record):
        response.headers.append("Link", link_header(server))
    return response


@router.options("/v1/whip/{resource_id}", include_in_schema=False)
async def resource_options(resource_id: str) -> Response:
    return Response(
        status_code=204,
        headers={**CORS, "Access-Control-Allow-Methods": "PATCH, DELETE, OPTIONS",
                 "Accept-Patch": SDPFRAG},
    )  # fmt: skip


@router.patch("/v1/whip/{resource_id}", status_code=204, response_class=Response)
async def whip_patch(resource_id: str, request: Request) -> Response:
    """Trickle ICE candidates (204); an ICE restart is refused with 422."""
    fragment = await read_body(request, SDPFRAG)
    await service(request).whip_patch(
        resource_id,
        request.headers.get("authorization"),
        request.headers.get("if-match"),
        fragment,
    )
    return Response(status_code=204, headers=CORS)


@router.delete("/v1/whip/{resource_id}", response_class=Response)
async def whip_delete(resource_id: str, request: Request) -> Response:
    """End the session and release everything it held."""
    await service(request).whip_delete(resource_id, request.headers.get("authorization"))
    return Response(status_code=200, headers=CORS)


@router.post(
    "/v1/sessions/{session_id}/whep",
    status_code=201,
    response_class=Response,
    dependencies=[Depends(require_api_key)],
)
async def whep_post(session_id: str, request: Request) -> Response:
    """A listener (WHEP, API key) hears the caller on its first audio section and the
    agent on its second."""
    offer = await read_body(request, SDP)
    listener_id, answer = await service(request).whep_offer(session_id, offer)
    headers = {**CORS, "Location": f"/v1/sessions/{session_id}/whep/{listener_id}"}
    return Response(answer, status_code=201, media_type=SDP, headers=headers)


@router.delete(
    "/v1/sessions/{session_id}/whep/{listener_id}",
    response_class=Response,
    dependencies=[Depends(require_api_key)],
)
async def whep_delete(session_id: str, listener_id: str, request: Request) -> Response:
    await service(request).whep_delete(session_id, listener_id)
    return Response(status_code=200, headers=CORS)
