"""``python -m edgevoice.bench.relaybench``: what ``edgevoice relay`` costs per packet.

A real relay process (pinned to one core) in front of a UDP echo "node"; F client flows
(each opened by a STUN binding request naming its ufrag, as a caller's is) send 172-byte
packets at R packets a second each, stamped with their send time; the echo returns them
through the relay. Measured per step: the relay's CPU (its /proc counters) per forwarded
packet (each echo crosses the relay twice), packets a second per core that implies, and
the round trip through the relay against the same clients going straight to the echo
(the difference is what the relay adds, for both crossings). Loss counts every packet
that did not come back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aioice import stun

from ..cluster.redisconn import connect
from ..localport import free_port
from . import metrics

PACKET = 172  # an Opus frame of ~20 kb/s in SRTP, with headers


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data, addr)


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.rtts: list[float] = []
        self.received = 0
        self.stun = asyncio.Event()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if len(data) >= 20 and data[0] < 4:
            self.stun.set()
            return
        self.received += 1
        (sent,) = struct.unpack_from("!d", data, 12)
        self.rtts.append(time.perf_counter() - sent)


def _binding(ufrag: str) -> bytes:
    message = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    message.attributes["USERNAME"] = f"{ufrag}:caller"
    return bytes(message)


async def _step(target: tuple[str, int], flows: int, rate: int, seconds: float,
                via_relay: bool, relay_pid: int | None) -> dict[str, Any]:  # fmt: skip
    loop = asyncio.get_running_loop()
    clients = []
    for i in range(flows):
        transport, client = await loop.create_datagram_endpoint(
            _Client, local_addr=("127.0.0.1", 0), remote_addr=target
        )
        clients.append((transport, client))
        if via_relay:
            transport.sendto(_binding(f"u{i}"))
    if via_relay:
        async with asyncio.timeout(10):
            await asyncio.gather(*(c.stun.wait() for _, c in clients))
    payload = bytearray(PACKET)
    payload[0] = 0x80
    sent = 0
    before = metrics.sample([relay_pid]) if relay_pid else None
    started = time.perf_counter()
    tick = 1.0 / rate
    next_at = started
    while time.perf_counter() - started < seconds:
        for transport, _ in clients:
            struct.pack_into("!d", payload, 12, time.perf_counter())
            transport.sendto(bytes(payload))
            sent += 1
        next_at += tick
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.sleep(0.3)  # the last packets in flight
    elapsed = time.perf_counter() - started
    after = metrics.sample([relay_pid]) if relay_pid else None
    received = sum(c.received for _, c in clients)
    rtts = [r for _, c in clients for r in c.rtts]
    for transport, _ in clients:
        transport.close()
    out: dict[str, Any] = {
        "flows": flows,
        "rate_per_flow": rate,
        "offered_pps": round(sent / elapsed),
        "sent": sent,
        "lost": sent - received,
        "rtt_ms": metrics.percentiles(rtts),
    }
    if before and after:
        cpu = after.cpu - before.cpu
        crossings = 2 * received
        out["relay_cpu_cores"] = round(cpu / elapsed, 3)
        out["relay_us_per_packet"] = round(cpu / max(1, crossings) * 1e6, 2)
        out["relay_pps_per_core"] = round(crossings / cpu) if cpu else None
    return out


async def _run(args: argparse.Namespace, redis_url: str, relay_port: int, relay_pid: int,
               echo_port: int) -> dict[str, Any]:  # fmt: skip
    loop = asyncio.get_running_loop()
    echo_transport, _ = await loop.create_datagram_endpoint(
        _Echo, local_addr=("127.0.0.1", echo_port)
    )
    client = connect(redis_url)
    try:
        for i in range(max(args.flows)):
            await client.set(f"edgevoice:relay:ufrag:u{i}", f"127.0.0.1:{echo_port}")
        steps = []
        for flows in args.flows:
            for via in (False, True):
                target = ("127.0.0.1", relay_port if via else echo_port)
                pid = relay_pid if via else None
                step = await _step(target, flows, args.rate, args.seconds, via, pid)
                step["path"] = "relay" if via else "direct"
                steps.append(step)
                print(json.dumps(step), flush=True)
    finally:
        echo_transport.close()
        await client.aclose()
    return {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": metrics.machine(),
            "relay_core": args.relay_core, "steps": steps}  # fmt: skip


def _start(args: argparse.Namespace) -> tuple[list[subprocess.Popen[bytes]], str, int, int]:
    """A private redis-server and the relay (pinned); their processes, Redis URL, port."""
    redis_port, relay_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis_proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE)  # fmt: skip
    assert redis_proc.stdout is not None
    for line in redis_proc.stdout:
        if b"Ready to accept" in line:
            break
    pin = ["taskset", "-c", args.relay_core] if shutil.which("taskset") else []
    relay = subprocess.Popen(
        [*pin, sys.executable, "-m", "edgevoice", "relay", "--listen",
         f"127.0.0.1:{relay_port}", "--log-level", "warning"],
        env={**os.environ, "EDGEVOICE_REDIS_URL": redis_url}, stdout=subprocess.PIPE)  # fmt: skip
    assert relay.stdout is not None
    ready = relay.stdout.readline()
    if b"ready" not in ready:
        raise RuntimeError(f"relay did not start: {ready!r}")
    return [redis_proc, relay], redis_url, relay_port, relay.pid


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgevoice.bench.relaybench", description=__doc__)
    p.add_argument("--flows", default="10,50,100,200", help="flow counts to step through")
    p.add_argument("--rate", type=int, default=50, help="packets a second per flow (50: 20 ms)")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds per step")
    p.add_argument("--relay-core", default="0", help="core the relay is pinned to")
    p.add_argument("--loadgen-core", default="1", help="core the clients and echo run on")
    p.add_argument("--out", type=Path, default=Path("bench-results/relay.json"))
    args = p.parse_args(argv)
    args.flows = [int(x) for x in args.flows.split(",") if x.strip()]
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(args.loadgen_core)})
    procs, redis_url, relay_port, relay_pid = _start(args)
    try:
        result = asyncio.run(_run(args, redis_url, relay_port, relay_pid, free_port()))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"JSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
