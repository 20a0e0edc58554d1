"""The socket drops mid-call: the client reconnects, re-applies the session, replays
the recent turns, and the call goes on."""

from __future__ import annotations

import asyncio
import base64

from edgevoice.bridge import events as ev
from edgevoice.bridge.model import SessionSettings
from edgevoice.bridge.reconnect import Backoff

from .conftest import Events, MakeClient, started
from .peer import PeerConnection, RealtimePeer

SETTINGS = SessionSettings(model="gpt-realtime", instructions="Be brief.", voice="marin")
FRAME = b"\x10\x00" * 480


async def one_turn(conn: PeerConnection, turn: int) -> None:
    await conn.input_transcript(f"in_{turn}", f"user says {turn}")
    await conn.response_created(f"resp_{turn}")
    await conn.transcript_done(f"resp_{turn}", f"out_{turn}", f"assistant says {turn}")
    await conn.audio(f"resp_{turn}", f"out_{turn}", b"\x01\x00" * 240)
    await conn.response_done(f"resp_{turn}")


async def test_drop_mid_reply_reconnects_and_replays(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client, SETTINGS)
    events = Events(client)
    first = await peer.accept()
    for turn in (1, 2):
        await one_turn(first, turn)
    # a third turn starts, its reply is cut off mid-audio
    await first.input_transcript("in_3", "user says 3")
    await first.response_created("resp_3")
    await first.audio("resp_3", "out_3", b"\x02\x00" * 240)
    assert await events.until(ev.AudioDelta) == ev.AudioDelta("resp_1", "out_1", b"\x01\x00" * 240)
    delta = await events.until(ev.AudioDelta)
    delta = await events.until(ev.AudioDelta)
    assert delta.response_id == "resp_3"
    first.drop()

    down = await events.expect(ev.ConnectionChanged)
    assert not down.connected and "1006" in down.detail
    # the cut-off reply is closed for the bridge
    assert await events.expect(ev.AudioDone) == ev.AudioDone("resp_3", "out_3")
    assert await events.expect(ev.ResponseDone) == ev.ResponseDone("resp_3", "incomplete")
    client.send_audio(FRAME)  # while down: dropped, counted, no exception

    second = await peer.accept()
    up = await events.expect(ev.ConnectionChanged)
    assert up.connected
    assert up.reconnect_seconds is not None and 0 < up.reconnect_seconds < 5
    assert client.frames_dropped >= 1 and client.reconnects == 1

    # the new socket got the same session.update, then the turns, oldest first
    replay = [await second.next("conversation.item.create") for _ in range(5)]
    assert second.received[0] == first.received[0]
    assert second.received[0]["type"] == "session.update"
    assert second.received[1:6] == replay
    assert [(e["item"]["role"], e["item"]["content"][0]) for e in replay] == [
        ("user", {"type": "input_text", "text": "user says 1"}),
        ("assistant", {"type": "output_text", "text": "assistant says 1"}),
        ("user", {"type": "input_text", "text": "user says 2"}),
        ("assistant", {"type": "output_text", "text": "assistant says 2"}),
        ("user", {"type": "input_text", "text": "user says 3"}),
    ]
    assert all(e["type"] == "conversation.item.create" for e in replay)

    # the next turn: caller audio reaches the new socket, the reply comes back
    client.send_audio(FRAME)
    append = await second.next("input_audio_buffer.append")
    assert base64.b64decode(append["audio"]) == FRAME
    await second.response_created("resp_4")
    await second.audio("resp_4", "out_4", b"\x04\x00" * 240)
    assert await events.until(ev.AudioDelta) == ev.AudioDelta("resp_4", "out_4", b"\x04\x00" * 240)


async def test_server_down_for_a_while_then_back(
    peer: RealtimePeer, make_client: MakeClient
) -> None:
    client = await started(make_client, SETTINGS)
    events = Events(client)
    first = await peer.accept()
    await peer.stop()  # closes the socket and stops listening
    assert not (await events.expect(ev.ConnectionChanged)).connected
    await asyncio.sleep(0.5)  # a few refused tries
    await peer.start()
    up = await events.expect(ev.ConnectionChanged)
    assert up.connected and up.reconnect_seconds is not None and up.reconnect_seconds >= 0.5
    assert first.closed.is_set()
    second = await peer.accept()
    assert second.received[0]["type"] == "session.update"


async def test_gives_up_after_the_budget(peer: RealtimePeer, make_client: MakeClient) -> None:
    client = await started(
        make_client, SETTINGS, backoff=Backoff(initial=0.05, cap=0.1, give_up_after=0.6)
    )
    events = Events(client)
    await peer.stop()
    assert not (await events.expect(ev.ConnectionChanged)).connected
    error = await events.expect(ev.ModelError)
    assert error.code == "reconnect_failed"
    assert await events.ended()


async def test_rejected_on_reconnect_stops(peer: RealtimePeer, make_client: MakeClient) -> None:
    client = await started(make_client, SETTINGS)
    events = Events(client)
    first = await peer.accept()
    peer.reject_update = "invalid_model"
    first.drop()
    assert not (await events.expect(ev.ConnectionChanged)).connected
    error = await events.expect(ev.ModelError)
    assert error.code == "reconnect_rejected" and "invalid_model" in error.message
    assert await events.ended()


async def test_close_while_reconnecting(peer: RealtimePeer, make_client: MakeClient) -> None:
    client = await started(
        make_client, SETTINGS, backoff=Backoff(initial=0.5, cap=1.0, give_up_after=30)
    )
    events = Events(client)
    await peer.stop()
    assert not (await events.expect(ev.ConnectionChanged)).connected
    async with asyncio.timeout(5):
        await client.close()
    assert await events.ended()
