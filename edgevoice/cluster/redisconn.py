"""One way to open Redis for every part of a cluster process.

Commands retry briefly on a dropped connection, so a Redis restart costs the first
command after it a reconnect, not an error; while Redis is down, commands fail fast
(two-second connect timeout) and the callers decide what that means: media never waits.
A burst of requests queues for one of ``MAX_CONNECTIONS`` pooled connections instead of
failing for want of one.
"""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


MAX_CONNECTIONS = 64
MAX_FOLLOWERS = 2048  # event-stream readers each hold a connection while they block


def connect(url: str, max_connections: int = MAX_CONNECTIONS) -> redis.Redis:
    """A client for commands; event-stream readers get their own (``max_connections=
    MAX_FOLLOWERS``), so open streams never starve placement of connections."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,  # seconds a command waits for a free pooled connection
        decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=5,
    )
    return redis.Redis(connection_pool=pool)
