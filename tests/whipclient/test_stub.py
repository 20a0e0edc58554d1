"""The loopback shim for Debian's whip-client, and the client's offer under it.

The end-to-end WHIP tests against edgevoice live with the signalling tests; these only
prove the shim: whip-client starts (no libsoup abort), gathers 127.0.0.1 and nothing
else, and the shim refuses traffic to anything that is not loopback.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.whipclient.harness import (
    WhipClientError,
    available,
    build_stub,
    stub_env,
    tone_pipeline,
    whip_client,
)

pytestmark = [
    pytest.mark.whip_client,
    pytest.mark.skipif(not available(), reason="whip-client or gcc not installed"),
]

# 0.0.0.0 stands for "not loopback" below: the shim must refuse it, and if it ever
# did not, Linux would deliver the packet locally rather than put it on a wire.
PROBE = r"""
import errno, socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 0))
print("bound", u.getsockname()[0])
for what, call in (
    ("sendto", lambda: u.sendto(b"x", ("0.0.0.0", 9))),
    ("sendmsg", lambda: u.sendmsg([b"x"], [], 0, ("0.0.0.0", 9))),
    ("connect", lambda: socket.create_connection(("0.0.0.0", 9), timeout=1)),
):
    try:
        call()
        print(what, "sent")
    except OSError as e:
        print(what, "refused" if e.errno == errno.ENETUNREACH else f"error {e.errno}")
u.sendto(b"x", ("127.0.0.1", 9))
print("loopback ok")
"""


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stub(tmp_path_factory.mktemp("whipstub"))


def test_stub_keeps_sockets_on_loopback(stub: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=stub_env(stub),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.split("\n")[:5] == [
        "bound 127.0.0.1",
        "sendto refused",
        "sendmsg refused",
        "connect refused",
        "loopback ok",
    ]
    assert out.stderr.count("whipstub: blocked") == 3


class _OfferSink(BaseHTTPRequestHandler):
    offers: list[tuple[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        self.offers.append((self.headers.get("Authorization", ""), body))
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def offer_sink() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OfferSink)
    _OfferSink.offers = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/whip", _OfferSink.offers
    finally:
        server.shutdown()
        server.server_close()


async def test_whip_client_offers_only_loopback_candidates(
    stub: Path, offer_sink: tuple[str, list[tuple[str, str]]]
) -> None:
    url, offers = offer_sink
    with pytest.raises(WhipClientError) as failed:
        async with whip_client(
            url, token="tok", audio_pipeline=tone_pipeline(), trickle=False, stub=stub
        ):
            pass
    client = failed.value.client
    assert client.http_status == 403
    assert "libsoup" not in client.output
    assert offers and offers[0][0] == "Bearer tok"
    offer = offers[0][1]
    assert "m=audio" in offer and "OPUS/48000/2" in offer
    candidates = [line for line in offer.splitlines() if line.startswith("a=candidate:")]
    assert any(" UDP " in c for c in candidates)
    assert {c.split()[4] for c in candidates} == {"127.0.0.1"}
    assert client.local_addresses == {"127.0.0.1"}
    assert not client.blocked
