"""Secrets: serve shows the API key only when it generated it, on every path (one
process, and --redis-url, which runs it as a cluster node with the public API)."""

from __future__ import annotations

import asyncio

from edgevoice.localport import free_port
from edgevoice.serve import banner
from edgevoice.signalling.settings import Settings
from tests.cluster.harness import RedisServer, spawn


def test_the_banner_shows_only_a_generated_key() -> None:
    settings = Settings(api_key="evk_from_env")
    assert "evk_from_env" not in banner(settings, "1")
    assert "evk_from_env" in banner(settings, "1", generated_key=True)


async def test_serve_with_redis_does_not_print_a_key_from_the_environment() -> None:
    redis = RedisServer()
    await redis.start()
    port = free_port()
    env = {"EDGEVOICE_API_KEY": "evk_secret_from_env", "EDGEVOICE_CLUSTER_SECRET": "c"}
    proc = await spawn(
        "serve", "serve", "--redis-url", redis.url, "--model", "echo", "--port", str(port),
        "--drain-seconds", "0", env=env,
    )  # fmt: skip
    try:
        await proc.wait_for("  demo page", 60)
        assert "edgevoice ready" in proc.output
        assert "evk_secret_from_env" not in proc.output
        assert "from EDGEVOICE_API_KEY" in proc.output
    finally:
        proc.signal(15)
        async with asyncio.timeout(30):
            await proc.exited()
        await redis.kill()
