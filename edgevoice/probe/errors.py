"""What can go wrong in ``edgevoice probe``."""

from __future__ import annotations

from ..errors import EdgevoiceError


class ProbeError(EdgevoiceError):
    """Base of the probe's errors."""


class ProbeUsageError(ProbeError):
    """A bad command line: no API key, a target that is not an http(s) URL."""


class ProbeFailed(ProbeError):
    """One probe could not complete (refused, unreachable, no media, no echo)."""
