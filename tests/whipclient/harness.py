"""Drive Debian's real GStreamer WHIP client (``whip-client``) from tests.

Debian 12's ``simple-whip-client`` cannot run unaided here: it aborts at start
(libsoup2 + libsoup3 in one process, via libnice -> gupnp-igd) and libnice gathers no
loopback candidates. ``stub.c`` fixes both; :func:`build_stub` compiles it and
:func:`whip_client` runs the client with it preloaded, so every socket it opens stays
on 127.0.0.1 and its SDP offer carries only 127.0.0.1 candidates.

Typical use in an async test::

    from tests.whipclient.harness import whip_client, wav_pipeline

    async with whip_client(whip_url, token=client_secret,
                           audio_pipeline=wav_pipeline(HELLO_WAV)) as client:
        assert client.local_addresses == {"127.0.0.1"}
        ...  # media flows; check the server side
    assert client.deleted  # the client sent DELETE on the resource when stopped

Failures to connect (HTTP error, ICE/DTLS failure, early exit, timeout) raise
:class:`WhipClientError`, whose ``client`` attribute keeps the parsed log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
STUB_NAME = "libgupnp-igd-1.0.so.4"
DEFAULT_BUILD_DIR = REPO / "build" / "whipstub"

OPUS_PT = 111
_RTP_TAIL = (
    f"queue ! opusenc ! rtpopuspay pt={OPUS_PT} ! queue ! "
    f"application/x-rtp,media=audio,encoding-name=OPUS,payload={OPUS_PT}"
)
_RAW = "audio/x-raw,format=S16LE,rate=48000,channels=1"

# Lines whip-client prints (with -o, no colours).
_CONNECTED = "PeerConnection connected"
_FAILURES = ("ICE failed", "DTLS failed", "PeerConnection failed", "Disconnecting from server")
_HTTP_STATUS = re.compile(r"\[ERR\].*\[(\d{3})\]")


class WhipClientError(RuntimeError):
    """whip-client did not reach a connected PeerConnection."""

    def __init__(self, message: str, client: WhipClient) -> None:
        super().__init__(f"{message}\n--- whip-client output (tail) ---\n{client.tail()}")
        self.client = client


def available() -> bool:
    """True when whip-client and gcc are installed (tests skip otherwise)."""
    return shutil.which("whip-client") is not None and shutil.which("gcc") is not None


def build_stub(build_dir: Path | None = None) -> Path:
    """Compile stub.c (if stale) and return the path of the shared object."""
    out = Path(build_dir) if build_dir is not None else DEFAULT_BUILD_DIR
    result = subprocess.run(
        ["bash", str(HERE / "build.sh"), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(result.stdout.strip().splitlines()[-1])


def stub_env(stub: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment that preloads the stub (and shadows the real gupnp-igd)."""
    env = dict(os.environ if base is None else base)
    env["LD_PRELOAD"] = ":".join(p for p in (str(stub), env.get("LD_PRELOAD", "")) if p)
    env["LD_LIBRARY_PATH"] = ":".join(
        p for p in (str(stub.parent), env.get("LD_LIBRARY_PATH", "")) if p
    )
    return env


def tone_pipeline(freq: float = 440.0, volume: float = 0.3) -> str:
    """Live sine tone, Opus-encoded, ready for whip-client's -A."""
    return (
        f"audiotestsrc is-live=true wave=sine freq={freq} volume={volume} "
        f"samplesperbuffer=960 ! audioconvert ! audioresample ! {_RAW} ! {_RTP_TAIL}"
    )


def wav_pipeline(
    path: str | os.PathLike[str], lead_in: float = 1.0, then_silence: bool = True
) -> str:
    """Play a WAV file in real time: ``lead_in`` seconds of silence first (the pipeline
    starts before ICE/DTLS connect, and what is sent before is lost), then the file,
    then silence for as long as the client runs (``then_silence``), so the session
    stays up while the far end answers."""
    location = str(Path(path).resolve())
    if any(c in location for c in " \"'!"):
        raise ValueError(f"unsupported characters in WAV path: {location!r}")
    buffers = max(0, round(lead_in * 50))  # 20 ms buffers
    parts = []
    if buffers:
        parts.append(
            f"audiotestsrc wave=silence num-buffers={buffers} samplesperbuffer=960 ! {_RAW} ! c."
        )
    parts.append(
        f"filesrc location={location} ! wavparse ! audioconvert ! audioresample ! {_RAW} ! c."
    )
    if then_silence:
        parts.append(f"audiotestsrc wave=silence samplesperbuffer=960 ! {_RAW} ! c.")
    # The last branch must end in RTP caps: whip-client appends " ! sendonly.".
    parts.append(f"concat name=c ! identity sync=true ! {_RTP_TAIL}")
    return "  ".join(parts)


@dataclass
class WhipClient:
    """A running (or finished) whip-client and what its log said."""

    url: str
    argv: list[str]
    process: asyncio.subprocess.Process | None = None
    lines: list[str] = field(default_factory=list)
    offer_sdp: str = ""
    answer_sdp: str = ""
    resource_url: str | None = None
    trickled: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    failure: str | None = None
    deleted: bool = False
    _section: str | None = None

    # ---- derived views
    @property
    def http_status(self) -> int | None:
        """HTTP status of the failing request, if whip-client reported one."""
        for line in self.errors:
            m = _HTTP_STATUS.search(line)
            if m:
                return int(m.group(1))
        return None

    @property
    def local_candidates(self) -> list[str]:
        """The client's own candidates: in the offer (-n) or trickled by PATCH."""
        in_offer = [
            line[2:] for line in self.offer_sdp.splitlines() if line.startswith("a=candidate:")
        ]
        return in_offer + [c for c in self.trickled if c.startswith("candidate:")]

    @property
    def local_addresses(self) -> set[str]:
        """Connection addresses of the client's candidates (should be {'127.0.0.1'})."""
        return {c.split()[4] for c in self.local_candidates if len(c.split()) > 4}

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.lines[-n:])

    # ---- log parsing
    def _feed(self, line: str) -> None:
        self.lines.append(line)
        if line.startswith("whipstub: blocked"):
            self.blocked.append(line)
        if "[ERR]" in line:
            self.errors.append(line)
        if "Sending SDP offer" in line:
            self._section = "offer"
            return
        if "Received SDP answer" in line:
            self._section = "answer"
            return
        if "Adding candidate to SDP:" in line:  # -n: printed between the two above
            return
        if len(line) > 1 and line[1] == "=" and self._section is not None:
            if self._section == "offer":
                self.offer_sdp += line + "\r\n"
            else:
                self.answer_sdp += line + "\r\n"
            return
        self._section = None
        if "Resource URL:" in line:
            self.resource_url = line.split("Resource URL:", 1)[1].strip()
        elif "Sending candidates:" in line:
            self.trickled.append(line.split("Sending candidates:", 1)[1].strip())
        elif _CONNECTED in line:
            self.connected.set()
        elif "Disconnecting from server" in line:
            self.deleted = self.resource_url is not None
        if self.failure is None and not self.connected.is_set():
            if any(f in line for f in _FAILURES):
                self.failure = "; ".join(dict.fromkeys([*self.errors, line]))

    def hint(self) -> str:
        if "DTLS failed" in self.output and "a=setup:active" in self.answer_sdp:
            return (
                " (hint: the answer took the DTLS client role, a=setup:active. GStreamer's "
                "DTLS server uses an RSA certificate and aiortc offers only ECDHE-ECDSA "
                "ciphers -> 'no shared cipher'. Answer with a=setup:passive.)"
            )
        return ""

    async def wait_for(self, text: str, within: float = 10.0) -> str:
        """Wait until a log line containing ``text`` appears; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if text in line:
                    return line
            seen = len(self.lines)
            if self.finished.is_set():
                raise WhipClientError(f"whip-client exited before printing {text!r}", self)
            if loop.time() > deadline:
                raise WhipClientError(f"timed out waiting for {text!r}", self)
            await asyncio.sleep(0.05)


async def _pump(client: WhipClient, stream: asyncio.StreamReader) -> None:
    try:
        while True:
            raw = await stream.readline()
            if not raw:
                break
            client._feed(raw.decode("utf-8", "replace").rstrip("\r\n"))
    finally:
        client.finished.set()


@contextlib.asynccontextmanager
async def whip_client(
    url: str,
    token: str | None = None,
    *,
    audio_pipeline: str | None = None,
    video_pipeline: str | None = None,
    trickle: bool = True,
    connect_timeout: float = 20.0,
    stop_timeout: float = 10.0,
    extra_args: Sequence[str] = (),
    allow_blocked: bool = False,
    stub: Path | None = None,
) -> AsyncIterator[WhipClient]:
    """Run whip-client against ``url`` until the block exits.

    Yields once the PeerConnection is connected; raises :class:`WhipClientError` if it
    fails or ``connect_timeout`` passes. On exit sends SIGINT (whip-client then DELETEs
    the resource and stops), waiting up to ``stop_timeout`` before killing it. Unless
    ``allow_blocked``, raises at exit if the stub refused any non-loopback send.
    The audio defaults to a 440 Hz tone (:func:`tone_pipeline`).
    """
    if audio_pipeline is None and video_pipeline is None:
        audio_pipeline = tone_pipeline()
    stub = stub if stub is not None else build_stub()
    argv = ["whip-client", "-o", "-l", "7", "-u", url]
    if token is not None:
        argv += ["-t", token]
    if audio_pipeline is not None:
        argv += ["-A", audio_pipeline]
    if video_pipeline is not None:
        argv += ["-V", video_pipeline]
    if not trickle:
        argv.append("-n")
    argv += list(extra_args)

    client = WhipClient(url=url, argv=argv)
    env = stub_env(stub)
    env["GST_DEBUG_NO_COLOR"] = "1"
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    client.process = proc
    assert proc.stdout is not None
    reader = asyncio.create_task(_pump(client, proc.stdout))
    try:
        await _wait_connected(client, connect_timeout)
        yield client
    finally:
        await _stop(client, proc, stop_timeout)
        await reader
    if client.blocked and not allow_blocked:
        raise WhipClientError("the stub refused non-loopback traffic", client)


async def _wait_connected(client: WhipClient, limit: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not client.connected.is_set():
        if client.failure is not None:
            raise WhipClientError(f"whip-client failed: {client.failure}{client.hint()}", client)
        if client.finished.is_set():
            raise WhipClientError("whip-client exited before connecting", client)
        if loop.time() > deadline:
            raise WhipClientError(f"whip-client not connected after {limit:.0f}s", client)
        await asyncio.sleep(0.02)


async def _stop(client: WhipClient, proc: asyncio.subprocess.Process, grace: float) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(client.finished.wait(), grace)
