"""Network namespaces joined through a router namespace, built and torn down with ``ip``.

Layout (``P`` is the run's prefix, e.g. ``ev`` or ``evt1234``)::

    P-caller ─┐                       ┌─ P-near   (a POP: 10.77.11.2)
    P-core  ──┤── P-router (TUN) ─────┼─ P-mid    (10.77.12.2)
              │   forwarder process   └─ P-far    (10.77.13.2)

Each endpoint namespace has one veth (``eth0``) to the router (``r-<name>``) on its own
/24 (``10.77.<subnet>.0/24``: router ``.1``, endpoint ``.2``) and one route, to
``10.77.0.0/16`` through the router: no default route, nothing else reachable. The
router routes every packet that arrives on a veth into the TUN device (table 100), where
the forwarder delays or drops it and writes it back. IPv6 is off everywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence

from .links import NET, PREFIX, Endpoint

TUN = "evfwd"
TABLE = "100"


class NamespaceError(RuntimeError):
    """An ``ip`` command failed while building the topology."""


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        raise NamespaceError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def in_ns(ns: str, *command: str) -> list[str]:
    """``command`` run inside namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *command]


def sysctl(ns: str, *settings: str) -> None:
    subprocess.run(in_ns(ns, "sysctl", "-q", "-w", *settings), check=True, timeout=20,
                   capture_output=True)  # fmt: skip


def cannot_build() -> str | None:
    """Why namespaces cannot be made here (a skip reason), or None if they can."""
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed (scripts/test.sh installs it)"
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); not root"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun: the forwarder needs a TUN device"
    probe = f"evprobe{os.getpid()}"
    try:
        ip("netns", "add", probe)
    except NamespaceError as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        ip("-n", probe, "tuntap", "add", "dev", TUN, "mode", "tun")
    except NamespaceError as exc:
        return f"cannot create a TUN device in a namespace: {exc}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=20)
    return None


def namespaces(prefix: str) -> list[str]:
    """Existing namespaces of this prefix."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20)
    names = [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(f"{prefix}-")]


def stale_prefixes(base: str = "evt") -> list[str]:
    """Prefixes ``<base><pid>`` of test topologies whose process is gone."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20)
    found = set()
    for line in out.stdout.splitlines():
        match = re.match(rf"({base}(\d+))-", line)
        if match and not os.path.exists(f"/proc/{match.group(2)}"):
            found.add(match.group(1))
    return sorted(found)


def build(prefix: str, endpoints: Sequence[Endpoint]) -> None:
    router = f"{prefix}-router"
    ip("netns", "add", router)
    ip("-n", router, "link", "set", "lo", "up")
    sysctl(router, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv4.ip_forward=1",
           "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")  # fmt: skip
    ip("-n", router, "tuntap", "add", "dev", TUN, "mode", "tun")
    ip("-n", router, "link", "set", TUN, "up")
    sysctl(router, f"net.ipv4.conf.{TUN}.rp_filter=0")
    ip("-n", router, "route", "add", "default", "dev", TUN, "table", TABLE)
    for e in endpoints:
        ns = f"{prefix}-{e.name}"
        veth = f"r-{e.name}"
        ip("netns", "add", ns)
        ip("-n", ns, "link", "set", "lo", "up")
        sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1")
        ip("-n", router, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
           "netns", ns)  # fmt: skip
        ip("-n", router, "addr", "add", f"{e.gateway}/{PREFIX}", "dev", veth)
        ip("-n", ns, "addr", "add", f"{e.address}/{PREFIX}", "dev", "eth0")
        ip("-n", router, "link", "set", veth, "up")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "route", "add", f"{NET}.0.0/16", "via", e.gateway)
        ip("-n", router, "rule", "add", "iif", veth, "lookup", TABLE, "pref", "100")


def tear_down(prefix: str) -> list[str]:
    """Delete every namespace of ``prefix`` (their veths go with them); the names."""
    gone = []
    for ns in namespaces(prefix):
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                              timeout=20).stdout.split()  # fmt: skip
        for pid in pids:  # only processes inside our own namespaces
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        gone.append(ns)
    return gone
