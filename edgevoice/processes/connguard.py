"""Slow and greedy HTTP clients, bounded below the application.

An ASGI app only sees a request once its headers are complete, so a client that sends
them one byte at a time (slowloris) is invisible to it and would hold its connection
forever. ``guarded`` wraps uvicorn's HTTP protocol class:

- **header timeout**: a connection must finish a request's headers within
  ``header_timeout`` seconds of opening (or of its previous response); otherwise it
  gets ``408`` and is closed. The clock stops once the headers are in, so long requests
  (an event stream) are not cut;
- **connections per client**: at most ``max_per_client`` open connections from one
  address; the next one gets ``429`` and is closed at once (0: no limit). Behind a
  reverse proxy every connection comes from the proxy: raise the limit there, or let
  the proxy enforce its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 10.0


def _response(status: str, reason: str) -> bytes:
    body = reason.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


TIMEOUT_408 = _response("408 Request Timeout", "request headers not received in time\n")
BUSY_429 = _response("429 Too Many Requests", "too many open connections from this address\n")


class _Refusals:
    """Counts refused connections; logs at most one line per 10 s."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._logged = 0.0

    def note(self, kind: str) -> None:
        self.counts[kind] += 1
        now = time.monotonic()
        if now - self._logged >= LOG_EVERY_SECONDS:
            self._logged = now
            log.warning("HTTP connections refused so far: %s", dict(self.counts))


refusals = _Refusals()


def guarded(base: type[Any], header_timeout: float, max_per_client: int) -> type[Any]:
    """A subclass of uvicorn's ``base`` HTTP protocol with both bounds."""
    open_by_client: Counter[str] = Counter()

    class Guarded(base):  # type: ignore[misc]
        _timer: asyncio.TimerHandle | None = None
        _waiting_after: Any = None
        _counted: str | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            host = self.client[0] if self.client else None
            if max_per_client and host is not None:
                if open_by_client[host] >= max_per_client:
                    refusals.note("per_client")
                    transport.write(BUSY_429)
                    transport.close()
                    return
                open_by_client[host] += 1
                self._counted = host
            self._arm()

        def _arm(self) -> None:
            """Wait for the headers of a request after the current cycle."""
            self._cancel()
            self._waiting_after = self.cycle
            self._timer = self.loop.call_later(header_timeout, self._expired)

        def _cancel(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expired(self) -> None:
            self._timer = None
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # closed already, or upgraded (a WebSocket) since
            if self.cycle is self._waiting_after:  # no new request's headers yet
                refusals.note("header_timeout")
                self.transport.write(TIMEOUT_408)
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._timer is not None and self.cycle is not self._waiting_after:
                self._cancel()  # the headers are in

        def on_response_complete(self) -> None:
            finished = self.cycle
            super().on_response_complete()
            if not self.transport.is_closing() and self.cycle is finished:
                self._arm()  # keep-alive: the next request's headers are on the clock

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel()
            if self._counted is not None:
                open_by_client[self._counted] -= 1
                if open_by_client[self._counted] <= 0:
                    del open_by_client[self._counted]
                self._counted = None
            super().connection_lost(exc)

    Guarded.__name__ = f"Guarded{base.__name__}"
    Guarded.open_by_client = open_by_client
    return Guarded
