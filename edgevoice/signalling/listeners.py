"""WHEP listeners through the control plane: listener tokens, offers, trickle, DELETE.

A supervisor's page must not hold the API key. The backend mints a listener token
(``POST /v1/sessions/{id}/listeners``): short-lived, for one session, stored only as
its hash in the session record (so any signalling instance of a cluster checks it).
WHEP accepts it, or the API key, as Bearer token. The token's lifetime bounds when a
listener may *start*; a listener that started may trickle and DELETE with it for the
rest of the session. The control plane checks it and forwards the WHEP verb to the
session's node.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from ..sfu import sdp
from ..sfu.listen import Feed
from . import auth
from .errors import Conflict, NotFound, PreconditionFailed, Unauthorized
from .records import SessionRecord, SessionState
from .schemas import ListenerGrant
from .service import SessionService, ended_recently

log = logging.getLogger(__name__)

LISTENER_PREFIX = "evl_"
MAX_TOKENS = 64  # per session; the oldest are forgotten first


def new_listener_token() -> str:
    return LISTENER_PREFIX + secrets.token_urlsafe(24)


def is_listener_token(token: str) -> bool:
    return token.startswith(LISTENER_PREFIX)


def listener_etag(listener_id: str) -> str:
    """The ETag of a WHEP resource (derived from its unguessable id: nothing stored)."""
    return '"' + hashlib.sha256(listener_id.encode()).hexdigest()[:16] + '"'


def if_match_ok(if_match: str | None, etag: str) -> bool:
    """RFC 9725: a trickle carries the resource's ETag, an ICE restart ``*`` (real
    clients send ``"*"`` too); a PATCH without If-Match is accepted."""
    return if_match is None or if_match.strip() in ("*", '"*"', etag)


def remember_token(
    tokens: dict[str, float], token_hash: str, expires_at: float
) -> dict[str, float]:
    """``tokens`` (hash → expiry) with one more; at most ``MAX_TOKENS``, oldest out."""
    kept = dict(tokens)
    kept[token_hash] = expires_at
    while len(kept) > MAX_TOKENS:
        del kept[min(kept, key=lambda h: kept[h])]
    return kept


class ListenerService:
    def __init__(self, svc: SessionService) -> None:
        self.svc = svc

    async def mint(self, session_id: str, ttl_seconds: int, base_url: str) -> ListenerGrant:
        record = await self.svc.record(session_id)
        if record.finished:
            raise NotFound(f"session {session_id} has ended")
        token = new_listener_token()
        expires_at = time.time() + ttl_seconds
        hashed = auth.hash_secret(token)

        def add(r: SessionRecord) -> bool:
            if r.finished:
                return False
            r.listener_tokens = remember_token(r.listener_tokens, hashed, expires_at)
            return True

        updated = await self.svc.store.update(session_id, add)
        if updated is None or hashed not in updated.listener_tokens:
            raise NotFound(f"session {session_id} has ended")
        log.info("session %s: listener token minted (%d s)", session_id, ttl_seconds)
        return ListenerGrant(
            session_id=session_id,
            token=token,
            expires_at=int(expires_at),
            whep_url=base_url.rstrip("/") + f"/v1/sessions/{session_id}/whep",
        )

    async def check_token(self, session_id: str, token: str, *, starting: bool) -> None:
        """A listener token of this session (unexpired, for a new listener)."""
        record = await self.svc.store.get(session_id)
        expiry = None if record is None else record.listener_tokens.get(auth.hash_secret(token))
        if expiry is None:
            raise Unauthorized("this listener token is not one of this session's")
        if starting and expiry < time.time():
            raise Unauthorized(
                f"listener token expired: mint a new one (POST /v1/sessions/{session_id}/listeners)"
            )

    async def offer(self, session_id: str, offer: str, feed: Feed | None) -> tuple[str, str, str]:
        """A new listener: (listener id, SDP answer, ETag)."""
        record = await self.svc.record(session_id)
        if record.finished:
            raise NotFound(f"session {session_id} has ended")
        if record.state is SessionState.CREATED:
            raise Conflict(f"session {session_id} has no caller yet; listen after it connects")
        client = await self.svc._client(record)
        listener_id, answer = await client.listen(session_id, offer, feed)
        log.info("session %s: WHEP listener %s joined (%s)", session_id, listener_id,
                 feed.value if feed else "by its offer")  # fmt: skip
        return listener_id, answer, listener_etag(listener_id)

    async def patch(
        self, session_id: str, listener_id: str, if_match: str | None, fragment: str
    ) -> None:
        record = await self.svc.record(session_id)
        if record.finished or record.state is SessionState.CREATED:
            raise NotFound(f"no live listener {listener_id} (the session is {record.state.value})")
        frag = sdp.parse_sdpfrag(fragment)
        if not if_match_ok(if_match, listener_etag(listener_id)):
            raise PreconditionFailed("If-Match does not match the resource's ETag")
        client = await self.svc._client(record)
        ice = sdp.IceCredentials(frag.ufrag, frag.pwd)
        await client.listener_patch(session_id, listener_id, frag.candidates, ice)

    async def delete(self, session_id: str, listener_id: str) -> None:
        """End a listener; 200 again for one that left (or whose session ended) lately."""
        record = await self.svc.record(session_id)
        if record.finished:
            if ended_recently(record, time.time()):
                return
            raise NotFound(f"session {session_id} has ended")
        if record.state is SessionState.CREATED:
            raise NotFound("no such listener")
        client = await self.svc._client(record)
        if not await client.unlisten(session_id, listener_id):
            raise NotFound("no such listener")
        log.info("session %s: WHEP listener %s deleted", session_id, listener_id)
