"""One call's media: the caller's peer, its publications, and the listeners.

Caller audio arrives on a tapped receiver and is published undecoded; whoever
subscribes (the bridge, listeners' tracks) gets the same frame objects. The reply
publication is fed by the bridge and fanned out to the caller and every listener.
The mix publication (caller and agent together) is fed by the bridge too, and only
while a listener subscribes to it (``listen.py`` says who hears what). Video
sections are rejected (``reject.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpTransceiver

from ..statemachine import StateMachine
from . import sdp
from .errors import CallStateError, IceRestartRefused, MediaError, OfferError, UnknownListener
from .fanout import Publication
from .frames import EncodedFrame, FrameSink
from .listen import Feed, plan_feeds
from .peer import MediaConfig, apply_offer, close_peer, make_answer
from .reject import REJECTED_KINDS, reject_sections
from .rtpwriter import DirectRtpWriter, direct_rtp_enabled
from .sequence import SequenceTracker
from .stats import peer_stats
from .tap import RtpLike, tap_receiver
from .track import EncodedTrack

log = logging.getLogger(__name__)

RECENT_LISTENERS = 256  # ids of listeners that left, kept for an idempotent DELETE
RECENT_SECONDS = 300.0
SEND_ONLY = "the caller receives no audio: the offer is send-only"


class CallState(Enum):
    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"


_EDGES = {
    CallState.NEW: frozenset({CallState.CONNECTING, CallState.CLOSED}),
    CallState.CONNECTING: frozenset({CallState.CONNECTED, CallState.CLOSED}),
    CallState.CONNECTED: frozenset({CallState.CLOSED}),
}


class Listener:
    """A WHEP subscriber: its own peer connection carrying the caller and the agent."""

    def __init__(self, listener_id: str, pc: RTCPeerConnection) -> None:
        self.id = listener_id
        self.pc = pc
        self.tracks: list[tuple[Publication, EncodedTrack]] = []
        self.feeds: list[Feed] = []

    async def close(self) -> None:
        for publication, track in self.tracks:
            publication.unsubscribe(track)
            track.stop()
        await close_peer(self.pc)


class Call:
    def __init__(
        self,
        call_id: str,
        config: MediaConfig,
        *,
        on_state: Callable[[CallState], None] | None = None,
        on_reply_sent: Callable[[EncodedFrame], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
    ) -> None:
        self.id = call_id
        self.config = config
        self.caller_audio = Publication(f"{call_id}/caller", on_failure=self._sink_failed)
        self.reply_audio = Publication(f"{call_id}/reply", on_failure=self._sink_failed)
        self.mix_audio = Publication(f"{call_id}/mix", on_failure=self._sink_failed)
        self._left: dict[str, float] = {}  # listener id -> when it left
        self.caller_send_only = False
        self._on_error = on_error
        self._closer: asyncio.Task[None] | None = None
        self.sequence = SequenceTracker()
        self.listeners: dict[str, Listener] = {}
        self.created_at = time.time()
        self.connected_at: float | None = None
        self.closed_reason: str | None = None
        self._on_state = on_state
        self._state = StateMachine(CallState.NEW, _EDGES, self._state_changed)
        self._pc: RTCPeerConnection | None = None
        self._events: RTCDataChannel | None = None
        self._pending_events: list[str] = []
        self.reply_track = EncodedTrack(on_sent=on_reply_sent)
        self.closed = asyncio.Event()
        self.caller_bytes = 0

    @property
    def state(self) -> CallState:
        return self._state.state

    def _state_changed(self, previous: CallState, current: CallState) -> None:
        log.info("call %s: %s -> %s", self.id, previous.value, current.value)
        if self._on_state is not None:
            self._on_state(current)

    def _sink_failed(self, sink: FrameSink, exc: Exception) -> None:
        """A subscriber raised: report it (``on_error``) and end the call."""
        if self.state is CallState.CLOSED or self._closer is not None:
            return
        message = f"a media subscriber failed: {type(exc).__name__}: {exc}"[:300]
        if self._on_error is not None:
            self._on_error("sink_failed", message)
        self._closer = asyncio.get_running_loop().create_task(self.close("sink_failed"))

    # caller -----------------------------------------------------------------
    async def answer_caller(self, offer: str) -> str:
        """Answer the caller's WHIP offer; the caller must send Opus audio."""
        if self.state is not CallState.NEW:
            raise CallStateError(f"call {self.id} already has a caller ({self.state.value})")
        summary = sdp.summarize_offer(offer)
        if not summary.audio_sending():
            raise OfferError("the caller's offer must send audio (sendonly or sendrecv)")
        self._state.to(CallState.CONNECTING)
        pc = self._pc = self.config.new_peer()
        pc.on("connectionstatechange", self._caller_connection_changed)
        pc.on("datachannel", self._caller_datachannel)
        try:
            await apply_offer(pc, offer)
            _quiet_rejected(pc)
            transceiver = _first_audio(pc)
            tap_receiver(transceiver.receiver, self._caller_packet)
            transceiver.direction = "sendrecv"
            transceiver.sender.replaceTrack(self.reply_track)
            if direct_rtp_enabled():
                self.reply_track.use_writer(DirectRtpWriter(transceiver))
            if summary.audio[0].direction == "sendonly":
                # The reply is still made (listeners hear it); the caller cannot.
                self.caller_send_only = True
                log.warning("call %s: %s", self.id, SEND_ONLY)
                self.send_event({"type": "warning", "code": "caller_send_only",
                                 "message": SEND_ONLY})  # fmt: skip
            else:
                self.reply_audio.subscribe(self.reply_track)
            return reject_sections(await make_answer(pc, self.config, summary))
        except BaseException as exc:
            await self.close("setup failed")
            fault = _offer_fault(exc)
            if fault is exc:
                raise
            raise fault from exc

    def _caller_packet(self, packet: RtpLike, arrival: float) -> None:
        pts = self.sequence.accept(packet.sequence_number, packet.timestamp)
        if pts is None:
            return
        self.caller_bytes += len(packet.payload)
        self.caller_audio.publish(EncodedFrame(packet.payload, pts, arrival))

    async def _caller_connection_changed(self) -> None:
        pc = self._pc
        if pc is None:
            return
        state = pc.connectionState
        if state == "connected" and self._state.can(CallState.CONNECTED):
            self.connected_at = time.time()
            self._state.to(CallState.CONNECTED)
        elif state in ("failed", "closed"):
            await self.close("peer " + state)

    def _caller_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != "events":
            return
        self._events = channel

        @channel.on("open")
        def _flush() -> None:
            pending, self._pending_events = self._pending_events, []
            for text in pending:
                channel.send(text)

        if channel.readyState == "open":
            _flush()

    def send_event(self, event: dict[str, Any]) -> None:
        """Send a JSON event on the caller's ``events`` data channel (queued until open)."""
        text = json.dumps(event, separators=(",", ":"))
        channel = self._events
        if channel is not None and channel.readyState == "open":
            channel.send(text)
        elif self.state is not CallState.CLOSED and len(self._pending_events) < 100:
            self._pending_events.append(text)

    async def add_remote_candidates(
        self,
        candidates: tuple[tuple[str | None, str], ...],
        ice: sdp.IceCredentials | None = None,
    ) -> int:
        """Trickled caller candidates (WHIP PATCH); returns how many were added.

        ``ice`` is the fragment's ``a=ice-ufrag``/``a=ice-pwd``: the current ones (or
        none) make a trickle, others an ICE restart, refused (IceRestartRefused)."""
        pc = self._pc
        if pc is None or self.state is CallState.CLOSED:
            raise CallStateError(f"call {self.id} has no live caller")
        return await _trickle(pc, candidates, ice, f"call {self.id}")

    async def add_listener_candidates(
        self,
        listener_id: str,
        candidates: tuple[tuple[str | None, str], ...],
        ice: sdp.IceCredentials | None = None,
    ) -> int:
        """Trickled candidates of a WHEP listener (PATCH on its resource)."""
        listener = self.listeners.get(listener_id)
        if listener is None or self.state is CallState.CLOSED:
            raise UnknownListener(f"no live listener {listener_id} on session {self.id}")
        return await _trickle(listener.pc, candidates, ice, f"listener {listener_id}")

    # listeners --------------------------------------------------------------
    def publication(self, feed: Feed) -> Publication:
        return {Feed.CALLER: self.caller_audio, Feed.AGENT: self.reply_audio,
                Feed.MIX: self.mix_audio}[feed]  # fmt: skip

    async def add_listener(self, offer: str, chosen: Feed | None = None) -> tuple[str, str]:
        """Answer a WHEP offer: one receiving audio section hears the conversation
        mixed (or the ``chosen`` side), two hear the caller and the agent."""
        if self.state is CallState.CLOSED:
            raise CallStateError(f"call {self.id} has ended")
        summary = sdp.summarize_offer(offer)
        if not summary.audio_receiving():
            raise OfferError("a WHEP offer must receive audio (recvonly or sendrecv)")
        plan = plan_feeds([m.direction for m in summary.audio], chosen)
        listener = Listener(secrets.token_urlsafe(16), self.config.new_peer())
        try:
            await apply_offer(listener.pc, offer)
            _quiet_rejected(listener.pc)
            audio = [t for t in listener.pc.getTransceivers() if t.kind == "audio"]
            for transceiver, feed in zip(audio, plan, strict=False):
                if feed is None:
                    transceiver.direction = "inactive"
                    continue
                publication = self.publication(feed)
                track = EncodedTrack()
                transceiver.direction = "sendonly"
                transceiver.sender.replaceTrack(track)
                if direct_rtp_enabled():
                    track.use_writer(DirectRtpWriter(transceiver))
                publication.subscribe(track)
                listener.tracks.append((publication, track))
                listener.feeds.append(feed)
            answer = reject_sections(await make_answer(listener.pc, self.config, summary))
        except BaseException as exc:
            await listener.close()
            fault = _offer_fault(exc)
            if fault is exc:
                raise
            raise fault from exc
        self.listeners[listener.id] = listener
        feeds = "+".join(f.value for f in listener.feeds)
        log.info("call %s: WHEP listener %s joined, hears %s (%d listening)",
                 self.id, listener.id, feeds, len(self.listeners))  # fmt: skip

        @listener.pc.on("connectionstatechange")
        async def _changed() -> None:
            if listener.pc.connectionState in ("failed", "closed"):
                await self._drop_listener(listener.id, "peer " + listener.pc.connectionState)

        return listener.id, answer

    async def remove_listener(self, listener_id: str) -> bool:
        """Remove a listener (its DELETE); True also for one that left recently (its
        peer closed first), so that a DELETE is idempotent."""
        if await self._drop_listener(listener_id, "deleted"):
            return True
        left = self._left.get(listener_id)
        return left is not None and time.monotonic() - left < RECENT_SECONDS

    async def _drop_listener(self, listener_id: str, reason: str) -> bool:
        listener = self.listeners.pop(listener_id, None)
        if listener is None:
            return False
        self._left[listener_id] = time.monotonic()
        while len(self._left) > RECENT_LISTENERS:
            del self._left[next(iter(self._left))]
        await listener.close()
        log.info("call %s: WHEP listener %s left (%s; %d listening)",
                 self.id, listener_id, reason, len(self.listeners))  # fmt: skip
        return True

    # life -------------------------------------------------------------------
    async def close(self, reason: str = "closed") -> None:
        if self.state is CallState.CLOSED:
            return
        self.closed_reason = reason
        self._state.to(CallState.CLOSED)
        self.caller_audio.end()
        self.reply_audio.end()
        self.mix_audio.end()
        self.reply_track.stop()
        for listener_id in list(self.listeners):
            await self._drop_listener(listener_id, "call ended")
        if self._pc is not None:
            await close_peer(self._pc)
        self.closed.set()

    @property
    def caller_pc(self) -> RTCPeerConnection | None:
        """The caller's peer connection (None before the offer and after close)."""
        return self._pc

    async def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "caller_audio": {
                "frames": self.sequence.delivered,
                "bytes": self.caller_bytes,
                "lost": self.sequence.lost,
                "late": self.sequence.late,
                "subscribers": self.caller_audio.subscribers,
            },
            "reply_audio": {
                "frames": self.reply_audio.frames,
                "bytes": self.reply_audio.bytes,
                "subscribers": self.reply_audio.subscribers,
                "dropped_to_caller": self.reply_track.dropped,
            },
            "mix_audio": {
                "frames": self.mix_audio.frames,
                "bytes": self.mix_audio.bytes,
                "subscribers": self.mix_audio.subscribers,
            },
            "listeners": len(self.listeners),
            "caller_send_only": self.caller_send_only,
        }
        if self._pc is not None and self.state is not CallState.CLOSED:
            out["caller_peer"] = await peer_stats(self._pc)
        return out


def _offer_fault(exc: BaseException) -> BaseException:
    """What answering an offer raised, as the client should see it: our own errors and
    cancellation as they are; anything else came out of aiortc on an offer it could
    not take (an answer without a mid, say), so an OfferError."""
    if isinstance(exc, MediaError) or not isinstance(exc, Exception):
        return exc
    log.warning("offer could not be answered: %s: %s", type(exc).__name__, exc)
    return OfferError(f"SDP offer could not be answered: {type(exc).__name__}: {exc}")


def _quiet_rejected(pc: RTCPeerConnection) -> None:
    """Nothing flows on a section the answer rejects (``reject.py`` edits the text)."""
    for transceiver in pc.getTransceivers():
        if transceiver.kind in REJECTED_KINDS:
            transceiver.direction = "inactive"


async def _trickle(
    pc: RTCPeerConnection,
    candidates: tuple[tuple[str | None, str], ...],
    ice: sdp.IceCredentials | None,
    who: str,
) -> int:
    if ice is not None and pc.remoteDescription is not None:
        current = sdp.ice_credentials(pc.remoteDescription.sdp)
        if sdp.is_ice_restart(ice, current):
            raise IceRestartRefused(
                "ICE restart is not supported (the fragment's ICE credentials differ "
                "from the offer's): start a new session"
            )
    mids = {t.mid for t in pc.getTransceivers() if t.mid is not None}
    added = 0
    for mid, line in candidates:
        candidate = sdp.parse_candidate(line)
        candidate.sdpMid = mid if mid in mids else _first_audio(pc).mid
        await pc.addIceCandidate(candidate)
        added += 1
    log.debug("%s: %d trickled candidates", who, added)
    return added


def _first_audio(pc: RTCPeerConnection) -> RTCRtpTransceiver:
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "audio":
            return transceiver
    raise OfferError("SDP offer has no audio section (m=audio)")
