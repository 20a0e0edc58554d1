"""``edgevoice serve``: everything in one process on an embedded default.

``--nodes N`` (N > 1, or ``auto``) runs one signalling and N node processes on this
machine instead (``processes/multiserve.py``); ``--redis-url`` with one node runs this
process as a node and signalling of a cluster that others can join.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator

import uvicorn

from .localport import free_port
from .node.models import ModelEndpoints
from .node.node import Node
from .node.warmup import warm_up
from .processes.http import server_config
from .processes.modelchild import ModelServerChild, die_with_parent
from .sfu.network import PortRange, set_media_address
from .sfu.peer import MediaConfig
from .signalling import auth
from .signalling.app import create_app
from .signalling.settings import Settings, is_loopback

log = logging.getLogger(__name__)


def _die_with_parent() -> None:
    die_with_parent()


@contextlib.asynccontextmanager
async def local_model_server() -> AsyncIterator[str | None]:
    """Start ``edgevoice model-server`` as a supervised child; yield its URL once ready
    (None if the offline model is not installed or did not start)."""
    try:
        import edgevoice.modelserver.cli  # noqa: F401
    except ImportError:
        yield None
        return
    child = ModelServerChild(free_port())
    print(f"starting the offline model on 127.0.0.1:{child.port} (loads once) ...", flush=True)
    try:
        if not await child.start():
            print("the offline model did not start; sessions use the echo model", flush=True)
            yield None
            return
        child.supervise()
        yield child.url
    finally:
        await child.stop()


def banner(settings: Settings, nodes: str, generated_key: bool = False) -> str:
    """The ready banner; the API key is shown only when serve generated it."""
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    key = settings.api_key if generated_key else "(from EDGEVOICE_API_KEY)"
    return (
        f"\nedgevoice ready: open http://{shown}:{settings.port}/\n"
        f"  API key   {key}\n"
        f"  model     {settings.model}\n"
        f"  nodes     {nodes}\n"
        f"  media     {settings.effective_media_address or 'all interfaces'}"
        f"{' ports ' + settings.rtc_ports if settings.rtc_ports else ''}\n"
        f"  demo page {'on' if settings.demo_enabled else 'off'}"
        f"{'' if is_loopback(settings.host) else ' (bound beyond loopback)'}\n"
    )


async def serve(settings: Settings) -> int:
    generated_key = not settings.api_key
    if not settings.api_key:
        settings.api_key = auth.new_api_key()
    if settings.node_count > 1:
        from .processes.multiserve import serve_many

        return await serve_many(settings, generated_key=generated_key)
    if settings.redis_url:
        from .processes.node import run_node

        if not settings.cluster_secret:
            settings.cluster_secret = secrets.token_urlsafe(24)
            print(
                "no EDGEVOICE_CLUSTER_SECRET: generated one for this process; other "
                "signalling instances cannot forward to it",
                flush=True,
            )
        return await run_node(settings, public_api=True, generated_key=generated_key)
    set_media_address(settings.effective_media_address)
    media = MediaConfig(
        ports=PortRange.parse(settings.rtc_ports) if settings.rtc_ports else None,
        public_ip=settings.public_ip,
    )
    async with contextlib.AsyncExitStack() as stack:
        local_url = settings.local_model_url
        if local_url is None and settings.model == "local":
            local_url = await stack.enter_async_context(local_model_server())
        endpoints = ModelEndpoints(
            realtime_url=settings.realtime_url,
            api_key=settings.openai_api_key,
            local_url=local_url,
        )
        node = Node(
            media,
            models=endpoints,
            max_sessions=settings.max_sessions,
            max_session_seconds=settings.max_session_seconds,
            connect_timeout=settings.connect_timeout,
            region=settings.region,
        )
        try:
            node.check_model(settings.model)
        except Exception as exc:
            print(f"default model {settings.model!r} is not available ({exc}); using 'echo'")
            settings.model = "echo"
        # One call to itself before serving: what the first call would pay once
        # (certificate, library pages, lazily built state) is paid now (node/warmup.py).
        warmed = await warm_up(media)
        if warmed is not None:
            log.info("warm-up call took %.0f ms", warmed * 1000)
        app = create_app(settings, node)
        server = uvicorn.Server(server_config(app, settings.host, settings.port))
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
        if serving.done():
            return 1
        # Everything loaded so far lives as long as the process: move it out of the
        # collector's way, so a full collection (freeing ended calls) stays short.
        gc.collect()
        gc.freeze()
        print(banner(settings, "1 (this process, in memory)", generated_key), flush=True)
        await serving
    return 0
