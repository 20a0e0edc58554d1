"""Errors of the media node (the place where a call and its bridge meet).

Taxonomy:
- ``NodeError`` — base; ``retryable`` says whether trying later can help.
  - ``AtCapacity`` — the node holds its maximum number of calls: retryable later
    (``retry_after`` seconds is a hint).
  - ``UnknownCall`` — no such call on this node (ended, or never here): not retryable.
  - ``UnknownModel`` — the session asked for a model this node cannot reach: not retryable.
Media and bridge errors pass through unchanged (``sfu.errors``, ``bridge.errors``).
"""

from __future__ import annotations

from ..errors import EdgevoiceError


class NodeError(EdgevoiceError):
    retryable = False


class AtCapacity(NodeError):
    retryable = True

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnknownCall(NodeError):
    retryable = False


class UnknownModel(NodeError):
    retryable = False
