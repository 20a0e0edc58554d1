"""The root of every package's error taxonomy.

Each package keeps its own taxonomy module (``sfu/errors.py``, ``bridge/errors.py``,
``node/errors.py``, ``signalling/errors.py``); their base classes derive from this one,
so every error carries its cause and says whether trying again can help.
"""

from __future__ import annotations


class EdgevoiceError(Exception):
    retryable = False

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__(message)
        if cause is not None:
            self.__cause__ = cause
