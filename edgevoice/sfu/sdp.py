"""Pure SDP decisions: what an offer must hold, and the few edits answers need.

Only line-level work; aiortc does the real parsing. Each function takes text and
returns text or a summary, so each is tested directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiortc import RTCIceCandidate
from aiortc.sdp import candidate_from_sdp

from .errors import OfferError

MAX_SDP_BYTES = 64 * 1024
_OPUS_RTPMAP = re.compile(r"^a=rtpmap:(\d+) opus/48000(/2)?\s*$", re.IGNORECASE)
_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


@dataclass(frozen=True, slots=True)
class MediaSection:
    kind: str
    direction: str
    opus_payload_type: int | None
    fmtp: dict[int, str]


@dataclass(frozen=True, slots=True)
class OfferSummary:
    audio: tuple[MediaSection, ...]
    has_data_channel: bool

    def audio_sending(self) -> bool:
        return any(m.direction in ("sendonly", "sendrecv") for m in self.audio)

    def audio_receiving(self) -> bool:
        return any(m.direction in ("recvonly", "sendrecv") for m in self.audio)


def summarize_offer(sdp: str) -> OfferSummary:
    """Check the offer's shape; raise :class:`OfferError` with a readable reason."""
    if len(sdp.encode("utf-8", "replace")) > MAX_SDP_BYTES:
        raise OfferError(f"SDP offer is larger than {MAX_SDP_BYTES} bytes")
    lines = [line.strip() for line in sdp.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines or lines[0] != "v=0":
        raise OfferError("body is not an SDP offer: it must start with 'v=0'")
    if not any(line.startswith("m=") for line in lines):
        raise OfferError("SDP offer has no media section (m= line)")
    sections: list[MediaSection] = []
    data = False
    kind: str | None = None
    direction = "sendrecv"
    opus: int | None = None
    fmtp: dict[int, str] = {}
    has_fingerprint = any(line.startswith("a=fingerprint:") for line in lines)
    has_ice = any(line.startswith("a=ice-ufrag:") for line in lines)

    def close() -> None:
        if kind == "audio":
            sections.append(MediaSection(kind, direction, opus, dict(fmtp)))

    for line in lines:
        if line.startswith("m="):
            close()
            kind = line[2:].split(" ", 1)[0]
            direction, opus, fmtp = "sendrecv", None, {}
            if kind == "application" and "webrtc-datachannel" in line:
                data = True
            continue
        if kind is None:
            continue
        if line[2:] in _DIRECTIONS and line.startswith("a="):
            direction = line[2:]
        elif (match := _OPUS_RTPMAP.match(line)) is not None:
            opus = int(match.group(1))
        elif line.startswith("a=fmtp:"):
            pt, _, params = line[7:].partition(" ")
            if _is_number(pt, 127):
                fmtp[int(pt)] = params
    close()
    if not has_ice or not has_fingerprint:
        raise OfferError("SDP offer lacks ICE credentials or a DTLS fingerprint")
    if not sections:
        raise OfferError("SDP offer has no audio section (m=audio)")
    if not any(m.opus_payload_type is not None for m in sections):
        raise OfferError("SDP offer's audio does not include Opus (opus/48000/2)")
    return OfferSummary(tuple(sections), data)


def restore_opus_fmtp(answer: str, offer: OfferSummary) -> str:
    """Put back the offer's Opus parameters the answer dropped (aiortc writes no fmtp).

    Without this the browser's ``useinbandfec=1`` is lost and it sends no FEC.
    """
    wanted = "minptime=10;useinbandfec=1"
    for section in offer.audio:
        if section.opus_payload_type is not None:
            params = section.fmtp.get(section.opus_payload_type, "")
            if "useinbandfec=1" not in params:
                return answer
    out: list[str] = []
    for line in answer.split("\r\n"):
        out.append(line)
        match = _OPUS_RTPMAP.match(line)
        if match is not None:
            pt = match.group(1)
            if f"a=fmtp:{pt} " not in answer:
                out.append(f"a=fmtp:{pt} {wanted}")
    return "\r\n".join(out)


def announce_address(sdp: str, public_ip: str) -> str:
    """Rewrite host candidates and connection lines to ``public_ip`` (NAT, containers).

    Ports stay as bound; the host forwards the node's UDP range to the same ports.
    """
    out: list[str] = []
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:") and " typ host" in line:
            parts = line.split(" ")
            if len(parts) > 5:
                parts[4] = public_ip
            line = " ".join(parts)
        elif line.startswith("c=IN IP4 ") or line.startswith("c=IN IP6 "):
            family = "IP6" if ":" in public_ip else "IP4"
            line = f"c=IN {family} {public_ip}"
        out.append(line)
    return "\r\n".join(out)


def keep_candidates(sdp: str, allowed_hosts: set[str]) -> str:
    """Drop ``a=candidate`` lines whose address is not in ``allowed_hosts``."""
    out = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("a=candidate:"):
            parts = line.split(" ")
            if len(parts) > 5 and parts[4] not in allowed_hosts:
                continue
        out.append(line)
    return "\r\n".join(out)


def candidate_ports(sdp: str) -> list[int]:
    """The ports of every candidate line (used to check the node's port range)."""
    ports = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("a=candidate:"):
            parts = line.split(" ")
            if len(parts) > 5 and _is_number(parts[5], 65535):
                ports.append(int(parts[5]))
    return ports


def _is_number(text: str, highest: int) -> bool:
    """ASCII digits only (``str.isdigit`` takes "²", which ``int`` refuses), in range."""
    return 0 < len(text) <= 10 and text.isascii() and text.isdigit() and int(text) <= highest


@dataclass(frozen=True, slots=True)
class SdpFragment:
    """A trickle-ice-sdpfrag body (RFC 8840): credentials and candidates per mid."""

    ufrag: str | None
    pwd: str | None
    candidates: tuple[tuple[str | None, str], ...]  # (mid, "candidate:..." without "a=")


@dataclass(frozen=True, slots=True)
class IceCredentials:
    """The ICE username fragment and password a peer announced (either may be absent)."""

    ufrag: str | None = None
    pwd: str | None = None


def is_ice_restart(fragment: IceCredentials, current: IceCredentials) -> bool:
    """A trickle fragment restarts ICE only when it carries credentials that *differ*
    from the peer's current ones (RFC 8840, libwebrtc's rule): a standard trickle
    repeats the current ``a=ice-ufrag``/``a=ice-pwd``, and one without any is a
    trickle too."""
    return (fragment.ufrag is not None and fragment.ufrag != current.ufrag) or (
        fragment.pwd is not None and fragment.pwd != current.pwd
    )


def ice_credentials(sdp: str) -> IceCredentials:
    """The first ``a=ice-ufrag``/``a=ice-pwd`` of a description (session or media level;
    a bundled description has one pair)."""
    ufrag = pwd = None
    for raw in sdp.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if ufrag is None and line.startswith("a=ice-ufrag:"):
            ufrag = line[len("a=ice-ufrag:") :]
        elif pwd is None and line.startswith("a=ice-pwd:"):
            pwd = line[len("a=ice-pwd:") :]
    return IceCredentials(ufrag, pwd)


def parse_sdpfrag(text: str) -> SdpFragment:
    ufrag = pwd = mid = None
    candidates: list[tuple[str | None, str]] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("a=ice-ufrag:"):
            ufrag = line[len("a=ice-ufrag:") :]
        elif line.startswith("a=ice-pwd:"):
            pwd = line[len("a=ice-pwd:") :]
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :]
        elif line.startswith("a=candidate:"):
            candidates.append((mid, line[2:]))
        elif line and not line.startswith(("a=", "m=", "c=")):
            raise OfferError(f"not an SDP fragment line: {line[:60]!r}")
    return SdpFragment(ufrag, pwd, tuple(candidates))


def parse_candidate(line: str) -> RTCIceCandidate:
    """One trickled ``candidate:...`` line (aiortc's parser); OfferError when malformed.

    aiortc checks the field count with ``assert``: a short line raises AssertionError.
    """
    try:
        candidate = candidate_from_sdp(line.removeprefix("a=").removeprefix("candidate:"))
    except (AssertionError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise OfferError(f"bad candidate line {line[:60]!r}") from exc
    if not 0 <= candidate.port <= 65535 or candidate.protocol.lower() not in ("udp", "tcp"):
        raise OfferError(f"bad candidate line {line[:60]!r}")
    return candidate
