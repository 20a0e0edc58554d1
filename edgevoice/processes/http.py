"""Running a FastAPI app under uvicorn with signals left to the process.

uvicorn's own handlers would stop the server at the first SIGTERM; a draining node must
keep answering HTTP (``/readyz`` 503) while its calls end, so these processes handle
SIGTERM/SIGINT themselves and tell the server to exit when they are done.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from ..signalling.settings import Settings
from .connguard import guarded


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process owns SIGTERM/SIGINT (see on_signals)


def server_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for an edgevoice app: its HTTP protocol bounds slow and
    greedy clients (``connguard``) with the app's settings (``header_timeout_seconds``,
    ``max_connections_per_client``)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        loop="none",
        lifespan="on",
        timeout_graceful_shutdown=5,  # event streams stay open: do not wait on them
        **options,
    )
    settings: Settings | None = getattr(getattr(app, "state", None), "settings", None)
    if settings is not None:
        config.load()
        config.http_protocol_class = guarded(
            config.http_protocol_class,
            settings.header_timeout_seconds,
            settings.max_connections_per_client,
        )
    return config


class HttpServer:
    def __init__(self, app: Any, host: str, port: int) -> None:
        self._server = _Server(server_config(app, host, port))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Start serving; False if the server could not start (port taken, ...)."""
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started and not self._task.done():  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.05)
        return not self._task.done()

    def stop(self) -> None:
        self._server.should_exit = True

    async def wait(self) -> None:
        if self._task is not None:
            await self._task


def on_signals(handler: Callable[[], None]) -> None:
    """Call ``handler`` on SIGTERM or SIGINT (the first one; a second one exits now)."""
    loop = asyncio.get_running_loop()
    fired = False

    def once() -> None:
        nonlocal fired
        if fired:
            raise SystemExit(1)
        fired = True
        handler()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, once)
