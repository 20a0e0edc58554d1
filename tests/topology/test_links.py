"""The forwarder's decisions (pure): which pair a packet belongs to, its delay, loss."""

from __future__ import annotations

import random
import socket

import pytest

from .links import Endpoint, Shaper, Shaping, ipv4_ends, load_links, pair

ENDS = [Endpoint("caller", 1), Endpoint("core", 2), Endpoint("near", 11), Endpoint("far", 13)]


def packet(src: str, dst: str) -> bytes:
    header = bytearray(20)
    header[0] = 0x45
    header[12:16] = socket.inet_aton(src)
    header[16:20] = socket.inet_aton(dst)
    return bytes(header) + b"payload"


def test_packets_are_classified_by_their_subnets() -> None:
    assert ipv4_ends(packet("10.77.1.2", "10.77.13.2")) == (1, 13)
    assert ipv4_ends(packet("10.77.1.2", "192.0.2.1")) is None  # another network
    assert ipv4_ends(b"\x60" + bytes(40)) is None  # IPv6
    assert ipv4_ends(b"\x45") is None
    assert pair("near", "caller") == pair("caller", "near") == ("caller", "near")


def test_each_pair_gets_its_own_delay_both_ways() -> None:
    shaper = Shaper(ENDS)
    load_links(shaper, {"caller-near": {"delay_ms": 10}, "caller-far": {"delay_ms": 150}})
    assert shaper.decide(packet("10.77.1.2", "10.77.11.2")) == pytest.approx(0.010)
    assert shaper.decide(packet("10.77.11.2", "10.77.1.2")) == pytest.approx(0.010)
    assert shaper.decide(packet("10.77.13.2", "10.77.1.2")) == pytest.approx(0.150)
    assert shaper.decide(packet("10.77.2.2", "10.77.11.2")) == 0.0  # unset: no delay
    shaper.set("far", "caller", Shaping(delay_ms=300))  # at run time
    assert shaper.decide(packet("10.77.1.2", "10.77.13.2")) == pytest.approx(0.300)
    assert shaper.describe()["caller-far"] == {"delay_ms": 300.0, "loss": 0.0}


def test_loss_and_strangers_are_dropped() -> None:
    shaper = Shaper(ENDS, random.Random(7))
    shaper.set("caller", "near", Shaping(delay_ms=10, loss=0.25))
    fates = [shaper.decide(packet("10.77.1.2", "10.77.11.2")) for _ in range(4000)]
    lost = fates.count(None) / len(fates)
    assert 0.22 < lost < 0.28
    assert shaper.decide(packet("10.77.1.2", "10.77.99.2")) is None  # no such endpoint
    assert shaper.decide(packet("10.77.1.2", "8.8.8.8")) is None  # never leaves ours
    assert shaper.dropped == fates.count(None) + 2


def test_bad_settings_are_refused() -> None:
    shaper = Shaper(ENDS)
    with pytest.raises(ValueError, match="no endpoint"):
        shaper.set("caller", "mars", Shaping())
    with pytest.raises(ValueError, match="two different"):
        shaper.set("near", "near", Shaping())
    with pytest.raises(ValueError, match="delay_ms"):
        Shaping(delay_ms=-1)
    with pytest.raises(ValueError, match="loss"):
        Shaping(loss=1.5)


def udp(src: str, dst: str, sport: int, dport: int) -> bytes:
    header = bytearray(packet(src, dst)[:20])
    header[9] = 17
    return bytes(header) + sport.to_bytes(2) + dport.to_bytes(2) + bytes(4)


def test_a_firewalled_endpoint_passes_udp_on_one_port_only() -> None:
    shaper = Shaper(ENDS, udp_only={"core": 3478})
    assert shaper.decide(udp("10.77.1.2", "10.77.2.2", 50000, 3478)) == 0.0
    assert shaper.decide(udp("10.77.2.2", "10.77.1.2", 3478, 50000)) == 0.0
    assert shaper.decide(udp("10.77.2.2", "10.77.1.2", 41000, 50000)) is None  # a node
    assert shaper.decide(udp("10.77.1.2", "10.77.2.2", 50000, 41000)) is None
    assert shaper.decide(packet("10.77.1.2", "10.77.2.2")) == 0.0  # not UDP: TCP passes
    assert shaper.decide(udp("10.77.1.2", "10.77.11.2", 50000, 41000)) == 0.0  # a POP
