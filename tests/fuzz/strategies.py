"""Hypothesis strategies shared by the parser fuzz tests: text shaped like the inputs."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

VALID_OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=msid-semantic:WMS *",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
        "c=IN IP4 127.0.0.1",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host",
        "a=end-of-candidates",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:0 PCMU/8000",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 127.0.0.1",
        "a=mid:1",
        "a=sctp-port:5000",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "",
    ]
)
OFFER_LINES = VALID_OFFER.split("\r\n")

token = st.one_of(
    st.sampled_from(
        ["audio", "opus/48000/2", "111", "-1", "99999999999", "²", "typ", "host", "udp",
         "127.0.0.1", "::1", "", " ", "sendonly", "recvonly", "inactive", "IN", "IP4",
         "a=", "m=", "candidate:", "\x00", "é"]
    ),
    st.text(max_size=12),
)  # fmt: skip


@st.composite
def mangled_line(draw: st.DrawFn) -> str:
    """A line of the valid offer with tokens replaced, dropped or added."""
    line: str = draw(st.sampled_from(OFFER_LINES))
    parts = line.split(" ")
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["replace", "drop", "insert"]))
        index = draw(st.integers(0, len(parts)))
        if action == "replace" and index < len(parts):
            parts[index] = draw(token)
        elif action == "drop" and index < len(parts) and len(parts) > 1:
            del parts[index]
        else:
            parts.insert(index, draw(token))
    return " ".join(parts)


@st.composite
def mangled_offer(draw: st.DrawFn) -> str:
    """The valid offer with some lines mangled, dropped, duplicated or shuffled in."""
    lines = list(OFFER_LINES)
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["mangle", "drop", "dup", "insert"]))
        if action == "mangle":
            lines[index] = draw(mangled_line())
        elif action == "drop" and len(lines) > 1:
            del lines[index]
        elif action == "dup":
            lines.insert(index, lines[index])
        else:
            lines.insert(index, draw(st.one_of(mangled_line(), st.text(max_size=30))))
    separator = draw(st.sampled_from(["\r\n", "\n"]))
    return separator.join(lines)


sdp_text = st.one_of(mangled_offer(), st.text(max_size=300))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def event_objects(types: list[str], fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects with a plausible ``type`` and a mix of known and random fields."""
    return st.builds(
        lambda kind, known, extra: {"type": kind, **known, **extra},
        st.one_of(st.sampled_from(types), json_values),
        st.dictionaries(st.sampled_from(fields), json_values, max_size=6),
        st.dictionaries(st.text(max_size=8), json_values, max_size=2),
    )


def raw_messages(objects: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[str | bytes]:
    """Wire messages: JSON of ``objects``, truncated JSON, random text and bytes."""
    dumped = objects.map(json.dumps)
    return st.one_of(
        dumped,
        st.builds(lambda text, cut: text[:cut], dumped, st.integers(0, 200)),
        st.text(max_size=100),
        st.binary(max_size=100),
        st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(1, 3000).map(lambda depth: '{"type":"x","a":' * depth + "1" + "}" * depth),
    )
