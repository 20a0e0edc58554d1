"""``edgevoice node``: one media node (SFU + bridge) of a cluster.

It registers in Redis with a heartbeat, serves its callers' WHIP routes and the internal
API the control plane forwards to, and publishes its sessions' events to Redis. On
SIGTERM it drains: no new sessions (``/readyz`` 503, ``draining`` in its record), live
calls run up to ``--drain-seconds``, the rest are ended with a reason that says so, then
it deregisters and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from typing import Any

from ..cluster.directory import RedisDirectory, local_info
from ..cluster.eventbus import RedisEventBus, RedisEventPublisher
from ..cluster.heartbeat import Registration
from ..cluster.nodeinfo import NodeInfo
from ..cluster.redisconn import MAX_FOLLOWERS, connect
from ..node.models import ModelEndpoints
from ..node.node import Node
from ..node.warmup import warm_up
from ..relay.answer import advertise_relay, local_ice
from ..relay.routes import parse_address, publish_session, withdraw_session
from ..sfu.errors import MediaError
from ..sfu.network import PortRange, set_media_address
from ..sfu.peer import MediaConfig
from ..signalling.app import create_app
from ..signalling.settings import Settings
from ..signalling.store import RedisStore
from .cluster import require_cluster
from .http import HttpServer, on_signals

log = logging.getLogger(__name__)


def advertised_url(settings: Settings) -> str:
    if settings.advertise_url:
        return settings.advertise_url.rstrip("/")
    host = settings.public_ip or settings.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://{host}:{settings.port}"


async def drain(node: Node, seconds: float) -> str:
    """Wait up to ``seconds`` for the node's calls to end by themselves; the reason the
    rest are ended with."""
    live = [s.ended.wait() for s in node.sessions.values()]
    if live and seconds > 0:
        tasks = [asyncio.ensure_future(w) for w in live]
        await asyncio.wait(tasks, timeout=seconds)
        for task in tasks:
            task.cancel()
    return f"node draining: shut down after {seconds:g} s"


def behind_relay(
    node: Node, client: Any, relay: str, media_address: str | None, ttl: float
) -> None:
    """Answers advertise the relay; the relay learns each session's socket from Redis."""
    relay_host, relay_port = parse_address(relay)
    ufrags: dict[str, str] = {}

    async def advertise(session_id: str, answer: str) -> str:
        ice = local_ice(answer, media_address)
        if ice is None:
            raise MediaError("no UDP host candidate in the answer to put behind the relay")
        await publish_session(client, ice.ufrag, (ice.host, ice.port), int(ttl) + 60)
        ufrags[session_id] = ice.ufrag
        return advertise_relay(answer, relay_host, relay_port)

    def ended(session_id: str, reason: str, final: dict[str, Any]) -> None:
        ufrag = ufrags.pop(session_id, None)
        if ufrag is not None:
            task = asyncio.get_running_loop().create_task(withdraw_session(client, ufrag))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    node.add_answer_hook(advertise)
    node.on_session_ended(ended)


async def run_node(
    settings: Settings, *, public_api: bool = False, generated_key: bool = False
) -> int:
    """Run a node; with ``public_api`` the process is also a signalling instance (what
    ``edgevoice serve --redis-url`` runs: a cluster of one that others can join; its
    banner shows the API key only if serve ``generated_key``)."""
    require_cluster(settings, "node")
    assert settings.redis_url is not None and settings.cluster_secret is not None
    from ..serve import banner, local_model_server

    set_media_address(settings.effective_media_address)
    media = MediaConfig(
        ports=PortRange.parse(settings.rtc_ports) if settings.rtc_ports else None,
        public_ip=settings.public_ip,
    )
    node_id = settings.node_id or f"{socket.gethostname()}-{settings.port}"
    url = advertised_url(settings)
    async with contextlib.AsyncExitStack() as stack:
        local_url = settings.local_model_url
        if local_url is None and settings.model == "local":
            local_url = await stack.enter_async_context(local_model_server())
        redis = connect(settings.redis_url)
        followers = connect(settings.redis_url, MAX_FOLLOWERS)
        publisher = RedisEventPublisher(redis)
        node = Node(
            media,
            models=ModelEndpoints(settings.realtime_url, settings.openai_api_key, local_url),
            max_sessions=settings.max_sessions,
            max_session_seconds=settings.max_session_seconds,
            connect_timeout=settings.connect_timeout,
            node_id=node_id,
            region=settings.region,
            event_sink=publisher.publish,
        )
        announced = settings.public_ip or settings.effective_media_address
        await warm_up(media)  # one call to itself before serving (node/warmup.py)

        def describe() -> NodeInfo:
            metrics = getattr(app.state, "node_metrics", None) if app is not None else None
            figures = metrics.figures() if metrics is not None else None
            return dataclasses.replace(local_info(node, url, figures), media_address=announced)

        app: Any = None

        directory = RedisDirectory(redis, settings.cluster_secret, local=node)
        registration = Registration(redis, directory.keys, describe, lambda: list(node.sessions))

        async def cleanup() -> None:
            await publisher.stop()
            await registration.stop(deregister=True)
            await redis.aclose()
            await followers.aclose()

        app = create_app(
            settings,
            node,
            RedisStore(settings.redis_url),
            directory=directory,
            bus=RedisEventBus(followers),
            public_api=public_api,
            registered=lambda: registration.registered,
            cleanups=[cleanup],
        )
        if settings.relay:
            behind_relay(node, redis, settings.relay, announced, settings.max_session_seconds)
        server = HttpServer(app, settings.host, settings.port)
        if not await server.start():
            return 1
        publisher.start()
        registration.start()
        stopping = asyncio.Event()
        on_signals(stopping.set)
        models = ", ".join(node.available_models())
        if public_api:
            where = f"node {node_id}, region {settings.region}"
            print(banner(settings, where, generated_key), flush=True)
        else:
            print(
                f"edgevoice node ready: {node_id} region {settings.region} at {url}\n"
                f"  media {announced or 'all interfaces'}"
                f"{' ports ' + settings.rtc_ports if settings.rtc_ports else ''}; "
                f"models {models}; up to {settings.max_sessions} sessions",
                flush=True,
            )
        await stopping.wait()
        started = time.monotonic()
        node.draining = True
        registration.nudge()
        print(f"node {node_id}: draining {len(node.sessions)} calls", flush=True)
        reason = await drain(node, settings.drain_seconds)
        await node.shutdown(reason)  # what is still live
        log.info("node %s drained in %.1f s", node_id, time.monotonic() - started)
        server.stop()
        await server.wait()
    return 0
