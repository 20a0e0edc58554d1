"""Webhook destinations are checked and pinned, and each POST is signed.

The refusals never connect: the real HTTP server on 127.0.0.1 sees no request. The
allowed POST goes to that server, allow-listed for the test.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from typing import Any

import pytest

from edgevoice.bridge import events as ev
from edgevoice.bridge.tools import ToolRunner
from edgevoice.bridge.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookPolicy,
    WebhookRefused,
    check_destination,
    refusal,
    signature,
    verify,
)

from .test_tools import Webhook, webhook  # noqa: F401 - the fixture

CALL = ev.FunctionCall("resp_1", "call_1", "book", '{"day": "monday"}')
SECRET = "whsec_test"


async def run(runner: ToolRunner) -> Any:
    try:
        async with asyncio.timeout(10):
            return json.loads(await runner.run(CALL))
    finally:
        await runner.aclose()


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.10", "a private address"),
        ("172.16.5.5", "a private address"),
        ("100.64.0.1", "a private address"),
        ("fd12::1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.10.10", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "not a unicast address"),
        ("224.0.0.1", "not a unicast address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_refusal(address: str, why: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


def test_policy_parsing_and_allowing() -> None:
    policy = WebhookPolicy.parse(" hooks.internal. ,10.0.0.0/8, [::1], 127.0.0.1 ,", "s")
    assert policy.allow_hosts == {"hooks.internal"}
    assert policy.secret == "s"
    private = ipaddress.ip_address("10.9.9.9")
    assert policy.allows("anything", private)
    assert policy.allows("Hooks.Internal", ipaddress.ip_address("192.168.1.1"))
    assert not policy.allows("other", ipaddress.ip_address("192.168.1.1"))
    assert policy.allows("x", ipaddress.ip_address("::1"))
    assert WebhookPolicy.parse(None).secret is None


def test_a_name_with_one_private_address_is_refused() -> None:
    public, private = ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.1")
    with pytest.raises(WebhookRefused, match=r"resolves to 10\.0\.0\.1, a private address"):
        check_destination("mixed.example", [public, private], WebhookPolicy())
    assert check_destination("pub.example", [public], WebhookPolicy()) == public


def test_signature_matches_the_documented_recipe() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("k", "1700000000", body) == "v1=" + expected
    now = str(int(time.time()))
    assert verify("k", now, body, signature("k", now, body))
    assert not verify("k", now, body + b" ", signature("k", now, body))
    assert not verify("k", "1700000000", body, signature("k", "1700000000", body))  # stale


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "169.254.169.254", "10.0.0.1",
     "[fd00:ec2::254]", "[::1]"],
)  # fmt: skip
async def test_unlisted_private_destinations_are_refused_without_connecting(
    webhook: Webhook,  # noqa: F811
    host: str,
) -> None:
    url = f"http://{host}:{webhook.port}/ok"
    output = await run(ToolRunner(url, "sess_1", declared=("book",)))
    assert "EDGEVOICE_WEBHOOK_ALLOW" in output["error"], output
    assert webhook.requests == []


async def test_allow_listed_post_is_signed(webhook: Webhook) -> None:  # noqa: F811
    policy = WebhookPolicy.parse("127.0.0.1/32", SECRET)
    output = await run(ToolRunner(webhook.url("/ok"), "sess_1", declared=("book",), policy=policy))
    assert output["booked"] is True
    [request] = webhook.requests
    headers = request["headers"]
    body = json.dumps(request["body"]).encode()  # the runner sends json.dumps's bytes
    timestamp = headers[TIMESTAMP_HEADER.lower()]
    assert abs(int(timestamp) - time.time()) < 60
    assert verify(SECRET, timestamp, body, headers[SIGNATURE_HEADER.lower()])
    assert headers["host"] == f"127.0.0.1:{webhook.port}"


async def test_name_is_resolved_once_and_the_checked_address_is_used(
    webhook: Webhook,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rebinding name: 127.0.0.1 (allow-listed) when checked, 10.0.0.1 afterwards."""
    loop = asyncio.get_running_loop()
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    asked: list[str] = []

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        asked.append(host)
        address = next(answers) if host == "hook.rebind.test" else host
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    policy = WebhookPolicy.parse("127.0.0.1")
    url = f"http://hook.rebind.test:{webhook.port}/ok"
    output = await run(ToolRunner(url, "sess_1", declared=("book",), policy=policy))
    assert output["booked"] is True, output
    assert asked.count("hook.rebind.test") == 1
    assert webhook.requests[0]["headers"]["host"] == f"hook.rebind.test:{webhook.port}"
