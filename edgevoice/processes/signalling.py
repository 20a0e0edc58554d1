"""``edgevoice signalling``: the control plane alone, stateless; run as many as you like.

Sessions, placement, slots and event streams live in Redis; nodes are found there and
reached through their internal API. Every instance answers every request.
"""

from __future__ import annotations

import asyncio

from ..cluster.directory import RedisDirectory
from ..cluster.eventbus import RedisEventBus
from ..cluster.redisconn import MAX_FOLLOWERS, REDIS_ERRORS, connect
from ..signalling.app import create_app
from ..signalling.keys import RedisKeys
from ..signalling.settings import Settings
from ..signalling.store import RedisStore
from .cluster import require_cluster
from .http import HttpServer, on_signals


async def run_signalling(settings: Settings, *, banner: str | None = None) -> int:
    """Serve until SIGTERM/SIGINT; ``banner`` replaces the ready line (serve's)."""
    stored = 0
    if settings.redis_url and not settings.api_key:
        probe = connect(settings.redis_url)
        try:
            stored = await RedisKeys(probe).count()
        except REDIS_ERRORS:
            stored = 0
        finally:
            await probe.aclose()
    require_cluster(settings, "signalling", stored)
    assert settings.redis_url is not None and settings.cluster_secret is not None
    redis = connect(settings.redis_url)
    followers = connect(settings.redis_url, MAX_FOLLOWERS)
    app = create_app(
        settings,
        None,
        RedisStore(settings.redis_url),
        directory=RedisDirectory(redis, settings.cluster_secret),
        bus=RedisEventBus(followers),
        cleanups=[redis.aclose, followers.aclose],
    )
    server = HttpServer(app, settings.host, settings.port)
    if not await server.start():
        return 1
    stopping = asyncio.Event()
    on_signals(stopping.set)
    if banner is not None:
        print(banner, flush=True)
    else:
        print(
            f"edgevoice signalling ready: http://{settings.host}:{settings.port}/ "
            f"(region {settings.region}, demo page {'on' if settings.demo_enabled else 'off'})",
            flush=True,
        )
    await stopping.wait()
    server.stop()
    await server.wait()
    return 0
