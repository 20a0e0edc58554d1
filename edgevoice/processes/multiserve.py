"""``edgevoice serve --nodes N``: every core of one machine.

One signalling in this process and N ``edgevoice node`` child processes, each with its
own HTTP port and its slice of the UDP range, sharing one Redis (``--redis-url``, or a
private ``redis-server`` started here), one offline model server, one API key and one
cluster secret. Children die with this process; on SIGTERM they drain first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import sys
from collections.abc import AsyncIterator

from ..cluster.errors import ClusterConfigError
from ..localport import free_port
from ..sfu.network import PortRange
from ..signalling.settings import Settings
from .signalling import run_signalling

READY_SECONDS = 120


def split_ports(spec: str | None, n: int) -> list[str | None]:
    """Cut ``A-B`` into ``n`` contiguous ranges, one per node (None: any port)."""
    if not spec:
        return [None] * n
    whole = PortRange.parse(spec)
    size = (whole.high - whole.low + 1) // n
    if size < 2:
        raise ClusterConfigError(f"--rtc-ports {spec} is too small for {n} nodes")
    return [f"{whole.low + i * size}-{whole.low + (i + 1) * size - 1}" for i in range(n)]


async def _pipe(stream: asyncio.StreamReader, name: str) -> None:
    async for line in stream:
        sys.stdout.write(f"[{name}] {line.decode(errors='replace')}")
        sys.stdout.flush()


@contextlib.asynccontextmanager
async def private_redis() -> AsyncIterator[str]:
    """A ``redis-server`` child on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ClusterConfigError(
            "serve --nodes N needs Redis: pass --redis-url redis://HOST:6379, or install "
            "redis-server (Debian: apt-get install redis-server) so serve can start its own"
        )
    from ..serve import _die_with_parent

    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, preexec_fn=_die_with_parent,
    )  # fmt: skip
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.write(b"PING\r\n")
                reply = await reader.readline()
                writer.close()
                if reply.startswith(b"+PONG"):
                    break
                await asyncio.sleep(0.05)
        print(f"started a private redis-server on 127.0.0.1:{port}", flush=True)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def _start_node(
    args: list[str], env: dict[str, str], name: str
) -> asyncio.subprocess.Process:
    from ..serve import _die_with_parent

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edgevoice", "node", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    async with asyncio.timeout(READY_SECONDS):
        async for raw in proc.stdout:
            line = raw.decode(errors="replace")
            lines.append(line)
            if line.startswith("edgevoice node ready"):
                break
        else:
            raise ClusterConfigError(f"{name} did not start:\n" + "".join(lines[-20:]))
    asyncio.get_running_loop().create_task(_pipe(proc.stdout, name))
    return proc


async def serve_many(settings: Settings, *, generated_key: bool) -> int:
    from ..serve import banner, local_model_server

    n = settings.node_count
    ports = split_ports(settings.rtc_ports, n)
    children: list[asyncio.subprocess.Process] = []
    async with contextlib.AsyncExitStack() as stack:
        if not settings.redis_url:
            settings.redis_url = await stack.enter_async_context(private_redis())
        settings.cluster_secret = settings.cluster_secret or secrets.token_urlsafe(24)
        local_url = settings.local_model_url
        if local_url is None and settings.model == "local":
            local_url = await stack.enter_async_context(local_model_server())
            if local_url is None:
                settings.model = "echo"
        env = {
            **os.environ,
            "EDGEVOICE_REDIS_URL": settings.redis_url,
            "EDGEVOICE_CLUSTER_SECRET": settings.cluster_secret,
        }
        if local_url:
            env["EDGEVOICE_LOCAL_MODEL_URL"] = local_url
        host = socket.gethostname()
        try:
            for i in range(n):
                name = f"{host}-node{i + 1}"
                args = [
                    "--host", settings.host, "--port", str(free_port()), "--region",
                    settings.region, "--node-id", name, "--model", settings.model,
                    "--max-sessions", str(settings.max_sessions),
                    "--drain-seconds", str(settings.drain_seconds),
                    "--connect-timeout", str(settings.connect_timeout),
                ]  # fmt: skip
                if ports[i]:
                    args += ["--rtc-ports", str(ports[i])]
                if settings.media_address:
                    args += ["--media-address", settings.media_address]
                if settings.public_ip:
                    args += ["--public-ip", settings.public_ip]
                children.append(await _start_node(args, env, name))
            text = banner(settings, f"{n} processes, Redis {settings.redis_url}", generated_key)
            return await run_signalling(settings, banner=text)
        finally:
            for child in children:
                if child.returncode is None:
                    child.terminate()
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    await child.wait()
