"""The node interface in-process: the control plane calls the ``Node`` directly."""

from __future__ import annotations

from typing import Any

from ..bridge.model import SessionSettings
from ..node.node import Node
from ..sfu.listen import Feed
from ..sfu.sdp import IceCredentials
from .nodeapi import Candidate


class LocalNodeClient:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.node_id = node.id

    async def answer(self, session_id: str, settings: SessionSettings, offer: str) -> str:
        return await self.node.connect_caller(session_id, settings, offer)

    async def patch(
        self, session_id: str, candidates: tuple[Candidate, ...], ice: IceCredentials
    ) -> int:
        return await self.node.get(session_id).call.add_remote_candidates(candidates, ice)

    async def delete(self, session_id: str, reason: str) -> bool:
        live = self.node.sessions.get(session_id)
        if live is None:
            return False
        await live.close(reason)
        return True

    async def listen(self, session_id: str, offer: str, feed: Feed | None) -> tuple[str, str]:
        live = self.node.get(session_id)
        live.bridge.mix.attach(live.call.mix_audio)  # mixes only while someone listens
        return await live.call.add_listener(offer, feed)

    async def listener_patch(
        self,
        session_id: str,
        listener_id: str,
        candidates: tuple[Candidate, ...],
        ice: IceCredentials,
    ) -> int:
        call = self.node.get(session_id).call
        return await call.add_listener_candidates(listener_id, candidates, ice)

    async def unlisten(self, session_id: str, listener_id: str) -> bool:
        if session_id not in self.node.sessions:
            return False
        return await self.node.get(session_id).call.remove_listener(listener_id)

    async def stats(self, session_id: str) -> dict[str, Any] | None:
        live = self.node.sessions.get(session_id)
        if live is None:
            return None
        return {"stats": await live.stats(), "transcript": list(live.bridge.transcript)}
