"""Errors of the media plane.

Taxonomy (every error says whether trying again can help):

- ``MediaError`` — base class; ``retryable`` tells a caller whether the same request
  may succeed later.
  - ``OfferError`` — the SDP offer cannot be answered (malformed, no Opus audio, wrong
    direction). The client must change its offer: not retryable.
  - ``PortsExhausted`` — the node's UDP port range has no free port: retryable.
  - ``CallStateError`` — the operation does not fit the call's state (a second caller,
    a closed call): not retryable.
  - ``UnknownListener`` — no such WHEP listener on the call (it left, or never was).
  - ``IceRestartRefused`` — a trickle fragment with new ICE credentials (a restart),
    which a node does not support: not retryable.
  - ``SrtpProtectError`` — libsrtp refused to protect an outgoing packet (a session
    torn down, a key past its packet limit): the stream is over, not retryable.
"""

from __future__ import annotations

from ..errors import EdgevoiceError


class MediaError(EdgevoiceError):
    retryable = False


class OfferError(MediaError):
    retryable = False


class PortsExhausted(MediaError):
    retryable = True


class CallStateError(MediaError):
    retryable = False


class UnknownListener(MediaError):
    retryable = False


class IceRestartRefused(MediaError):
    retryable = False


class SrtpProtectError(MediaError):
    retryable = False
