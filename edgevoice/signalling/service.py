"""The control plane's decisions, between thin routes and the node.

Every public operation of the API is one method here; routes only translate HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from typing import Any

from ..bridge.model import SessionSettings
from ..node.node import Node
from ..sfu import sdp
from . import auth
from .errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    Unprocessable,
)
from .records import SessionRecord, SessionState
from .schemas import ClientSecret, CreateSession, SessionCreated
from .settings import Settings
from .store import SessionStore
from .turn import ice_servers_for

log = logging.getLogger(__name__)


def _settings_of(record: SessionRecord) -> SessionSettings:
    return SessionSettings(
        model=record.model,
        instructions=record.instructions,
        voice=record.voice,
        turn_detection=record.turn_detection,
        tools=tuple(record.tools),
        input_transcription=record.input_transcription,
        webhook_url=record.webhook_url,
        audio_format=record.audio_format,
    )


class SessionService:
    def __init__(self, settings: Settings, store: SessionStore, node: Node) -> None:
        self.settings = settings
        self.store = store
        self.node = node
        self._tasks: set[asyncio.Task[None]] = set()
        node.on_session_ended(self._ended)

    # sessions ----------------------------------------------------------------
    async def create(self, body: CreateSession, base_url: str) -> SessionCreated:
        model = body.model or self.settings.model
        self.node.check_model(model)
        secret = auth.new_client_secret()
        now = time.time()
        ttl = body.ttl_seconds or self.settings.session_ttl_seconds
        record = SessionRecord(
            id="sess_" + secrets.token_hex(12),
            secret_hash=auth.hash_secret(secret),
            model=model,
            instructions=body.instructions,
            voice=body.voice,
            turn_detection=body.turn_detection,
            tools=body.tools,
            input_transcription=body.input_transcription,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
            audio_format=body.audio_format,
            metadata=body.metadata,
            created_at=now,
            expires_at=now + ttl,
        )
        await self.store.put(record)
        return SessionCreated(
            id=record.id,
            model=model,
            client_secret=ClientSecret(value=secret, expires_at=int(record.expires_at)),
            whip_url=base_url.rstrip("/") + "/v1/whip",
            ice_servers=self.ice_servers(record),
            expires_at=int(record.expires_at),
        )

    def ice_servers(self, record: SessionRecord) -> list[dict[str, Any]]:
        expiry = int(record.expires_at) + self.settings.max_session_seconds
        return ice_servers_for(
            self.settings.ice_servers, self.settings.turn_secret, record.id, expiry
        )

    async def record(self, session_id: str) -> SessionRecord:
        record = await self.store.get(session_id)
        if record is None:
            raise NotFound(f"no session {session_id}")
        if record.state is SessionState.CREATED and record.expires_at < time.time():
            record.move(SessionState.EXPIRED)
            record.ended_at = record.expires_at
            record.end_reason = "client secret expired unused"
            await self.store.put(record)
            self.node.forget(record.id)
        return record

    async def describe(self, session_id: str) -> dict[str, Any]:
        record = await self.record(session_id)
        out = record.model_dump(mode="json", exclude={"secret_hash", "resource_id", "etag"})
        live = self.node.sessions.get(session_id)
        if live is not None:
            out["stats"] = await live.stats()
            out["transcript"] = list(live.bridge.transcript)
        else:
            out["stats"] = record.final_stats
        out.pop("final_stats", None)
        return out

    async def delete(self, session_id: str) -> None:
        record = await self.record(session_id)
        await self._end(record, "deleted by API")

    async def _end(self, record: SessionRecord, reason: str) -> None:
        if record_live(self.node, record.id):
            await self.node.close(record.id, reason)  # _ended() updates the record
            return
        if not record.finished:
            record.move(SessionState.CLOSED)
            record.ended_at = time.time()
            record.end_reason = reason
            await self.store.put(record)
            self.node.forget(record.id)

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
        self.node.ensure_capacity()  # before claiming: a busy node must not burn the session
        if not await self.store.claim(record.id):
            raise Conflict(f"session {record.id} is already being connected")
        record.move(SessionState.CONNECTING)
        record.resource_id = auth.new_resource_id()
        record.node_id = self.node.id
        await self.store.put(record)
        try:
            answer = await self.node.connect_caller(record.id, _settings_of(record), offer)
        except BaseException:
            record.move(SessionState.CLOSED)
            record.ended_at = time.time()
            record.end_reason = "setup failed"
            await self.store.put(record)
            raise
        record.etag = '"' + hashlib.sha256(answer.encode()).hexdigest()[:16] + '"'
        await self.store.put(record)
        self.node.get(record.id).on_connected(self._connected)
        return record, answer

    async def _resource(self, resource_id: str, header: str | None) -> SessionRecord:
        record = await self.store.by_resource(resource_id)
        if record is None:
            raise NotFound("no such WHIP resource")
        token = auth.bearer_token(header)
        if token is None or auth.hash_secret(token) != record.secret_hash:
            raise Unauthorized("this resource needs the session's client secret as Bearer token")
        return await self.record(record.id)

    async def whip_patch(
        self, resource_id: str, header: str | None, if_match: str | None, fragment: str
    ) -> None:
        record = await self._resource(resource_id, header)
        if record.finished:
            raise NotFound(f"session {record.id} has ended")
        frag = sdp.parse_sdpfrag(fragment)
        if frag.ice_restart:
            raise Unprocessable("ICE restart is not supported: start a new session")
        if if_match and if_match.strip() not in ("*", '"*"', record.etag):
            raise PreconditionFailed("If-Match does not match the resource's ETag")
        await self.node.get(record.id).call.add_remote_candidates(frag.candidates)

    async def whip_delete(self, resource_id: str, header: str | None) -> None:
        record = await self._resource(resource_id, header)
        if record.finished:
            raise NotFound(f"session {record.id} has already ended")
        await self._end(record, "deleted by WHIP client")

    # WHEP ----------------------------------------------------------------------
    async def whep_offer(self, session_id: str, offer: str) -> tuple[str, str]:
        record = await self.record(session_id)
        if record.finished:
            raise NotFound(f"session {session_id} has ended")
        if not record_live(self.node, record.id):
            raise Conflict(f"session {session_id} has no caller yet; listen after it connects")
        return await self.node.add_listener(session_id, offer)

    async def whep_delete(self, session_id: str, listener_id: str) -> None:
        await self.record(session_id)
        if not record_live(self.node, session_id) or not await self.node.remove_listener(
            session_id, listener_id
        ):
            raise NotFound("no such listener")

    # node callbacks -------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _connected(self, session_id: str) -> None:
        async def update() -> None:
            record = await self.store.get(session_id)
            if record is not None and record.state is SessionState.CONNECTING:
                record.move(SessionState.CONNECTED)
                record.connected_at = time.time()
                await self.store.put(record)

        self._spawn(update())

    def _ended(self, session_id: str, reason: str, final: dict[str, Any]) -> None:
        async def update() -> None:
            record = await self.store.get(session_id)
            if record is None or record.finished:
                return
            record.move(SessionState.CLOSED)
            record.ended_at = time.time()
            record.end_reason = reason
            record.final_stats = final.get("stats")
            record.transcript = final.get("transcript", [])
            await self.store.put(record)

        self._spawn(update())

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def record_live(node: Node, session_id: str) -> bool:
    return session_id in node.sessions
