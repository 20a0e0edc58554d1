"""What a node behind a relay does to its SDP answer: advertise the relay instead of its
own sockets, and remember which of its sockets the session's ufrag maps to. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalIce:
    ufrag: str
    host: str
    port: int


def local_ice(answer: str, media_address: str | None) -> LocalIce | None:
    """The answer's ufrag and its UDP host candidate (on ``media_address`` if given)."""
    ufrag = None
    candidates: list[tuple[str, int]] = []
    for raw in answer.splitlines():
        line = raw.strip()
        if line.startswith("a=ice-ufrag:") and ufrag is None:
            ufrag = line[len("a=ice-ufrag:") :]
        elif line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) >= 8 and parts[2].lower() == "udp" and parts[7] == "host":
                candidates.append((parts[4], int(parts[5])))
    if ufrag is None or not candidates:
        return None
    for host, port in candidates:
        if media_address is None or host == media_address:
            return LocalIce(ufrag, host, port)
    return None


def advertise_relay(answer: str, relay_host: str, relay_port: int) -> str:
    """The answer with its candidates replaced by one host candidate on the relay, and
    ``c=`` lines pointing at it, so the caller sends everything through the relay."""
    out: list[str] = []
    added = False
    newline = "\r\n" if "\r\n" in answer else "\n"
    family = "IP6" if ":" in relay_host else "IP4"
    for line in answer.split(newline):
        if line.startswith("a=candidate:"):
            if not added:
                out.append(f"a=candidate:relay 1 udp 2130706431 {relay_host} {relay_port} typ host")
                added = True
            continue
        if line.startswith("c=IN "):
            line = f"c=IN {family} {relay_host}"
        elif line.startswith("m="):
            parts = line.split(" ")
            if len(parts) > 1 and parts[1] != "0":
                parts[1] = str(relay_port)
                line = " ".join(parts)
        out.append(line)
    return newline.join(out)
