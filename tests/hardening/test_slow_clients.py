"""Slow and greedy HTTP clients: headers sent one byte at a time are cut off within the
header timeout, and one address cannot hold more than its share of connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import Server

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n"


async def _dribble(port: int, gap: float) -> tuple[bytes, float, int]:
    """Send REQUEST a byte every ``gap`` seconds; what came back, when the server
    closed, and how many bytes went out by then."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    sent = 0

    async def dribble() -> None:
        nonlocal sent
        for byte in REQUEST:
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            await asyncio.sleep(gap)  # the slowness under test, not a synchronisation

    sender = asyncio.create_task(dribble())
    try:
        answer = await reader.read()  # until the server closes the connection
        return answer, time.monotonic() - started, sent
    finally:
        sender.cancel()
        writer.close()


async def test_headers_sent_a_byte_at_a_time_are_cut_off(make_server: Callable[..., Any]) -> None:
    async with make_server(header_timeout_seconds=1) as server:
        s: Server = server
        async with asyncio.timeout(10):
            answer, closed_after, sent = await _dribble(s.settings.port, 0.05)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert 0.9 <= closed_after < 3, closed_after
        assert sent < len(REQUEST)  # it was still sending its headers
        # a prompt client on the same server is served, and its keep-alive connection
        # stays usable while it answers in time
        for _ in range(3):
            assert (await s.http.get("/healthz")).status_code == 200


async def test_a_long_request_is_not_cut_by_the_header_timeout(
    make_server: Callable[..., Any],
) -> None:
    async with make_server(header_timeout_seconds=1) as server:
        session = await server.create_session(ttl_seconds=5)
        url = f"/v1/sessions/{session['id']}/events"
        async with asyncio.timeout(15):
            async with server.http.stream("GET", url, headers=server.auth) as response:
                lines = response.aiter_lines()
                assert (await anext(lines)).startswith(":")
                started = time.monotonic()
                record = await server.node_store.get(session["id"])
                assert record is not None
                record.expires_at = 0  # the stream notices within 5 s and ends
                await server.node_store.put(record)
                rest = [line async for line in lines]
                assert time.monotonic() - started > 1  # open past the header timeout
        assert not any(line.startswith("data:") for line in rest)


async def test_connections_per_client_are_bounded(make_server: Callable[..., Any]) -> None:
    async with make_server(max_connections_per_client=4, header_timeout_seconds=30) as server:
        port = server.settings.port
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(4)]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            async with asyncio.timeout(5):
                answer = await reader.read()
            writer.close()
            assert answer.startswith(b"HTTP/1.1 429"), answer
            # the held ones still work
            r0, w0 = held[0]
            w0.write(REQUEST)
            async with asyncio.timeout(5):
                status = await r0.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
        finally:
            for _, w in held:
                w.close()
                await w.wait_closed()
        async with asyncio.timeout(5):  # closed ones no longer count (once the server
            # has read their FIN: it exposes no event for that, so ask until it has)
            while (await server.http.get("/healthz")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
