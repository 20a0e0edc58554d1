"""A caller that vanishes without DELETE (its network gone) is freed by consent freshness.

The caller's UDP socket is closed under it: no DTLS close, no RTCP BYE, no answer to
the node's consent checks. The node must end the session within the consent timeout
(RFC 7675: 30 s) and free its slot.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.livecall import live_call
from tests.peers import Caller


@pytest.mark.timeout(90)
async def test_vanished_caller_is_freed_within_the_consent_timeout() -> None:
    async with live_call(Caller("hello.wav", loop_audio=True)) as call:
        ice = call.caller.pc.getTransceivers()[0].sender.transport.transport
        for pair in ice._connection._check_list:
            pair.protocol.transport.close()  # the caller's network is gone
        gone = time.monotonic()
        async with asyncio.timeout(45):
            await call.session.ended.wait()
        elapsed = time.monotonic() - gone
        assert elapsed <= 30, f"freed after {elapsed:.1f} s"
        assert call.session.call.closed_reason in ("peer failed", "peer closed")
        assert call.session.id not in call.node.sessions
