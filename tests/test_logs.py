"""Structured logs: JSON lines, and the session's id on the lines of its work."""

from __future__ import annotations

import json
import logging

import pytest

from edgevoice.logs import JsonFormatter, SessionFilter
from tests.conftest import Server
from tests.peers import Caller


async def test_session_lines_carry_the_session_id(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(SessionFilter())
    caller = Caller("hello.wav", loop_audio=True)
    try:
        session = await server.connect(caller)
        await server.http.delete(f"/v1/sessions/{session['id']}", headers=server.auth)
        await server.service_tasks()
    finally:
        await caller.close()
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    transitions = [line for line in lines if line["message"].startswith(f"call {session['id']}")]
    assert any("-> connected" in line["message"] for line in transitions)
    assert all(line.get("session_id") == session["id"] for line in transitions)
    assert {"time", "level", "logger", "message"} <= set(transitions[0])


def test_lines_outside_a_session_have_no_session_id() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    SessionFilter().filter(record)
    assert json.loads(JsonFormatter().format(record)) == {
        **json.loads(JsonFormatter().format(record)),
        "message": "hello world",
        "level": "info",
    }
    assert "session_id" not in json.loads(JsonFormatter().format(record))
