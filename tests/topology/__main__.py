"""``python -m tests.topology up|down|status|set`` (as root; see docs/benchmarks.md).

up [--prefix ev]            build the POPs and start everything; Ctrl-C tears down
down [--prefix ev]          delete the prefix's namespaces (and what runs in them)
status [--prefix ev]        the forwarder's links and counters
set A B DELAY_MS [LOSS]     one-way delay (and loss 0-1) between endpoints A and B
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from . import netns
from .pops import API_KEY, Topology


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.topology",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--prefix", default="ev", help="namespace name prefix (default ev)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    sub.add_parser("status")
    s = sub.add_parser("set")
    s.add_argument("a")
    s.add_argument("b")
    s.add_argument("delay_ms", type=float)
    s.add_argument("loss", type=float, nargs="?", default=0.0)
    args = parser.parse_args(argv)
    topo = Topology(args.prefix)
    if args.command == "down":
        print("deleted:", " ".join(netns.tear_down(args.prefix)) or "nothing")
        return 0
    if args.command == "status":
        print(json.dumps(topo.links(), indent=2))
        return 0
    if args.command == "set":
        print(json.dumps(topo.shape(args.a, args.b, args.delay_ms, args.loss)["links"]))
        return 0
    reason = netns.cannot_build()
    if reason:
        print(f"cannot build the topology: {reason}", file=sys.stderr)
        return 1
    topo.up()
    try:
        print(f"up: signalling {topo.signalling_url} (API key {API_KEY}), relay "
              f"{topo.relay_address}; POPs " + ", ".join(
                  f"{p.region} {p.url} +{p.delay_ms:g} ms" for p in topo.pops)
              + f"\n  callers: ip netns exec {topo.ns('caller')} ...; logs {topo.workdir}"
              "\n  Ctrl-C tears everything down", flush=True)  # fmt: skip
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        topo.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
