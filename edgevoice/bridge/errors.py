"""Errors of the model plane.

Taxonomy (``retryable`` says whether the same action may succeed later):

- ``BridgeError`` — base class.
  - ``CodecError`` — libopus refused a packet or is missing: not retryable for that
    packet (the bridge conceals it and goes on).
  - ``ModelUnavailable`` — the model cannot be reached or refused the connection
    (network, 5xx, rate limit): retryable, the bridge reconnects with backoff.
  - ``ModelRejected`` — the model refused the request itself (bad key, unknown model,
    bad settings): not retryable.
  - ``ToolError`` — a tool call failed (webhook timeout, non-2xx, bad JSON); reported to
    the model as the tool's output, never dropped.
"""

from __future__ import annotations

from ..errors import EdgevoiceError


class BridgeError(EdgevoiceError):
    retryable = False


class CodecError(BridgeError):
    retryable = False


class ModelUnavailable(BridgeError):
    retryable = True


class ModelRejected(BridgeError):
    retryable = False


class ToolError(BridgeError):
    retryable = False
