"""Two signalling instances and three nodes in two regions, as separate processes on
one private Redis: placement, forwarding, calls and events across processes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from edgevoice.sfu import sdp
from tests.cluster.harness import AUTH, cluster, create, whip
from tests.peers import Caller, Listener


async def _echo_frames(caller: Caller, at_least: int) -> None:
    reply = await caller.track(0)
    await reply.wait_frames(reply.frames + at_least)


async def _slots_settle(
    http: httpx.AsyncClient, base: str, wanted: dict[str, int], which: dict[str, Any]
) -> None:
    """Until the nodes' loads are ``wanted`` (after ``which`` ended, its slot is free);
    the owner reports the end asynchronously, and no event reaches the test for it."""
    owner = which["node"]["id"]
    other = "eu-2" if owner == "eu-1" else "eu-1"
    wanted = {**wanted, owner: 0, other: 1}
    async with asyncio.timeout(10):
        while True:
            nodes = (await http.get(f"{base}/v1/nodes", headers=AUTH)).json()["nodes"]
            if {n["id"]: n["load"] for n in nodes} == wanted:
                return
            await asyncio.sleep(0.1)


async def test_sessions_land_by_region_and_load_and_calls_work_through_any_signalling() -> None:
    async with cluster() as c, httpx.AsyncClient(timeout=20) as http:
        eu1 = await c.node("eu-1", "eu", "--max-sessions", "4")
        eu2 = await c.node("eu-2", "eu", "--max-sessions", "4")
        us1 = await c.node("us-1", "us", "--max-sessions", "4")
        sig_a = await c.signalling("eu")
        sig_b = await c.signalling("eu")
        for proc in (eu1, eu2, us1):
            ready = await http.get(f"{proc.url}/readyz")
            assert ready.status_code == 200 and ready.json()["registered"]
        listed = (await http.get(f"{sig_b.url}/v1/nodes", headers=AUTH)).json()["nodes"]
        assert [(n["id"], n["region"], n["load"]) for n in listed] == [
            ("eu-1", "eu", 0), ("eu-2", "eu", 0), ("us-1", "us", 0),
        ]  # fmt: skip

        # regions a page can time: one ping URL per region, on a node there
        listed_regions = (await http.get(f"{sig_a.url}/v1/regions")).json()["regions"]
        assert [r["region"] for r in listed_regions] == ["eu", "us"]
        assert listed_regions[1]["ping_url"] == f"{us1.url}/v1/ping"
        assert listed_regions[0]["free_slots"] == 8
        ping = await http.get(listed_regions[1]["ping_url"])
        assert ping.status_code == 204 and ping.headers["access-control-allow-origin"] == "*"
        nearest = await create(http, sig_b.url, client_rtt_ms={"eu": 80, "us": 12})
        assert nearest.json()["node"]["region"] == "us"
        await http.delete(f"{sig_b.url}/v1/sessions/{nearest.json()['id']}", headers=AUTH)

        # a region hint wins; without one, the signalling's own region, least loaded first
        us = (await create(http, sig_a.url, region="us")).json()
        assert us["node"] == {"id": "us-1", "region": "us"}
        assert us["whip_url"] == f"{us1.url}/v1/whip"  # media signalling takes no extra hop
        first = (await create(http, sig_b.url)).json()
        second = (await create(http, sig_a.url)).json()
        assert {first["node"]["id"], second["node"]["id"]} == {"eu-1", "eu-2"}

        callers = [Caller("hello.wav", loop_audio=True), Caller("hello.wav", loop_audio=True)]
        try:
            # the us caller posts to its node; the eu caller to a signalling, which forwards
            answer = await whip(
                http, us["whip_url"], us["client_secret"]["value"], await callers[0].offer()
            )
            assert answer.status_code == 201, answer.text
            await callers[0].accept(answer.text)
            forwarded = await whip(
                http, f"{sig_b.url}/v1/whip", first["client_secret"]["value"],
                await callers[1].offer(),
            )  # fmt: skip
            assert forwarded.status_code == 201, forwarded.text
            await callers[1].accept(forwarded.text)
            async with asyncio.timeout(20):
                for caller in callers:
                    await caller.next_event("state", state="connected")
                    await _echo_frames(caller, 25)

            # trickle through the other signalling reaches the owner (RFC 8840 fragment)
            frag = "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
            patched = await http.patch(
                sig_a.url + forwarded.headers["location"],
                content=frag,
                headers={
                    "Content-Type": "application/trickle-ice-sdpfrag",
                    "Authorization": f"Bearer {first['client_secret']['value']}",
                },
            )
            assert patched.status_code == 204, patched.text

            # live figures and events from every signalling
            for sig in (sig_a, sig_b):
                body = (await http.get(f"{sig.url}/v1/sessions/{us['id']}", headers=AUTH)).json()
                assert body["state"] == "connected" and body["node"]["id"] == "us-1"
                assert body["stats"]["tracks"]["caller_audio"]["frames"] > 0
            events: list[dict[str, Any]] = []
            async with asyncio.timeout(15):
                url = f"{sig_b.url}/v1/sessions/{us['id']}/events"
                async with http.stream("GET", url, headers=AUTH) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data: "):
                            events.append(json.loads(line[6:]))
                        if any(e["type"] == "stats" for e in events):
                            break
            assert events[0]["type"] == "state"  # kept events are replayed first

            # a WHEP listener through a signalling hears the call on its node
            listener = Listener()
            try:
                listened = await http.post(
                    f"{sig_b.url}/v1/sessions/{us['id']}/whep",
                    content=await listener.offer(),
                    headers={**AUTH, "Content-Type": "application/sdp"},
                )
                assert listened.status_code == 201, listened.text
                await listener.accept(listened.text)
                async with asyncio.timeout(15):
                    await (await listener.track(0)).wait_frames(25)  # the caller
                    await (await listener.track(1)).wait_frames(25)  # the agent (echo)
                stop = await http.delete(sig_a.url + listened.headers["location"], headers=AUTH)
                assert stop.status_code == 200, stop.text
                again = await http.delete(sig_a.url + listened.headers["location"], headers=AUTH)
                assert again.status_code == 200  # idempotent: it ended a moment ago
            finally:
                await listener.close()

            # a listener token minted on one signalling works on the other (hashed in the
            # shared record); the WHEP verbs reach the owner node with ?track= and trickle
            minted = await http.post(f"{sig_a.url}/v1/sessions/{us['id']}/listeners", headers=AUTH)
            assert minted.status_code == 201, minted.text
            bearer = {"Authorization": f"Bearer {minted.json()['token']}"}
            agent_only = Listener(1)
            try:
                listened = await http.post(
                    f"{sig_b.url}/v1/sessions/{us['id']}/whep?track=agent",
                    content=await agent_only.offer(),
                    headers={**bearer, "Content-Type": "application/sdp"},
                )
                assert listened.status_code == 201, listened.text
                await agent_only.accept(listened.text)
                async with asyncio.timeout(15):
                    await (await agent_only.track(0)).wait_frames(25)  # the agent (echo)
                resource = sig_a.url + listened.headers["location"]
                ice = sdp.ice_credentials(agent_only.pc.localDescription.sdp)
                fragment = (f"a=ice-ufrag:{ice.ufrag}\r\na=ice-pwd:{ice.pwd}\r\na=mid:0\r\n"
                            "a=candidate:9 1 udp 2130706431 127.0.0.1 9 typ host\r\n")  # fmt: skip
                trickled = await http.patch(resource, content=fragment, headers={
                    **bearer, "Content-Type": "application/trickle-ice-sdpfrag",
                    "If-Match": listened.headers["etag"]})  # fmt: skip
                assert trickled.status_code == 204, trickled.text
                restart = fragment.replace(f"a=ice-pwd:{ice.pwd}", "a=ice-pwd:" + "x" * 24)
                refused = await http.patch(resource, content=restart, headers={
                    **bearer, "Content-Type": "application/trickle-ice-sdpfrag",
                    "If-Match": "*"})  # fmt: skip
                assert refused.status_code == 422, refused.text
                stop = await http.delete(resource, headers=bearer)
                assert stop.status_code == 200, stop.text
            finally:
                await agent_only.close()

            # DELETE through a signalling that did not place the call ends it on its owner
            deleted = await http.delete(f"{sig_b.url}/v1/sessions/{first['id']}", headers=AUTH)
            assert deleted.status_code == 204
            async with asyncio.timeout(10):
                closed = await callers[1].next_event("state", state="closed")
            assert closed["reason"] == "deleted by API"
            await _slots_settle(http, sig_a.url, {"eu-1": 0, "eu-2": 1, "us-1": 1}, first)
            body = (await http.get(f"{sig_a.url}/v1/sessions/{first['id']}", headers=AUTH)).json()
            assert body["state"] == "closed" and body["end_reason"] == "deleted by API"
            assert body["stats"]["tracks"]["caller_audio"]["frames"] > 0  # final figures kept
            # the call on the other region never noticed
            async with asyncio.timeout(10):
                await _echo_frames(callers[0], 25)
        finally:
            for caller in callers:
                await caller.close()
