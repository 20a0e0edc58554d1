"""Errors of the cluster plane.

Taxonomy:
- ``ClusterError`` — base; ``retryable`` says whether trying later can help.
  - ``NodeUnreachable`` — a node did not answer its internal API (down, restarting,
    network): retryable.
  - ``RemoteProblem`` — a node answered with an error; carries its HTTP status, title,
    detail and ``Retry-After`` so the control plane can pass it on unchanged.
    Retryable when the node said 503.
  - ``NoCapacity`` — no live node can take one more session (or none offers the
    model): retryable later, ``retry_after`` is a hint.
  - ``ClusterConfigError`` — a process was started without what a cluster needs
    (shared API key, cluster secret, Redis): not retryable; the message says what to set.
"""

from __future__ import annotations

from ..errors import EdgevoiceError


class ClusterError(EdgevoiceError):
    retryable = False


class NodeUnreachable(ClusterError):
    retryable = True

    def __init__(self, node_id: str, cause: BaseException | None = None) -> None:
        why = f": {type(cause).__name__}" if cause is not None else ""
        super().__init__(f"node {node_id} did not answer{why}", cause=cause)
        self.node_id = node_id


class RemoteProblem(ClusterError):
    def __init__(
        self, status: int, title: str, detail: str, retry_after: int | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.retryable = status == 503


class NoCapacity(ClusterError):
    retryable = True

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClusterConfigError(ClusterError):
    pass
