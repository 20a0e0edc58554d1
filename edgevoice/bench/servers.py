"""The servers under test: started pinned to one core, or an already running one.

Three kinds speak the same API subset (``POST /v1/sessions``, WHIP, ``GET
/v1/sessions/{id}``, WHEP, ``GET /healthz``): edgevoice itself, the naive aiortc
server in ``bench/naive_server.py`` and the FastRTC echo in ``bench/fastrtc_server.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from ..localport import free_port

ROOT = Path(__file__).resolve().parents[2]
FASTRTC_PYTHON = Path(os.environ.get("EDGEVOICE_FASTRTC_PYTHON", "/work/fastrtc-venv/bin/python"))
START_SECONDS = 60.0


@dataclass
class Target:
    """A server the bench drives: its URL, API key and (when known) its process."""

    name: str
    url: str
    api_key: str
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> Target:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def command_for(kind: str, port: int) -> list[str]:
    if kind == "edgevoice":
        return [
            sys.executable,
            "-m",
            "edgevoice",
            "serve",
            "--model",
            "echo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--media-address",
            "127.0.0.1",
            "--max-sessions",
            "2000",
            "--log-level",
            "warning",
        ]
    if kind == "naive":
        return [sys.executable, str(ROOT / "bench" / "naive_server.py"), "--port", str(port)]
    if kind == "fastrtc":
        python = str(FASTRTC_PYTHON) if FASTRTC_PYTHON.exists() else sys.executable
        return [python, str(ROOT / "bench" / "fastrtc_server.py"), "--port", str(port)]
    raise ValueError(f"unknown server kind {kind!r}")


def start(
    kind: str, *, core: int | None, api_key: str, logs: Path, extra: list[str] | None = None
) -> Target:
    """Start a server of ``kind`` (pinned to ``core`` with taskset) and wait until it serves;
    ``extra`` arguments go to its command line."""
    port = free_port()
    command = command_for(kind, port) + (extra or [])
    if core is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(core), *command]
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{kind}{''.join(extra or [])}.log"
    env = {**os.environ, "EDGEVOICE_API_KEY": api_key, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    target = Target(kind, f"http://127.0.0.1:{port}", api_key, process.pid, process, log_path)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-600:]
            raise RuntimeError(f"{kind} server exited ({process.returncode}): {tail}")
        try:
            if httpx.get(target.url + "/healthz", timeout=1).status_code == 200:
                return target
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    target.close()
    raise RuntimeError(f"{kind} server did not answer /healthz within {START_SECONDS:.0f} s")


def attach(url: str, api_key: str, pid: int | None) -> Target:
    """A server started by someone else (``--target``); CPU and memory need its pid."""
    return Target("target", url.rstrip("/"), api_key, pid)
