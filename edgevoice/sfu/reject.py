"""Refusing the media sections a voice server does not serve (video), the SDP way.

JSEP and RFC 3264 reject an offered section with port 0 in the answer, direction
``inactive``, no candidates, and its mid out of the BUNDLE group. aiortc has no way to
reject a section, so the answer's text is edited; the transceiver behind it is set
``inactive`` before the answer so nothing is sent or received on it.
"""

from __future__ import annotations

REJECTED_KINDS = frozenset({"video"})
_DIRECTION_LINES = ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive")
_DROPPED_PREFIXES = ("a=candidate:", "a=end-of-candidates", "a=ssrc", "a=msid")


def reject_sections(answer: str, kinds: frozenset[str] = REJECTED_KINDS) -> str:
    """``answer`` with every media section of one of ``kinds`` rejected (port 0)."""
    lines = answer.replace("\r\n", "\n").rstrip("\n").split("\n")
    out: list[str] = []
    rejected_mids: list[str] = []
    rejecting = False
    for line in lines:
        if line.startswith("m="):
            kind, _, rest = line[2:].partition(" ")
            rejecting = kind in kinds
            if rejecting:
                _port, _, proto_fmts = rest.partition(" ")
                out.extend((f"m={kind} 0 {proto_fmts}", "a=inactive"))
                continue
        elif rejecting:
            if line.startswith("a=mid:"):
                rejected_mids.append(line[len("a=mid:") :])
            if line in _DIRECTION_LINES or line.startswith(_DROPPED_PREFIXES):
                continue
        out.append(line)
    if rejected_mids:
        out = [_without_mids(line, rejected_mids) for line in out]
        out = [line for line in out if line != "a=group:BUNDLE"]
    return "\r\n".join(out) + "\r\n"


def _without_mids(line: str, mids: list[str]) -> str:
    if not line.startswith("a=group:BUNDLE"):
        return line
    kept = [mid for mid in line.split(" ")[1:] if mid and mid not in mids]
    return " ".join(["a=group:BUNDLE", *kept])
