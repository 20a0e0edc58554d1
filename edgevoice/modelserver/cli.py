"""``edgevoice model-server``: run the offline Realtime model server."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from typing import Any

import uvicorn

from .server import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _print(line: str) -> None:
    print(line, flush=True)


def run_model_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    api_key: str | None = None,
    origins: tuple[str, ...] = (),
) -> None:
    """Load the models (printing progress), then serve until interrupted (blocking)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(progress=_print, api_key=api_key, origins=origins)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # listening now: the line below is true when printed
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    shown_host = f"[{host}]" if ":" in host else host
    _print(f"model server ready at ws://{shown_host}:{bound}/v1/realtime")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _handle(args: argparse.Namespace) -> int:
    run_model_server(args.host, args.port, args.api_key or None, tuple(args.allow_origin))
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``model-server`` on an ``argparse`` subparsers object; returns the parser.

    The handler is stored as ``func`` (``args.func(args)`` runs the server).
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "model-server",
        help="run the offline Realtime model server (VAD, STT, rule-based brain, TTS)",
        description=(
            "Serve the OpenAI Realtime protocol at ws://HOST:PORT/v1/realtime with offline "
            "models: webrtcvad, pocketsphinx (US English) and piper (joe voice)."
        ),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("EDGEVOICE_LOCAL_MODEL_KEY"),
        help="key clients must send as a Bearer token (default: $EDGEVOICE_LOCAL_MODEL_KEY; "
        "unset: no key)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin (https://app.example) allowed to connect; repeatable. "
        "Requests from any other page (an Origin header) are refused",
    )
    parser.set_defaults(func=_handle)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgevoice.modelserver")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_cli(subparsers)
    args = parser.parse_args(["model-server", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result
