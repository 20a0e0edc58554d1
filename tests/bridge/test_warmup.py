"""The node's warm-up call (node/warmup.py): a real echo call to itself, then gone."""

from __future__ import annotations

import asyncio
import gc
import socket

from edgevoice.node.session import LiveSession
from edgevoice.node.warmup import warm_up
from edgevoice.sfu.network import PortRange
from edgevoice.sfu.peer import MediaConfig, SharedCertificate


async def test_warm_up_places_an_echo_call_and_leaves_nothing_behind() -> None:
    async with asyncio.timeout(15):
        took = await warm_up(MediaConfig())
    assert took is not None and took > 0  # the echo came back: it did not fail or time out
    assert SharedCertificate._current is not None  # the certificate is made once, now
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, LiveSession)]


async def test_warm_up_answers_on_the_node_ports_and_ignores_the_public_ip() -> None:
    # A public address in the answer would send the caller away from this machine.
    media = MediaConfig(ports=PortRange(41000, 41099), public_ip="203.0.113.7")
    async with asyncio.timeout(15):
        took = await warm_up(media)
    assert took is not None


async def test_a_failed_warm_up_is_reported_not_raised() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        media = MediaConfig(ports=PortRange(port, port))  # its only port is taken
        async with asyncio.timeout(15):
            assert await warm_up(media) is None
