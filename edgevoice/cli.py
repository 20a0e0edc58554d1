"""The ``edgevoice`` command: ``serve``, ``node``, ``signalling``, ``model-server``, ``bench``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, Literal

from . import __version__

# The flags of each process kind: each is a Settings field (same name, dashes for
# underscores, the same EDGEVOICE_* variable), so the CLI and the environment agree.
_FLAGS = {
    "serve": ["host", "port", "model", "nodes", "region", "rtc_ports", "public_ip",
              "media_address", "redis_url", "max_sessions", "drain_seconds", "demo",
              "connect_timeout", "demo_hosts", "log_format", "log_transcripts"],
    "node": ["redis_url", "region", "node_id", "host", "port", "advertise_url", "rtc_ports",
             "public_ip", "media_address", "max_sessions", "model", "drain_seconds",
             "connect_timeout", "log_format", "log_transcripts", "relay"],
    "signalling": ["redis_url", "host", "port", "region", "model", "demo", "demo_hosts",
                   "log_format", "log_transcripts"],
}  # fmt: skip
_HELP = {
    "serve": "run signalling, SFU and bridge (one process, or --nodes N processes)",
    "node": "run one media node (SFU + bridge) of a cluster, registered in Redis",
    "signalling": "run the control plane alone (stateless; nodes found in Redis)",
}


def _add_settings_flags(p: argparse.ArgumentParser, names: list[str]) -> None:
    from .signalling.settings import Settings

    for name in names:
        field = Settings.model_fields[name]
        flag = "--" + name.replace("_", "-")
        env = "EDGEVOICE_" + name.upper()
        helptext = f"{field.description} [{env}]"
        if field.annotation in (bool, bool | None):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=helptext)  # fmt: skip
            continue
        kind: type = str
        choices = getattr(field.annotation, "__args__", None)
        if getattr(field.annotation, "__origin__", None) is Literal and choices:
            p.add_argument(flag, choices=list(choices), default=None, help=helptext)
            continue
        if field.annotation is int:
            kind = int
        elif field.annotation is float:
            kind = float
        p.add_argument(flag, type=kind, default=None, help=helptext)


def _process_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], kind: str) -> None:
    p = sub.add_parser(
        kind,
        help=_HELP[kind],
        description=_HELP[kind] + ". Every flag can also be set as an EDGEVOICE_* "
        "environment variable; the flag wins.",
    )
    _add_settings_flags(p, _FLAGS[kind])
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=_run_process, kind=kind)


def _run_process(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .cluster.errors import ClusterConfigError
    from .signalling.settings import Settings

    overrides = {
        name: getattr(args, name)
        for name in _FLAGS[args.kind]
        if getattr(args, name, None) is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            print(f"edgevoice {args.kind}: --{where.replace('_', '-')}: {err['msg']}",
                  file=sys.stderr)  # fmt: skip
        return 2
    from .logs import setup as setup_logging

    setup_logging(args.log_level, settings.log_format, settings.log_transcripts)
    if args.kind == "serve":
        from .serve import serve as main
    elif args.kind == "node":
        from .processes.node import run_node as main
    else:
        from .processes.signalling import run_signalling as main
    try:
        import uvloop

        run: Any = uvloop.run
    except ImportError:
        run = asyncio.run
    try:
        return int(run(main(settings)))
    except ClusterConfigError as exc:
        print(f"edgevoice {args.kind}: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgevoice", description="A self-hosted WebRTC edge for voice AI."
    )
    parser.add_argument("--version", action="version", version=f"edgevoice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for kind in ("serve", "node", "signalling"):
        _process_parser(sub, kind)
    from .processes.keys import add_cli as add_keys

    add_keys(sub)
    from .processes.relay import add_cli as add_relay

    add_relay(sub)
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
    from .probe.cli import add_cli as add_probe

    add_probe(sub)
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
