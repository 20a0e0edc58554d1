"""The topology's userspace forwarder: delay and loss per pair of namespaces.

This kernel has no ``netem``, so the router namespace hands every packet it would
forward to a TUN device (policy routing: a packet arriving on any veth is routed by a
table whose only route is the TUN). This process reads each packet from the TUN, asks
the :class:`~tests.topology.links.Shaper` what to do, and after the pair's one-way delay
writes it back into the same TUN, where the kernel routes it (main table) out of the
destination's veth. Checksums, fragments and ARP stay the kernel's business.

Control: a Unix socket at a file path (reachable from every network namespace), one JSON
object a line, one answer a line::

    {"op": "get"}
    {"op": "set", "a": "caller", "b": "near", "delay_ms": 40, "loss": 0}

Run by the topology inside the router namespace::

    python -m tests.topology.forwarder --tun evfwd --control PATH --endpoints JSON \
        --links JSON --udp-only JSON
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import signal
import struct
import sys
from pathlib import Path
from typing import Any

from .links import Endpoint, Shaper, Shaping, load_links

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65535


def open_tun(name: str) -> int:
    """Attach to the (persistent) TUN device ``name``; a non-blocking fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Forwarder:
    def __init__(self, fd: int, shaper: Shaper) -> None:
        self.fd = fd
        self.shaper = shaper
        self.loop = asyncio.get_running_loop()

    def start(self) -> None:
        self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        for _ in range(64):  # drain a burst, then let timers run
            try:
                packet = os.read(self.fd, MAX_PACKET)
            except BlockingIOError:
                return
            delay = self.shaper.decide(packet)
            if delay is None:
                continue
            if delay <= 0:
                self._write(packet)
            else:
                self.loop.call_later(delay, self._write, packet)

    def _write(self, packet: bytes) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self.fd, packet)

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write((json.dumps(self.answer(line)) + "\n").encode())
                await writer.drain()
        finally:
            writer.close()

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if request.get("op") == "set":
                shaping = Shaping(float(request.get("delay_ms", 0)), float(request.get("loss", 0)))
                self.shaper.set(str(request["a"]), str(request["b"]), shaping)
            elif request.get("op") != "get":
                raise ValueError(f"unknown op {request.get('op')!r} (get, set)")
        except (ValueError, KeyError, TypeError) as exc:
            return {"ok": False, "detail": str(exc)}
        return {
            "ok": True,
            "links": self.shaper.describe(),
            "forwarded": self.shaper.forwarded,
            "dropped": self.shaper.dropped,
        }


async def serve(args: argparse.Namespace) -> None:
    endpoints = [Endpoint(name, subnet) for name, subnet in json.loads(args.endpoints).items()]
    shaper = Shaper(endpoints, udp_only=json.loads(args.udp_only))
    load_links(shaper, json.loads(args.links))
    forwarder = Forwarder(open_tun(args.tun), shaper)
    forwarder.start()
    server = await asyncio.start_unix_server(forwarder.control, path=args.control)
    print(f"forwarder ready: {args.tun}, control {args.control}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.topology.forwarder")
    parser.add_argument("--tun", required=True)
    parser.add_argument("--control", required=True, help="Unix socket path")
    parser.add_argument("--endpoints", required=True, help='JSON {"caller": 1, ...}')
    parser.add_argument("--udp-only", default="{}", help='JSON {"core": 3478}: one UDP port')
    parser.add_argument("--links", default="{}", help='JSON {"caller-near": {"delay_ms": 10}}')
    args = parser.parse_args(argv)
    control = Path(args.control)
    control.unlink(missing_ok=True)
    try:
        asyncio.run(serve(args))
    finally:
        control.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
