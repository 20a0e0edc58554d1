"""The offline model server as a supervised child process of serve / node.

Speech recognition and synthesis run in their own process, off the media loop. If that
process dies (a crash, the OOM killer, someone's kill), it is started again on the same
port: the sessions' model links (``bridge.reconnect``) find it there and calls recover;
their event streams say ``model.connection`` meanwhile. It dies with its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
import time

START_SECONDS = 120
RESTART_PAUSE_SECONDS = 1.0  # between a death and the next start (no tight crash loop)
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies, however it dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ModelServerChild:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/v1/realtime"
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> bool:
        """Start the child and wait until it listens; False if it did not come up."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edgevoice", "model-server", "--host", "127.0.0.1",
            "--port", str(self.port), stdout=None, stderr=None, preexec_fn=die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.proc.returncode is None:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return True
            except OSError:
                await asyncio.sleep(0.2)
        return False

    def supervise(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._supervise())

    async def _supervise(self) -> None:
        while not self._stopping and self.proc is not None:
            code = await self.proc.wait()
            if self._stopping:
                return
            self.restarts += 1
            print(f"the offline model server exited ({code}); starting it again "
                  f"(restart {self.restarts})", flush=True)  # fmt: skip
            await asyncio.sleep(RESTART_PAUSE_SECONDS)
            if await self.start():
                print("the offline model server is back", flush=True)

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            if proc.returncode is None:
                proc.kill()
