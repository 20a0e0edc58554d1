"""The node interface over a node's internal HTTP API, authenticated with the cluster
secret (``EDGEVOICE_CLUSTER_SECRET``). The routes it calls are in
``signalling/routes/internal.py``; a node's errors come back as ``RemoteProblem``
with the node's own status and detail, so a client sees the same problem either way.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..bridge.model import SessionSettings
from ..sfu.listen import Feed
from ..sfu.sdp import IceCredentials
from .errors import NodeUnreachable, RemoteProblem
from .nodeapi import Candidate, settings_to_json

INTERNAL_PREFIX = "/internal/v1"
# Answering an offer gathers candidates and starts the model link: give it time.
TIMEOUT = httpx.Timeout(15.0, connect=2.0)


class RemoteNodeClient:
    def __init__(self, node_id: str, url: str, secret: str, http: httpx.AsyncClient) -> None:
        self.node_id = node_id
        self._base = url.rstrip("/") + INTERNAL_PREFIX
        self._headers = {"Authorization": f"Bearer {secret}"}
        self._http = http

    async def _call(
        self, method: str, path: str, json: dict[str, Any] | None = None, ok404: bool = False
    ) -> httpx.Response | None:
        try:
            response = await self._http.request(
                method, self._base + path, json=json, headers=self._headers, timeout=TIMEOUT
            )
        except httpx.TransportError as exc:
            raise NodeUnreachable(self.node_id, exc) from exc
        if response.status_code == 404 and ok404:
            return None
        if response.status_code >= 400:
            raise _problem(response)
        return response

    async def answer(self, session_id: str, settings: SessionSettings, offer: str) -> str:
        body = {"settings": settings_to_json(settings), "offer": offer}
        response = await self._call("POST", f"/sessions/{session_id}/caller", body)
        assert response is not None
        return str(response.json()["answer"])

    async def patch(
        self, session_id: str, candidates: tuple[Candidate, ...], ice: IceCredentials
    ) -> int:
        body = _trickle_body(candidates, ice)
        response = await self._call("POST", f"/sessions/{session_id}/candidates", body)
        assert response is not None
        return int(response.json()["added"])

    async def delete(self, session_id: str, reason: str) -> bool:
        response = await self._call("POST", f"/sessions/{session_id}/end", {"reason": reason})
        assert response is not None
        return bool(response.json()["ended"])

    async def listen(self, session_id: str, offer: str, feed: Feed | None) -> tuple[str, str]:
        body = {"offer": offer, "track": None if feed is None else feed.value}
        response = await self._call("POST", f"/sessions/{session_id}/listeners", body)
        assert response is not None
        data = response.json()
        return str(data["listener_id"]), str(data["answer"])

    async def listener_patch(
        self,
        session_id: str,
        listener_id: str,
        candidates: tuple[Candidate, ...],
        ice: IceCredentials,
    ) -> int:
        path = f"/sessions/{session_id}/listeners/{listener_id}/candidates"
        response = await self._call("POST", path, _trickle_body(candidates, ice))
        assert response is not None
        return int(response.json()["added"])

    async def unlisten(self, session_id: str, listener_id: str) -> bool:
        response = await self._call(
            "DELETE", f"/sessions/{session_id}/listeners/{listener_id}", ok404=True
        )
        return response is not None

    async def stats(self, session_id: str) -> dict[str, Any] | None:
        response = await self._call("GET", f"/sessions/{session_id}", ok404=True)
        if response is None:
            return None
        data: dict[str, Any] = response.json()
        return data


def _trickle_body(candidates: tuple[Candidate, ...], ice: IceCredentials) -> dict[str, Any]:
    return {"candidates": [list(c) for c in candidates], "ufrag": ice.ufrag, "pwd": ice.pwd}


def _problem(response: httpx.Response) -> RemoteProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    retry = response.headers.get("retry-after")
    return RemoteProblem(
        response.status_code,
        str(body.get("title") or response.reason_phrase),
        str(body.get("detail") or response.text[:200] or "the node answered an error"),
        int(retry) if retry and retry.isdigit() else None,
    )
