"""A live call on a Node, without the HTTP control plane: the media-plane tests' seam."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from edgevoice.bridge.model import SessionSettings
from edgevoice.node.models import ModelEndpoints
from edgevoice.node.node import Node
from edgevoice.node.session import LiveSession
from edgevoice.sfu.peer import MediaConfig
from edgevoice.sfu.sdp import candidate_ports
from tests.peers import Caller


@dataclass
class LiveCall:
    node: Node
    session: LiveSession
    caller: Caller
    answer: str

    @property
    def media_port(self) -> int:
        ports = candidate_ports(self.answer)
        assert ports, self.answer
        return ports[0]


@contextlib.asynccontextmanager
async def live_call(
    caller: Caller,
    settings: SessionSettings | None = None,
    *,
    models: ModelEndpoints | None = None,
    media: MediaConfig | None = None,
) -> AsyncIterator[LiveCall]:
    """A node with one session whose ``caller`` is connected (the server said so)."""
    node = Node(media or MediaConfig(), models=models or ModelEndpoints())
    session_id = "sess_" + secrets.token_hex(6)
    try:
        async with asyncio.timeout(15):
            answer = await node.connect_caller(
                session_id, settings or SessionSettings(model="echo"), await caller.offer()
            )
            await caller.accept(answer)
            await caller.next_event("state", state="connected")
        yield LiveCall(node, node.sessions[session_id], caller, answer)
    finally:
        await caller.close()
        async with asyncio.timeout(10):
            await node.shutdown()
