from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from edgevoice.sfu.errors import MediaError
from edgevoice.sfu.network import PortRange
from edgevoice.sfu.sdp import candidate_ports
from tests.peers import Caller


def test_port_range_parsing_and_rotation() -> None:
    ports = PortRange.parse("40000-40002")
    assert len(ports) == 3
    assert list(ports.candidates()) == [40000, 40001, 40002]
    first = next(iter(ports.candidates()))
    assert first == 40000  # a full pass leaves the cursor back at the start
    with pytest.raises(MediaError):
        PortRange.parse("oops")
    with pytest.raises(MediaError):
        PortRange(5, 1)


async def test_media_binds_inside_the_range_and_runs_out_cleanly(
    make_server: Callable[..., Any],
) -> None:
    low = 42000
    # one port is taken by someone else: the node skips it
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", low))
    callers: list[Caller] = []
    try:
        async with make_server(rtc_ports=f"{low}-{low + 2}") as server:
            used: list[int] = []
            for _ in range(2):
                session = await server.create_session()
                caller = Caller(None)
                callers.append(caller)
                answer = await server.whip(session["client_secret"]["value"], await caller.offer())
                assert answer.status_code == 201, answer.text
                ports = set(candidate_ports(answer.text))
                assert ports <= {low + 1, low + 2}
                used += ports
            assert sorted(used) == [low + 1, low + 2]
            session = await server.create_session()
            extra = Caller(None)
            callers.append(extra)
            refused = await server.whip(session["client_secret"]["value"], await extra.offer())
            assert refused.status_code == 503
            assert "no free UDP port" in refused.json()["detail"]
            assert refused.headers["retry-after"]
    finally:
        blocker.close()
        await asyncio.gather(*(c.close() for c in callers))
