"""A free TCP port, for the local servers edgevoice starts itself.

``serve`` starts its offline model server on one, the bench and the mouth-to-ear
harness start the servers they measure on one, and the tests do the same. The port is
free when this returns; the server that binds it next is almost always the one it was
meant for (nothing else on a test machine races for ephemeral ports).
"""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port
