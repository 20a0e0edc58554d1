"""The ``edgevoice`` command: ``serve``, ``model-server`` and ``bench``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from . import __version__


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run signalling, SFU and bridge in one process",
        description="Run an edgevoice node: signalling (HTTP), SFU (UDP media) and the bridge. "
        "Every flag can also be set as an EDGEVOICE_* environment variable.",
    )
    p.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP port (default 8080)")
    p.add_argument("--model", help="default model: echo, local (offline) or a realtime model name")
    p.add_argument("--rtc-ports", help="UDP port range for media, e.g. 40000-40999")
    p.add_argument("--public-ip", help="address to announce in SDP answers (NAT, containers)")
    p.add_argument("--media-address", help="address media sockets bind to")
    p.add_argument("--redis-url", help="Redis for shared session state (default: in memory)")
    p.add_argument("--max-sessions", type=int, help="live sessions this node accepts")
    p.add_argument(
        "--demo", action=argparse.BooleanOptionalAction, default=None,
        help="enable the demo session endpoint (default: only when binding loopback)",
    )  # fmt: skip
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from .serve import serve
    from .signalling.settings import Settings

    overrides = {
        key: value
        for key, value in {
            "host": args.host,
            "port": args.port,
            "model": args.model,
            "rtc_ports": args.rtc_ports,
            "public_ip": args.public_ip,
            "media_address": args.media_address,
            "redis_url": args.redis_url,
            "max_sessions": args.max_sessions,
            "demo": args.demo,
        }.items()
        if value is not None
    }
    settings = Settings(**overrides)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        import uvloop
    except ImportError:
        return asyncio.run(serve(settings))
    return uvloop.run(serve(settings))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgevoice", description="A self-hosted WebRTC edge for voice AI."
    )
    parser.add_argument("--version", action="version", version=f"edgevoice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _serve_parser(sub)
    try:
        from .modelserver.cli import add_cli as add_model_server
    except ImportError:
        pass
    else:
        add_model_server(sub)
    try:
        from .bench.cli import add_cli as add_bench
    except ImportError:
        pass
    else:
        add_bench(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
