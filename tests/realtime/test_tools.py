"""ToolRunner: a real HTTP webhook on 127.0.0.1 (allow-listed), entry-point callables,
built-ins, and a function call going the whole way through the RealtimeClient.
Destination checks and signatures: tests/realtime/test_webhooks.py."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edgevoice.bridge import events as ev
from edgevoice.bridge.model import SessionSettings
from edgevoice.bridge.tools import ToolRunner as _ToolRunner
from edgevoice.bridge.webhooks import WebhookPolicy

from .conftest import Events, MakeClient, started
from .peer import RealtimePeer

CALL = ev.FunctionCall("resp_1", "call_1", "book", '{"day": "monday"}')
LOOPBACK_ALLOWED = WebhookPolicy.parse("127.0.0.1")
DECLARED = ("book", "get_time", "broken")


def ToolRunner(url: str | None, session_id: str, **kwargs: Any) -> _ToolRunner:
    """The runner as a session with these tools declared builds it, loopback allowed."""
    kwargs.setdefault("declared", DECLARED)
    kwargs.setdefault("policy", LOOPBACK_ALLOWED)
    return _ToolRunner(url, session_id, **kwargs)


@dataclass
class Webhook:
    """A tiny HTTP/1.1 server: the path picks the behaviour."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:] if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append({"path": path, "headers": headers, "body": json.loads(body)})
            match path:
                case "/ok":
                    status, payload = 200, json.dumps({"booked": True, "echo": json.loads(body)})
                case "/slow":
                    await asyncio.sleep(3)
                    status, payload = 200, "{}"
                case "/fail":
                    status, payload = 500, "database is down"
                case "/text":
                    status, payload = 200, "booked, thanks"
                case _:
                    status, payload = 404, "no such hook"
            data = payload.encode()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    server = await asyncio.start_server(hook.handle, "127.0.0.1", 0)
    hook.port = server.sockets[0].getsockname()[1]
    try:
        yield hook
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await server.wait_closed()


async def run(runner: ToolRunner, call: ev.FunctionCall = CALL) -> Any:
    try:
        async with asyncio.timeout(10):
            return json.loads(await runner.run(call))
    finally:
        await runner.aclose()


async def test_webhook_success(webhook: Webhook) -> None:
    output = await run(ToolRunner(webhook.url("/ok"), "sess_1"))
    assert output == {
        "booked": True,
        "echo": {"session_id": "sess_1", "call_id": "call_1", "name": "book",
                 "arguments": {"day": "monday"}},
    }  # fmt: skip
    assert webhook.requests[0]["headers"]["content-type"] == "application/json"


async def test_webhook_timeout_is_an_error_output(webhook: Webhook) -> None:
    output = await run(ToolRunner(webhook.url("/slow"), "sess_1", timeout=0.3))
    assert output == {"error": "webhook for tool 'book' did not answer within 0.3 s"}


async def test_webhook_500_is_an_error_output(webhook: Webhook) -> None:
    output = await run(ToolRunner(webhook.url("/fail"), "sess_1"))
    assert output == {"error": "webhook for tool 'book' answered HTTP 500: database is down"}


async def test_webhook_non_json_is_an_error_output(webhook: Webhook) -> None:
    output = await run(ToolRunner(webhook.url("/text"), "sess_1"))
    assert output == {"error": "webhook for tool 'book' answered with non-JSON"}


async def test_webhook_unreachable_is_an_error_output(webhook: Webhook) -> None:
    output = await run(ToolRunner("http://127.0.0.1:9/hook", "sess_1"))
    assert output["error"].startswith("webhook for tool 'book' unreachable")


async def test_bad_arguments_are_an_error_output(webhook: Webhook) -> None:
    call = ev.FunctionCall("resp_1", "call_1", "book", "{not json")
    output = await run(ToolRunner(webhook.url("/ok"), "sess_1"), call)
    assert output["error"].startswith("the arguments are not JSON")
    assert webhook.requests == []


async def test_builtin_get_time_without_webhook() -> None:
    call = ev.FunctionCall("resp_1", "call_1", "get_time", "")
    output = await run(ToolRunner(None, "sess_1"), call)
    now = datetime.datetime.now().astimezone()
    stamp = datetime.datetime.fromisoformat(output["iso"])
    assert abs((now - stamp).total_seconds()) < 5
    assert output["time"] == stamp.strftime("%H:%M")


async def test_unknown_tool_without_webhook() -> None:
    output = await run(ToolRunner(None, "sess_1"))
    assert output == {"error": "no tool named 'book' (no webhook, entry point or built-in)"}


async def test_undeclared_tool_is_refused_without_a_request(webhook: Webhook) -> None:
    output = await run(ToolRunner(webhook.url("/ok"), "sess_1", declared=("get_time",)))
    assert output == {"error": "tool 'book' was not declared by the session"}
    assert webhook.requests == []
    call = ev.FunctionCall("resp_1", "call_1", "get_time", "")
    assert "error" in await run(ToolRunner(None, "sess_1", declared=()), call)


TOOLS_MODULE = """
import asyncio

async def book(arguments):
    await asyncio.sleep(0)
    return {"booked": arguments["day"], "by": "entry point"}

def get_time(arguments):
    return {"time": "overridden"}

def broken(arguments):
    raise RuntimeError("the calendar is gone")
"""
ENTRY_POINTS = """[edgevoice.tools]
book = evtest_tools:book
get_time = evtest_tools:get_time
broken = evtest_tools:broken
"""


@pytest.fixture
def entry_point_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Install a distribution with ``edgevoice.tools`` entry points on sys.path."""
    (tmp_path / "evtest_tools.py").write_text(TOOLS_MODULE)
    info = tmp_path / "evtest_tools-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evtest-tools\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))


async def test_entry_point_wins_over_webhook_and_builtin(
    entry_point_tools: None, webhook: Webhook
) -> None:
    output = await run(ToolRunner(webhook.url("/ok"), "sess_1"))
    assert output == {"booked": "monday", "by": "entry point"}
    assert webhook.requests == []
    call = ev.FunctionCall("resp_1", "call_2", "get_time", "{}")
    assert await run(ToolRunner(None, "sess_1"), call) == {"time": "overridden"}


async def test_installed_entry_point_the_session_did_not_declare_is_not_run(
    entry_point_tools: None, webhook: Webhook
) -> None:
    call = ev.FunctionCall("resp_1", "call_3", "broken", "{}")  # installed, raises if run
    output = await run(ToolRunner(webhook.url("/ok"), "sess_1", declared=("book",)), call)
    assert output == {"error": "tool 'broken' was not declared by the session"}
    assert webhook.requests == []


async def test_failing_entry_point_is_an_error_output(entry_point_tools: None) -> None:
    call = ev.FunctionCall("resp_1", "call_3", "broken", "{}")
    output = await run(ToolRunner(None, "sess_1"), call)
    assert output == {"error": "tool 'broken' failed: RuntimeError: the calendar is gone"}


async def test_function_call_round_trip_through_the_client(
    peer: RealtimePeer, make_client: MakeClient, webhook: Webhook
) -> None:
    settings = SessionSettings(
        model="gpt-realtime",
        tools=({"type": "function", "name": "book", "parameters": {"type": "object"}},),
    )
    client = await started(make_client, settings, tools=ToolRunner(webhook.url("/ok"), "sess_9"))
    conn = await peer.accept()
    events = Events(client)
    await conn.send(
        {"type": "response.function_call_arguments.done", "response_id": "resp_1",
         "item_id": "fc_1", "output_index": 0, "call_id": "call_5", "name": "book",
         "arguments": '{"day": "friday"}'}
    )  # fmt: skip
    call = await events.expect(ev.FunctionCall)
    assert call.call_id == "call_5"
    item = await conn.next_non_audio()
    assert item["type"] == "conversation.item.create"
    assert item["item"]["type"] == "function_call_output"
    assert item["item"]["call_id"] == "call_5"
    assert json.loads(item["item"]["output"])["echo"]["arguments"] == {"day": "friday"}
    assert await conn.next_non_audio() == {"type": "response.create"}
    assert webhook.requests[0]["body"]["session_id"] == "sess_9"
