"""``edgevoice relay --redis-url URL --listen IP:PORT``: one public UDP address in front
of every node started with ``--relay IP:PORT``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from ..cluster.redisconn import connect
from ..relay.routes import RelayRoutes, parse_address
from ..relay.server import Relay
from .http import on_signals

log = logging.getLogger(__name__)


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "relay",
        help="one public UDP address in front of many nodes (routes by ICE ufrag)",
        description="Forward callers' UDP to the nodes that own their sessions: the first "
        "STUN binding request's USERNAME names the node's ufrag, which the node published "
        "in Redis; after that, by the caller's address and port. Never decrypts.",
    )
    p.add_argument("--redis-url", default=os.environ.get("EDGEVOICE_REDIS_URL"),
                   help="the cluster's Redis [EDGEVOICE_REDIS_URL]")  # fmt: skip
    p.add_argument("--listen", required=True, help="public IP:PORT callers send to")
    p.add_argument(
        "--upstream-address",
        default=None,
        help="local address the relay sends to nodes from (default: the --listen IP)",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=run)


async def serve(args: argparse.Namespace) -> int:
    listen = parse_address(args.listen)
    client = connect(args.redis_url)
    relay = Relay(RelayRoutes(client, args.listen), listen, args.upstream_address or listen[0])
    await relay.start()
    stopping = asyncio.Event()
    on_signals(stopping.set)
    host, port = relay.address
    print(
        f"edgevoice relay ready: {host}:{port} "
        f"({relay.counters.flows_restored} flows restored from Redis)",
        flush=True,
    )
    await stopping.wait()
    c = relay.counters
    log.info("relay stopping: %d flows, %d packets in, %d out", len(relay.flows),
             c.packets_in, c.packets_out)  # fmt: skip
    await relay.close()
    await client.aclose()
    return 0


def run(args: argparse.Namespace) -> int:
    if not args.redis_url:
        print("edgevoice relay: needs --redis-url (or EDGEVOICE_REDIS_URL)", file=sys.stderr)
        return 2
    try:
        parse_address(args.listen)
    except ValueError as exc:
        print(f"edgevoice relay: --listen: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper())
    try:
        import uvloop

        return int(uvloop.run(serve(args)))
    except ImportError:
        return asyncio.run(serve(args))
    except OSError as exc:
        print(f"edgevoice relay: {exc}", file=sys.stderr)
        return 1
