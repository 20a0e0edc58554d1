"""Logging for every process kind: plain text or one JSON object a line.

A session's id rides on every log line written while that session's work runs: it is
set (a context variable) where a session's work starts — the node connecting its caller,
the control plane handling a request for it — and asyncio hands it to every task
started from there (aiortc's ICE and DTLS tasks, the bridge's pump, the stats tick).
Audio is never logged; transcript text only with ``--log-transcripts``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time
from typing import Any

SESSION: contextvars.ContextVar[str | None] = contextvars.ContextVar("session", default=None)
TRANSCRIPTS_ENV = "EDGEVOICE_LOG_TRANSCRIPTS"


def bind_session(session_id: str) -> None:
    """Tag this task's log lines (and those of tasks it starts) with ``session_id``."""
    SESSION.set(session_id)


def transcripts_logged() -> bool:
    """Whether transcript text may appear in logs (``--log-transcripts``, inherited by
    child processes such as the offline model server through the environment)."""
    return os.environ.get(TRANSCRIPTS_ENV) == "1"


class SessionFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.session_id = SESSION.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        session = getattr(record, "session_id", None)
        if session:
            out["session_id"] = session
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        session = getattr(record, "session_id", None)
        return f"{text} [{session}]" if session else text


def setup(level: str = "info", fmt: str = "text", transcripts: bool = False) -> None:
    """Configure the root logger once for a process."""
    if transcripts:
        os.environ[TRANSCRIPTS_ENV] = "1"
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SessionFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
