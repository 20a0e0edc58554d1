"""Who hears what on a WHEP listener's audio sections, and how video is rejected."""

from __future__ import annotations

import pytest

from edgevoice.sfu.listen import Feed, parse_feed, plan_feeds
from edgevoice.sfu.reject import reject_sections


def test_one_receiving_section_hears_the_mix_or_the_chosen_side() -> None:
    assert plan_feeds(["recvonly"]) == [Feed.MIX]
    assert plan_feeds(["sendrecv"]) == [Feed.MIX]  # medooze's WHEPClient offers sendrecv
    assert plan_feeds(["recvonly"], Feed.AGENT) == [Feed.AGENT]
    assert plan_feeds(["inactive", "recvonly"], Feed.CALLER) == [None, Feed.CALLER]


def test_two_sections_keep_caller_then_agent_and_extra_ones_get_nothing() -> None:
    assert plan_feeds(["recvonly", "recvonly"]) == [Feed.CALLER, Feed.AGENT]
    assert plan_feeds(["recvonly", "sendonly", "recvonly", "recvonly"]) == [
        Feed.CALLER, None, Feed.AGENT, None,
    ]  # fmt: skip
    assert plan_feeds(["recvonly", "recvonly"], Feed.MIX) == [Feed.MIX, None]
    assert plan_feeds(["sendonly"]) == [None]


def test_track_parameter() -> None:
    assert parse_feed(None) is None and parse_feed("") is None
    assert parse_feed("Agent") is Feed.AGENT
    with pytest.raises(ValueError, match=r"caller\|agent\|mix"):
        parse_feed("video")


ANSWER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:0\r\n"
    "a=msid:x y\r\na=rtcp-mux\r\na=rtpmap:97 VP8/90000\r\n"
    "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n"
    "m=audio 5000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:1\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n"
    "m=application 5000 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n"
)


def test_video_is_rejected_with_port_zero_and_leaves_the_bundle() -> None:
    out = reject_sections(ANSWER)
    video = out[out.index("m=video") : out.index("m=audio")]
    audio = out[out.index("m=audio") :]
    assert video.startswith("m=video 0 UDP/TLS/RTP/SAVPF 97\r\n")
    assert "a=inactive" in video and "a=sendonly" not in video
    assert "a=candidate" not in video and "a=mid:0" in video
    assert "a=group:BUNDLE 1 2\r\n" in out
    # the audio and data sections are untouched
    assert audio == ANSWER[ANSWER.index("m=audio") :]


def test_an_answer_without_video_is_unchanged() -> None:
    audio_only = (
        ANSWER[: ANSWER.index("m=video")].replace("0 1 2", "1 2")
        + ANSWER[ANSWER.index("m=audio") :]
    )
    assert reject_sections(audio_only) == audio_only
