"""Errors of the media plane.

Taxonomy (every error says whether trying again can help):

- ``MediaError`` — base class; ``retryable`` tells a caller whether the same request
  may succeed later.
  - ``OfferError`` — the SDP offer cannot be answered (malformed, no Opus audio, wrong
    direction). The client must change its offer: not retryable.
  - ``PortsExhausted`` — the node's UDP port range has no free port: retryable.
  - ``CallStateError`` — the operation does not fit the call's state (a second caller,
    a closed call): not retryable.
"""

from __future__ import annotations


class MediaError(Exception):
    retryable = False

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__(message)
        if cause is not None:
            self.__cause__ = cause


class OfferError(MediaError):
    retryable = False


class PortsExhausted(MediaError):
    retryable = True


class CallStateError(MediaError):
    retryable = False
