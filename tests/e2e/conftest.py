"""In the end-to-end tests every event on the model socket is held to the SDK's models.

The bridge's realtime client and the offline model server talk over a real WebSocket;
this fixture observes that link at the client's own seams (the socket's ``send`` and
the protocol's JSON parser) and fails the test on any event the openai SDK's pydantic
models reject or that carries a key they do not declare.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from edgevoice.bridge import protocol, realtime_client
from tests.realtime.conformance import check_client_event, check_server_event


class Observed:
    def __init__(self) -> None:
        self.client: list[str] = []
        self.server: list[str] = []
        self.problems: list[str] = []

    def check(self, side: str, event: Any) -> None:
        if not isinstance(event, dict):
            return
        (self.client if side == "client" else self.server).append(str(event.get("type")))
        try:
            (check_client_event if side == "client" else check_server_event)(event)
        except Exception as exc:  # pydantic ValidationError or AssertionError
            self.problems.append(f"{side} {event.get('type')}: {exc}")


@pytest.fixture(autouse=True)
def realtime_conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    observed = Observed()
    real_connect = realtime_client.connect
    real_parse = protocol.parse_json

    async def connect(*args: Any, **kwargs: Any) -> Any:
        ws = await real_connect(*args, **kwargs)
        send = ws.send

        async def checked_send(message: Any, *a: Any, **kw: Any) -> None:
            if isinstance(message, str):
                observed.check("client", json.loads(message))
            await send(message, *a, **kw)

        ws.send = checked_send
        return ws

    def parse_json(raw: str | bytes) -> Any:
        event = real_parse(raw)
        observed.check("server", event)
        return event

    monkeypatch.setattr(realtime_client, "connect", connect)
    monkeypatch.setattr(protocol, "parse_json", parse_json)
    yield observed
    assert not observed.problems, "\n".join(observed.problems[:10])
