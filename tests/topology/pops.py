"""A POP topology on one machine: namespaces (:mod:`.netns`), the forwarder
(:mod:`.forwarder`), and real edgevoice processes in them.

- ``P-core``: a private ``redis-server``, one ``edgevoice signalling`` (region ``core``,
  ``--demo``), ``edgevoice relay`` and the *hub* nodes behind it (region ``hub``);
- ``P-<region>`` per POP: one ``edgevoice node`` in that region;
- ``P-caller``: nothing runs there until a test starts a caller in it;
- ``P-router``: the forwarder, which delays and drops per pair (caller-POP, caller-core),
  and lets only the relay's UDP port in or out of the core (the hub nodes' own media
  sockets are firewalled: callers reach them through the relay alone).

Everything binds the namespace's own 10.77.x.2 address; nothing can reach any other.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import netns
from .links import Endpoint

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "evk_topology_test"
SECRET = "topology-cluster-secret"
CALLER = Endpoint("caller", 1)
CORE = Endpoint("core", 2)
SIGNALLING_PORT = 8080
NODE_PORT = 8081
HUB_PORTS = (8091, 8092)
RELAY_PORT = 3478
REDIS_PORT = 6379
READY_SECONDS = 60


@dataclass(frozen=True)
class Pop:
    region: str
    subnet: int
    delay_ms: float  # one way, caller <-> this POP

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.region, self.subnet)

    @property
    def url(self) -> str:
        return f"http://{self.endpoint.address}:{NODE_PORT}"


DEFAULT_POPS = (Pop("near", 11, 10.0), Pop("mid", 12, 60.0), Pop("far", 13, 150.0))
CORE_DELAY_MS = 40.0  # caller <-> core (signalling, relay, hub nodes), one way


class Proc:
    """A child process whose output lines are collected by a thread."""

    def __init__(
        self, name: str, command: Sequence[str], env: dict[str, str], log: Path, stdin: bool
    ) -> None:
        self.name = name
        self.log = log
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.popen = subprocess.Popen(
            list(command), cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        with self.log.open("w") as sink:
            for raw in self.popen.stdout:
                line = raw.decode(errors="replace")
                sink.write(line)
                sink.flush()
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, seconds: float = READY_SECONDS) -> str:
        """The first output line containing ``text`` (seen or coming)."""
        return self.wait_count(text, 1, seconds)[0]

    def wait_count(self, text: str, count: int, seconds: float = READY_SECONDS) -> list[str]:
        """The first ``count`` output lines containing ``text``, once there are that many."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                found = [line for line in self.lines if text in line]
                if len(found) >= count:
                    return found[:count]
                if not self._thread.is_alive():
                    raise RuntimeError(f"{self.name} exited:\n{self.output[-3000:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name}: no {text!r} in {seconds} s:\n"
                                       f"{self.output[-3000:]}")  # fmt: skip
                self._changed.wait(left)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, seconds: float = 10) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            code = self.popen.wait(seconds)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait(5)
        self._thread.join(5)
        return code


@dataclass
class Topology:
    prefix: str
    pops: Sequence[Pop] = DEFAULT_POPS
    core_delay_ms: float = CORE_DELAY_MS
    hub_nodes: int = 2
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        """Logs and the forwarder's control socket (a fixed place: the CLI finds it)."""
        path = Path(tempfile.gettempdir()) / f"evtopo-{self.prefix}"
        path.mkdir(exist_ok=True)
        return path

    # addresses ---------------------------------------------------------------------
    @property
    def endpoints(self) -> list[Endpoint]:
        return [CALLER, CORE, *(p.endpoint for p in self.pops)]

    def ns(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def signalling_url(self) -> str:
        return f"http://{CORE.address}:{SIGNALLING_PORT}"

    @property
    def redis_url(self) -> str:
        return f"redis://{CORE.address}:{REDIS_PORT}/0"

    @property
    def relay_address(self) -> str:
        return f"{CORE.address}:{RELAY_PORT}"

    @property
    def control(self) -> Path:
        return self.workdir / "forwarder.sock"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "EDGEVOICE_CLUSTER_SECRET": SECRET,
            "EDGEVOICE_API_KEY": API_KEY,
            "EDGEVOICE_REDIS_URL": self.redis_url,
            "PYTHONPATH": str(ROOT),
        }

    def pop(self, region: str) -> Pop:
        return next(p for p in self.pops if p.region == region)

    # life ----------------------------------------------------------------------------
    def up(self) -> None:
        """Build everything and wait until it is ready; on any failure, tear down."""
        try:
            self._up()
        except BaseException:
            self.down()
            raise

    def _up(self) -> None:
        netns.build(self.prefix, self.endpoints)
        links = {f"caller-{p.region}": {"delay_ms": p.delay_ms} for p in self.pops}
        links["caller-core"] = {"delay_ms": self.core_delay_ms}
        self.spawn("forwarder", "router", sys.executable, "-m", "tests.topology.forwarder",
                   "--tun", netns.TUN, "--control", str(self.control),
                   "--endpoints", json.dumps({e.name: e.subnet for e in self.endpoints}),
                   "--links", json.dumps(links),
                   "--udp-only", json.dumps({CORE.name: RELAY_PORT}))  # fmt: skip
        redis = self.spawn("redis", "core", "redis-server", "--bind", CORE.address, "--port",
                           str(REDIS_PORT), "--save", "", "--appendonly", "no",
                           "--protected-mode", "no")  # fmt: skip
        self.procs["forwarder"].wait_for("forwarder ready")
        redis.wait_for("Ready to accept connections")
        self.start_relay()
        for pop in self.pops:
            self.edgevoice(pop.region, pop.region, "node", *self._node_flags(
                pop.region, f"{pop.region}-1", pop.endpoint.address, NODE_PORT))  # fmt: skip
        for i, port in enumerate(HUB_PORTS[: self.hub_nodes], 1):
            self.edgevoice(f"hub-{i}", "core", "node", *self._node_flags(
                "hub", f"hub-{i}", CORE.address, port), "--relay", self.relay_address)  # fmt: skip
        self.edgevoice("signalling", "core", "signalling", "--host", CORE.address, "--port",
                       str(SIGNALLING_PORT), "--region", "core", "--demo")  # fmt: skip
        for name, proc in self.procs.items():
            if (
                name in ("signalling", "relay")
                or name.startswith("hub-")
                or name in (p.region for p in self.pops)
            ):
                proc.wait_for(" ready")

    @staticmethod
    def _node_flags(region: str, node_id: str, address: str, port: int) -> list[str]:
        return ["--region", region, "--node-id", node_id, "--host", address, "--port",
                str(port), "--media-address", address, "--model", "echo",
                "--max-sessions", "20"]  # fmt: skip

    def start_relay(self) -> Proc:
        return self.edgevoice("relay", "core", "relay", "--listen", self.relay_address)

    def down(self) -> None:
        """Kill every process (nothing here needs a graceful end), delete every namespace."""
        for proc in self.procs.values():
            if proc.popen.poll() is None:
                proc.popen.kill()
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                proc.stop(signal.SIGKILL, 5)
        self.procs.clear()
        netns.tear_down(self.prefix)
        self.control.unlink(missing_ok=True)

    # processes -----------------------------------------------------------------------
    def spawn(self, name: str, where: str, *command: str, stdin: bool = False) -> Proc:
        """``command`` started in namespace ``where`` (``stdin``: a pipe to write to)."""
        proc = Proc(name, netns.in_ns(self.ns(where), *command), self.env,
                    self.workdir / f"{name}.log", stdin)  # fmt: skip
        self.procs[name] = proc
        return proc

    def edgevoice(self, name: str, where: str, *args: str) -> Proc:
        return self.spawn(name, where, sys.executable, "-m", "edgevoice", *args)

    def run(
        self, where: str, *command: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in namespace ``where`` to completion (output captured)."""
        return subprocess.run(netns.in_ns(self.ns(where), *command), cwd=ROOT,
                              env={**self.env, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)  # fmt: skip

    def client(self, *args: str, timeout: float = 60) -> Any:
        """``python -m tests.topology.client ARGS`` in the caller namespace: its JSON."""
        done = self.run("caller", sys.executable, "-m", "tests.topology.client", *args,
                        timeout=timeout)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"client {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout)

    # the forwarder -------------------------------------------------------------------
    def shape(self, a: str, b: str, delay_ms: float, loss: float = 0.0) -> dict[str, Any]:
        """Set the one-way delay and loss between ``a`` and ``b`` now; the forwarder's
        answer once it applies."""
        return self._control({"op": "set", "a": a, "b": b, "delay_ms": delay_ms, "loss": loss})

    def links(self) -> dict[str, Any]:
        return self._control({"op": "get"})

    def _control(self, request: dict[str, Any]) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(self.control))
            s.sendall((json.dumps(request) + "\n").encode())
            answer: dict[str, Any] = json.loads(s.makefile().readline())
        if not answer.get("ok"):
            raise ValueError(answer.get("detail"))
        return answer


@contextlib.contextmanager
def topology(prefix: str | None = None, **options: Any) -> Iterator[Topology]:
    """A running topology, torn down on exit whatever happened."""
    for stale in netns.stale_prefixes():
        netns.tear_down(stale)
    topo = Topology(prefix or f"evt{os.getpid()}", **options)
    topo.up()
    try:
        yield topo
    finally:
        topo.down()
