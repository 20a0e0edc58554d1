"""The control plane's decisions, between thin routes and the nodes.

Every public operation of the API is one method here; routes only translate HTTP.
Nodes are reached only through the cluster's ``Directory`` and ``NodeClient``: the
node may be in this process (``edgevoice serve``) or behind its internal API.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from ..bridge.bargein import BargeInSettings
from ..bridge.model import SessionSettings
from ..cluster import placement
from ..cluster.directory import Directory
from ..cluster.errors import NoCapacity, NodeUnreachable
from ..cluster.eventbus import EventBus
from ..cluster.nodeapi import NodeClient
from ..logs import bind_session
from ..sfu import sdp
from . import auth
from .errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    Unauthorized,
)
from .keys import DEFAULT_TENANT, KeyStore, MemoryKeys
from .records import SessionRecord, SessionState
from .schemas import ClientSecret, CreateSession, SessionCreated
from .settings import Settings
from .store import SessionStore
from .turn import ice_servers_for
from .usage import usage_summary

log = logging.getLogger(__name__)
NODE_LOST = "node_lost"
RECENT_END_SECONDS = 300.0  # a DELETE this long after the end still answers 200


def ended_recently(record: SessionRecord, now: float) -> bool:
    """Whether a finished session ended so recently that a DELETE is still a repeat
    (clients close their peer connection first, then DELETE)."""
    return record.ended_at is not None and now - record.ended_at <= RECENT_END_SECONDS


def settings_of(record: SessionRecord) -> SessionSettings:
    return SessionSettings(
        model=record.model,
        instructions=record.instructions,
        voice=record.voice,
        turn_detection=record.turn_detection,
        tools=tuple(record.tools),
        input_transcription=record.input_transcription,
        webhook_url=record.webhook_url,
        audio_format=record.audio_format,
        barge_in=barge_in_of(record.barge_in),
    )


def barge_in_of(given: dict[str, Any] | None) -> BargeInSettings:
    """The bridge's barge-in settings from a record's ``barge_in`` (pure)."""
    if not given:
        return BargeInSettings()
    return BargeInSettings(
        enabled=bool(given.get("enabled", True)),
        confirm_window_s=int(given.get("confirm_window_ms", 1000)) / 1000,
    )


OFFLINE_TRANSCRIBER = "pocketsphinx-en-us"


def transcription_for(model: str, asked: dict[str, Any] | None) -> dict[str, Any] | None:
    """What will actually transcribe the caller: the offline model's own recogniser for
    ``local``, nothing for ``echo``, the requested model for a realtime model."""
    if asked is None or model == "echo":
        return None
    if model == "local":
        return {**asked, "model": OFFLINE_TRANSCRIBER}
    return asked


class SessionService:
    def __init__(
        self,
        settings: Settings,
        store: SessionStore,
        directory: Directory,
        bus: EventBus,
        keys: KeyStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.directory = directory
        self.bus = bus
        self.keys: KeyStore = keys or MemoryKeys()

    # sessions ----------------------------------------------------------------
    async def create(
        self, body: CreateSession, base_url: str, tenant: str = DEFAULT_TENANT
    ) -> SessionCreated:
        model = body.model or self.settings.model
        now = time.time()
        nodes = await self.directory.nodes()
        if not any(model in n.models for n in nodes if n.alive(now)):
            offered = placement.models_offered(nodes, now)
            if not offered:
                raise NoCapacity("no media node is registered; try again shortly", retry_after=5)
            raise BadRequest(
                f"unknown model {model!r}: the nodes here offer {', '.join(offered)}"
                + ("" if "gpt-realtime" in offered else " (a realtime model needs OPENAI_API_KEY)")
            )
        ttl = body.ttl_seconds or self.settings.session_ttl_seconds
        session_id = "sess_" + secrets.token_hex(12)
        ranked = placement.rank(
            nodes,
            model=model,
            now=now,
            region=body.region,
            home_region=self.settings.region,
            client_rtt_ms=body.client_rtt_ms,
        )
        chosen = None
        for node in ranked:
            if await self.directory.reserve(node, session_id, now + ttl):
                chosen = node
                break
        if chosen is None:
            raise NoCapacity("every node is at its session limit or draining", retry_after=5)
        secret = auth.new_client_secret()
        record = SessionRecord(
            id=session_id,
            secret_hash=auth.hash_secret(secret),
            model=model,
            instructions=body.instructions,
            voice=body.voice,
            turn_detection=body.turn_detection,
            tools=body.tools,
            input_transcription=transcription_for(model, body.input_transcription),
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
            audio_format=body.audio_format,
            barge_in=body.barge_in.model_dump(),
            metadata=body.metadata,
            created_at=now,
            expires_at=now + ttl,
            node_id=chosen.id,
            node_region=chosen.region,
            tenant=tenant,
        )
        try:
            await self.store.put(record)
        except BaseException:
            await self.directory.release(chosen.id, session_id)
            raise
        return SessionCreated(
            id=record.id,
            model=model,
            client_secret=ClientSecret(value=secret, expires_at=int(record.expires_at)),
            whip_url=(chosen.url or base_url).rstrip("/") + "/v1/whip",
            ice_servers=self.ice_servers(record),
            expires_at=int(record.expires_at),
            node=chosen.public(),
        )

    def ice_servers(self, record: SessionRecord) -> list[dict[str, Any]]:
        expiry = int(record.expires_at) + self.settings.max_session_seconds
        return ice_servers_for(
            self.settings.ice_servers, self.settings.turn_secret, record.id, expiry
        )

    async def record(self, session_id: str) -> SessionRecord:
        """The record, after settling what time and the cluster decided since it was
        written: an unused secret that expired, a node that was lost."""
        bind_session(session_id)
        record = await self.store.get(session_id)
        if record is None:
            raise NotFound(f"no session {session_id}")
        if record.state is SessionState.CREATED and record.expires_at < time.time():
            record = await self._finish(
                session_id, SessionState.EXPIRED, "client secret expired unused"
            )
        elif not record.finished and record.node_id:
            if not await self.directory.alive(record.node_id):
                record = await self._finish(session_id, SessionState.FAILED, NODE_LOST)
        return record

    async def owned(self, session_id: str, tenant: str) -> SessionRecord:
        """The session's record if ``tenant`` owns it; another tenant's is not found."""
        record = await self.store.get(session_id)
        if record is None or not auth.same_secret(record.tenant, tenant):
            raise NotFound(f"no session {session_id}")
        return await self.record(session_id)

    async def usage(self, tenant: str, start: float, end: float) -> dict[str, Any]:
        """What ``tenant``'s calls that ended in [start, end) used, summed and by model."""
        entries = await self.store.usage(tenant, start, end)
        return usage_summary(tenant, start, end, entries)

    async def _finish(self, session_id: str, state: SessionState, reason: str) -> SessionRecord:
        """End a record that no live call will end (nothing live, or its node is gone)."""

        def change(record: SessionRecord) -> bool:
            at = record.expires_at if state is SessionState.EXPIRED else None
            return record.end(state, reason, at)

        record = await self.store.update(session_id, change)
        if record is None:
            raise NotFound(f"no session {session_id}")
        if record.node_id:
            await self.directory.release(record.node_id, session_id)
        return record

    async def describe(self, session_id: str) -> dict[str, Any]:
        record = await self.record(session_id)
        out = record.model_dump(
            mode="json", exclude={"secret_hash", "resource_id", "etag", "listener_tokens"}
        )
        out["node"] = {"id": record.node_id, "region": record.node_region}
        for key in ("node_id", "node_region", "final_stats"):
            out.pop(key, None)
        out["stats"] = record.final_stats
        if record.state in (SessionState.CONNECTING, SessionState.CONNECTED) and record.node_id:
            try:
                live = await (await self.directory.client(record.node_id)).stats(session_id)
            except NodeUnreachable:
                live = None
            if live is not None:
                out["stats"] = live["stats"]
                out["transcript"] = live["transcript"]
        return out

    async def delete(self, session_id: str) -> None:
        record = await self.record(session_id)
        await self._end(record, "deleted by API")

    async def _end(self, record: SessionRecord, reason: str) -> None:
        if record.finished:
            return
        if record.state is not SessionState.CREATED and record.node_id:
            client = await self._client(record)
            if await client.delete(record.id, reason):
                return  # the node's own "ended" report updates the record
        await self._finish(record.id, SessionState.CLOSED, reason)

    async def _client(self, record: SessionRecord) -> NodeClient:
        """The owner's interface; a lost owner fails the session (and says so)."""
        assert record.node_id is not None
        try:
            return await self.directory.client(record.node_id)
        except NodeUnreachable:
            await self._finish(record.id, SessionState.FAILED, NODE_LOST)
            raise NotFound(f"session {record.id} was lost with its node {record.node_id}") from None

    async def events(self, session_id: str) -> AsyncIterator[dict[str, Any]]:
        record = await self.record(session_id)

        async def over() -> bool:
            try:
                return (await self.record(session_id)).finished
            except NotFound:
                return True

        async def stream() -> AsyncIterator[dict[str, Any]]:
            async for event in self.bus.follow(record.id, over):
                yield event

        return stream()

    # WHIP ----------------------------------------------------------------------
    async def authorize_secret(self, header: str | None) -> SessionRecord:
        token = auth.bearer_token(header)
        if token is None:
            raise Unauthorized("missing 'Authorization: Bearer <client secret>' header")
        record = await self.store.by_secret(auth.hash_secret(token))
        if record is None:
            raise Unauthorized("unknown client secret")
        record = await self.record(record.id)
        if record.state is SessionState.EXPIRED:
            raise Unauthorized("client secret expired: create a new session")
        return record

    async def whip_offer(self, header: str | None, offer: str) -> tuple[SessionRecord, str]:
        record = await self.authorize_secret(header)
        if record.state is not SessionState.CREATED:
            raise Conflict(f"session {record.id} is already {record.state.value}")
        summary = sdp.summarize_offer(offer)
        if not summary.audio_sending():
            raise BadRequest("the WHIP offer must send audio (sendonly or sendrecv)")
        client = await self._client(record)
        if not await self.store.claim(record.id):
            raise Conflict(f"session {record.id} is already being connected")
        resource_id = auth.new_resource_id()

        def connecting(r: SessionRecord) -> bool:
            if not r.can(SessionState.CONNECTING):
                return False
            r.move(SessionState.CONNECTING)
            r.resource_id = resource_id
            return True

        record = await self.store.update(record.id, connecting) or record
        if record.resource_id != resource_id:
            raise Conflict(f"session {record.id} is already {record.state.value}")
        try:
            answer = await client.answer(record.id, settings_of(record), offer)
        except BaseException:
            await self._finish(record.id, SessionState.CLOSED, "setup failed")
            raise
        etag = '"' + hashlib.sha256(answer.encode()).hexdigest()[:16] + '"'

        def tagged(r: SessionRecord) -> bool:
            r.etag = etag
            return True

        record = await self.store.update(record.id, tagged) or record
        return record, answer

    async def _resource(self, resource_id: str, header: str | None) -> SessionRecord:
        record = await self.store.by_resource(resource_id)
        if record is None:
            raise NotFound("no such WHIP resource")
        token = auth.bearer_token(header)
        if token is None or not auth.same_secret(auth.hash_secret(token), record.secret_hash):
            raise Unauthorized("this resource needs the session's client secret as Bearer token")
        return await self.record(record.id)

    async def whip_patch(
        self, resource_id: str, header: str | None, if_match: str | None, fragment: str
    ) -> None:
        record = await self._resource(resource_id, header)
        if record.finished:
            raise NotFound(f"session {record.id} has ended")
        frag = sdp.parse_sdpfrag(fragment)
        if if_match and if_match.strip() not in ("*", '"*"', record.etag):
            raise PreconditionFailed("If-Match does not match the resource's ETag")
        # The node compares the fragment's ufrag/pwd with the offer's: the same ones are a
        # trickle, changed ones an ICE restart (refused there: 422).
        ice = sdp.IceCredentials(frag.ufrag, frag.pwd)
        await (await self._client(record)).patch(record.id, frag.candidates, ice)

    async def whip_delete(self, resource_id: str, header: str | None) -> None:
        record = await self._resource(resource_id, header)
        if record.finished:
            if ended_recently(record, time.time()):
                return  # its peer closed first: a DELETE is idempotent
            raise NotFound(f"session {record.id} has already ended")
        await self._end(record, "deleted by WHIP client")

    # WHEP listeners: listeners.py
