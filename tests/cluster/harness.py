"""Real cluster processes for tests: ``edgevoice node`` / ``signalling`` / ``serve``
children and a private ``redis-server``, all on 127.0.0.1, all killed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from edgevoice.localport import free_port

API_KEY = "evk_cluster_test"
SECRET = "cluster-test-secret"
READY_SECONDS = 60


@dataclass
class Proc:
    name: str
    proc: asyncio.subprocess.Process
    url: str = ""
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, prefix: str, seconds: float = READY_SECONDS) -> str:
        """The first output line (seen or coming) that starts with ``prefix``."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        async with asyncio.timeout(seconds):
            async with self._changed:
                while True:
                    for line in self.lines:
                        if line.startswith(prefix):
                            return line
                    if self._reader.done():
                        raise AssertionError(f"{self.name} exited:\n" + self.output[-3000:])
                    await self._changed.wait()

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            async for raw in self.proc.stdout:
                async with self._changed:
                    self.lines.append(raw.decode(errors="replace"))
                    self._changed.notify_all()
        finally:
            async with self._changed:
                self._changed.notify_all()

    def signal(self, sig: int) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)

    async def exited(self, seconds: float = 30) -> int:
        async with asyncio.timeout(seconds):
            code = await self.proc.wait()
        if self._reader is not None:
            await self._reader
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


async def spawn(name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edgevoice", *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return Proc(name, proc)


class RedisServer:
    """A private redis-server (no persistence) that a test may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/test.sh installs it)"
        self.proc = await asyncio.create_subprocess_exec(
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdout is not None
        async with asyncio.timeout(10):
            async for line in self.proc.stdout:
                if b"Ready to accept connections" in line:
                    break

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class Cluster:
    def __init__(self, redis_url: str, redis: RedisServer | None = None) -> None:
        self.redis_url = redis_url
        self.redis = redis
        self.procs: list[Proc] = []
        self.env = {
            "EDGEVOICE_CLUSTER_SECRET": SECRET,
            "EDGEVOICE_API_KEY": API_KEY,
            "EDGEVOICE_REDIS_URL": redis_url,
        }

    async def node(self, node_id: str, region: str, *flags: str) -> Proc:
        port = free_port()
        proc = await spawn(
            node_id, "node", "--region", region, "--node-id", node_id, "--host", "127.0.0.1",
            "--port", str(port), "--model", "echo", *flags, env=self.env,
        )  # fmt: skip
        self.procs.append(proc)
        proc.url = f"http://127.0.0.1:{port}"
        await proc.wait_for("edgevoice node ready")
        return proc

    async def signalling(self, region: str = "eu") -> Proc:
        port = free_port()
        proc = await spawn(
            f"signalling-{port}", "signalling", "--host", "127.0.0.1", "--port", str(port),
            "--region", region, env=self.env,
        )  # fmt: skip
        self.procs.append(proc)
        proc.url = f"http://127.0.0.1:{port}"
        await proc.wait_for("edgevoice signalling ready")
        return proc

    async def close(self) -> None:
        for proc in self.procs:
            proc.signal(signal.SIGKILL)
        for proc in self.procs:
            with contextlib.suppress(TimeoutError):
                await proc.exited(10)


@contextlib.asynccontextmanager
async def cluster(redis_url: str | None = None) -> AsyncIterator[Cluster]:
    """A cluster on a private Redis (or ``redis_url``); every process killed at the end."""
    redis = None
    if redis_url is None:
        redis = RedisServer()
        await redis.start()
        redis_url = redis.url
    c = Cluster(redis_url, redis)
    try:
        yield c
    finally:
        await c.close()
        if redis is not None:
            await redis.kill()


AUTH = {"Authorization": f"Bearer {API_KEY}"}


async def create(http: httpx.AsyncClient, base: str, **body: object) -> httpx.Response:
    return await http.post(f"{base}/v1/sessions", json={"model": "echo", **body}, headers=AUTH)


async def whip(http: httpx.AsyncClient, url: str, secret: str, offer: str) -> httpx.Response:
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"}
    return await http.post(url, content=offer, headers=headers)
