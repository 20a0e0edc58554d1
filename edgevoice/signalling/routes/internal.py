"""A node's internal API: what ``cluster.remote.RemoteNodeClient`` calls.

Every route needs the cluster secret as Bearer token; the routes translate HTTP onto
the in-process ``LocalNodeClient`` and nothing else, so a session behaves the same
whether the control plane is in the node's process or another one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from ...cluster.local import LocalNodeClient
from ...cluster.nodeapi import settings_from_json
from ...cluster.remote import INTERNAL_PREFIX
from ...sfu.listen import Feed
from ...sfu.sdp import IceCredentials
from .. import auth
from ..errors import NotFound, Unauthorized


def require_cluster_secret(request: Request) -> None:
    expected = request.app.state.settings.cluster_secret
    token = auth.bearer_token(request.headers.get("authorization"))
    if not expected or not auth.same_secret(token, expected):
        raise Unauthorized("the internal API needs the cluster secret as Bearer token")


router = APIRouter(
    prefix=INTERNAL_PREFIX + "/sessions",
    include_in_schema=False,
    dependencies=[Depends(require_cluster_secret)],
)


def _client(request: Request) -> LocalNodeClient:
    client: LocalNodeClient = request.app.state.local_client
    return client


class CallerOffer(BaseModel):
    settings: dict[str, Any]
    offer: str = Field(max_length=256 * 1024)


class Candidates(BaseModel):
    candidates: list[tuple[str | None, str]] = Field(max_length=256)
    ufrag: str | None = Field(None, max_length=256)
    pwd: str | None = Field(None, max_length=256)

    @property
    def ice(self) -> IceCredentials:
        return IceCredentials(self.ufrag, self.pwd)


class End(BaseModel):
    reason: str = Field("deleted", max_length=200)


class ListenerOffer(BaseModel):
    offer: str = Field(max_length=256 * 1024)
    track: Feed | None = None


@router.post("/{session_id}/caller")
async def caller(session_id: str, body: CallerOffer, request: Request) -> dict[str, str]:
    answer = await _client(request).answer(
        session_id, settings_from_json(body.settings), body.offer
    )
    return {"answer": answer}


@router.post("/{session_id}/candidates")
async def candidates(session_id: str, body: Candidates, request: Request) -> dict[str, int]:
    added = await _client(request).patch(session_id, tuple(body.candidates), body.ice)
    return {"added": added}


@router.post("/{session_id}/end")
async def end(session_id: str, body: End, request: Request) -> dict[str, bool]:
    return {"ended": await _client(request).delete(session_id, body.reason)}


@router.post("/{session_id}/listeners")
async def listen(session_id: str, body: ListenerOffer, request: Request) -> dict[str, str]:
    listener_id, answer = await _client(request).listen(session_id, body.offer, body.track)
    return {"listener_id": listener_id, "answer": answer}


@router.post("/{session_id}/listeners/{listener_id}/candidates")
async def listener_candidates(
    session_id: str, listener_id: str, body: Candidates, request: Request
) -> dict[str, int]:
    client = _client(request)
    added = await client.listener_patch(session_id, listener_id, tuple(body.candidates), body.ice)
    return {"added": added}


@router.delete("/{session_id}/listeners/{listener_id}")
async def unlisten(session_id: str, listener_id: str, request: Request) -> Response:
    if not await _client(request).unlisten(session_id, listener_id):
        raise NotFound("no such listener")
    return Response(status_code=204)


@router.get("/{session_id}")
async def stats(session_id: str, request: Request) -> dict[str, Any]:
    live = await _client(request).stats(session_id)
    if live is None:
        raise NotFound(f"session {session_id} is not live on this node")
    return live
