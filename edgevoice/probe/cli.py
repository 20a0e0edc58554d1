"""``edgevoice probe URL... [--every S] [--json] [--max-rtt-ms X] [--max-setup-ms Y]``.

Probes each target in turn with one synthetic echo call and prints a table (``--json``:
one JSON object per target and round). Exit status: 0 when every probe succeeded within
the thresholds, 1 when one failed or crossed a threshold, 2 on a bad command line.
With ``--every S`` it keeps probing every S seconds (``--rounds N`` to stop after N
rounds), stores each result on its target (``POST /v1/probes``, shown by ``/dashboard``)
and flags a region whose first-hop RTT rises above its own recent baseline
(:mod:`.baseline`).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import urlsplit

import httpx

from ..signalling.settings import is_loopback
from .baseline import Baselines
from .errors import ProbeUsageError
from .result import ProbeResult, crossed, table
from .session import probe


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="synthetic echo calls: setup time, first-hop RTT, echo round trip, model link",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("targets", nargs="+", metavar="URL", help="signalling or serve base URL")
    p.add_argument("--every", type=float, metavar="S", help="keep probing every S seconds")
    p.add_argument("--rounds", type=int, metavar="N", help="with --every: stop after N rounds")
    p.add_argument("--json", action="store_true", help="one JSON object per target and round")
    p.add_argument("--max-rtt-ms", type=float, metavar="X", help="first-hop RTT limit")
    p.add_argument("--max-setup-ms", type=float, metavar="Y", help="setup time limit")
    p.add_argument(
        "--nearest",
        action="store_true",
        help="time each region's ping URL (GET /v1/regions) first and send client_rtt_ms, "
        "so the call lands on the region nearest to where the probe runs",
    )
    p.add_argument("--api-key", help="the targets' API key (default $EDGEVOICE_API_KEY)")
    p.add_argument("--seconds", type=float, default=5.0, help="longest time a call measures")
    p.add_argument("--timeout", type=float, default=30.0, help="longest time one probe takes")
    p.add_argument(
        "--media-address",
        help="address the probe's ICE candidates use (default 127.0.0.1 when every target "
        "is on loopback, else every interface)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        options = _options(args)
    except ProbeUsageError as exc:
        print(f"edgevoice probe: {exc}", file=sys.stderr)
        return 2
    from ..sfu.network import set_media_address

    if options.media_address is not None:
        set_media_address(options.media_address)
    try:
        return asyncio.run(_rounds(options, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return 130


class Options:
    def __init__(self, args: argparse.Namespace, api_key: str, targets: list[str]) -> None:
        self.targets = targets
        self.api_key = api_key
        self.every: float | None = args.every
        self.rounds: int | None = args.rounds if args.every else 1
        self.json: bool = args.json
        self.max_rtt_ms: float | None = args.max_rtt_ms
        self.max_setup_ms: float | None = args.max_setup_ms
        self.seconds: float = args.seconds
        self.timeout: float = args.timeout
        self.media_address: str | None = args.media_address
        self.nearest: bool = getattr(args, "nearest", False)
        if self.media_address is None and all(_loopback(t) for t in targets):
            self.media_address = "127.0.0.1"


def _options(args: argparse.Namespace) -> Options:
    api_key = args.api_key or os.environ.get("EDGEVOICE_API_KEY")
    if not api_key:
        raise ProbeUsageError("no API key: set EDGEVOICE_API_KEY or pass --api-key")
    targets = [_target(t) for t in args.targets]
    if args.every is not None and args.every <= 0:
        raise ProbeUsageError("--every must be more than 0 seconds")
    if args.rounds is not None and args.rounds < 1:
        raise ProbeUsageError("--rounds must be at least 1")
    if args.seconds <= 0 or args.timeout <= args.seconds:
        raise ProbeUsageError("--seconds must be more than 0 and less than --timeout")
    if args.media_address is not None:
        try:
            ipaddress.ip_address(args.media_address)
        except ValueError as exc:
            raise ProbeUsageError(f"--media-address: {exc}") from None
    return Options(args, api_key, targets)


def _target(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeUsageError(f"{url!r} is not an http(s) base URL (like http://host:8080)")
    return url.rstrip("/")


def _loopback(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname or "")


async def _rounds(options: Options, out: TextIO, err: TextIO) -> int:
    baselines = Baselines()
    status = 0
    done = 0
    while options.rounds is None or done < options.rounds:
        started = time.monotonic()
        results = []
        for target in options.targets:
            result = await probe(
                target,
                options.api_key,
                seconds=options.seconds,
                limit_seconds=options.timeout,
                nearest=options.nearest,
            )
            status |= _judge(result, options, baselines, err)
            if options.every is not None:
                await _store(result, options.api_key, err)
            results.append(result)
            if options.json:
                print(json.dumps(result.as_json()), file=out, flush=True)
        if not options.json:
            print(table(results), file=out, flush=True)
        done += 1
        if options.every is None or (options.rounds is not None and done >= options.rounds):
            break
        await asyncio.sleep(max(0.0, options.every - (time.monotonic() - started)))
    return status


def _judge(result: ProbeResult, options: Options, baselines: Baselines, err: TextIO) -> int:
    """Flag against the baseline, check the thresholds, say what went wrong: 1 if bad."""
    if not result.ok:
        print(f"edgevoice probe: {result.target}: probe failed: {result.reason}", file=err)
        return 1
    if result.rtt_ms is not None:
        region = result.region or result.target
        result.flagged, limit = baselines.judge(region, result.rtt_ms)
        if result.flagged and limit is not None:
            result.reason = (
                f"region {region}: first-hop RTT {result.rtt_ms:.1f} ms above its baseline "
                f"limit {limit:.1f} ms (1.5 x median of its last results + 5 ms)"
            )
            print(f"edgevoice probe: {result.target}: {result.reason}", file=err)
    problems = crossed(result, options.max_rtt_ms, options.max_setup_ms)
    for problem in problems:
        print(f"edgevoice probe: {result.target}: threshold crossed: {problem}", file=err)
    return 1 if problems else 0


async def _store(result: ProbeResult, api_key: str, err: TextIO) -> None:
    """Keep the result on its target for the dashboard; a refusal is only a warning."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.post(
                f"{result.target}/v1/probes",
                json=result.stored(),
                headers={"Authorization": f"Bearer {api_key}"},
            )
        if response.status_code != 204:
            print(f"edgevoice probe: {result.target}: result not stored: "
                  f"{response.status_code} {response.text[:200]}", file=err)  # fmt: skip
    except httpx.HTTPError as exc:
        print(f"edgevoice probe: {result.target}: result not stored: {exc}", file=err)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m edgevoice.probe.cli URL...`` (the same as ``edgevoice probe``)."""
    parser = argparse.ArgumentParser(prog="edgevoice")
    add_cli(parser.add_subparsers())
    args = parser.parse_args(["probe", *(argv if argv is not None else sys.argv[1:])])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
