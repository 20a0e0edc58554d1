"""Where a session's webhook may point, and how each POST is signed.

A webhook URL comes from whoever created the session, and the node POSTs to it from
inside the operator's network: without a filter it is a server-side request forgery
(loopback admin ports, the cloud metadata service, private services). So:

- the host is resolved once per POST; every resolved address must be public, or
  allow-listed (``WebhookPolicy.allow``: host names, addresses and CIDRs);
- the POST goes to the address that was checked (the URL's host is replaced by it;
  ``Host`` and, for https, SNI and certificate checks keep the name): a DNS answer
  that changes between check and connect (rebinding) is never used;
- each POST carries ``Edgevoice-Timestamp`` (Unix seconds) and, when a secret is set,
  ``Edgevoice-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .errors import ToolError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TIMESTAMP_HEADER = "Edgevoice-Timestamp"
SIGNATURE_HEADER = "Edgevoice-Signature"

# Cloud metadata services that live at addresses the generic checks may not catch.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)


class WebhookRefused(ToolError):
    """The webhook's destination is not allowed (or could not be resolved)."""


@dataclass(frozen=True)
class WebhookPolicy:
    """Allowed non-public destinations and the signing secret (None: unsigned)."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    secret: str | None = None

    @classmethod
    def parse(cls, allow: str | None, secret: str | None = None) -> WebhookPolicy:
        """``allow``: comma-separated host names, addresses and CIDRs (EDGEVOICE_WEBHOOK_ALLOW)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in (allow or "").split(","):
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), secret or None)

    def allows(self, host: str, address: IPAddress) -> bool:
        return host.lower().rstrip(".") in self.allow_hosts or any(
            address in network for network in self.allow_networks
        )


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "not a unicast address"
    if address.is_private or not address.is_global:
        return "a private address"
    return None


def check_destination(
    host: str, addresses: Iterable[IPAddress], policy: WebhookPolicy
) -> IPAddress:
    """The first address of ``host`` that may be used; raises WebhookRefused otherwise.

    Every address must pass: a name that resolves to a public and a private address
    is refused, whichever one a connect would pick.
    """
    found = list(addresses)
    if not found:
        raise WebhookRefused(f"webhook host {host!r} has no address")
    for address in found:
        reason = refusal(address)
        if reason is not None and not policy.allows(host, address):
            raise WebhookRefused(
                f"webhook host {host!r} resolves to {address}, {reason}; allow it with "
                "EDGEVOICE_WEBHOOK_ALLOW"
            )
    return found[0]


@dataclass(frozen=True)
class PinnedUrl:
    """The URL to connect to (host replaced by the checked address) and the name kept."""

    url: str
    host_header: str
    server_name: str | None  # SNI and certificate name for https


async def pin(url: str, policy: WebhookPolicy) -> PinnedUrl:
    """Resolve ``url``'s host once, check it, and return the URL pinned to that address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("a webhook URL must be http:// or https:// with a host")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookRefused(f"webhook URL has a bad port: {exc}") from exc
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except OSError as exc:
        raise WebhookRefused(f"webhook host {host!r} does not resolve: {exc}") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    address = check_destination(host, addresses, policy)
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{port}"
    default = 443 if parts.scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if parts.port in (None, default) else f"{shown}:{parts.port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return PinnedUrl(pinned, host_header, host if parts.scheme == "https" else None)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(policy: WebhookPolicy, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp}
    if policy.secret is not None:
        headers[SIGNATURE_HEADER] = signature(policy.secret, timestamp, body)
    return headers


def verify(secret: str, timestamp: str, body: bytes, header: str, tolerance: float = 300) -> bool:
    """The receiver's check (documented in docs/security.md): signature and freshness."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)
