"""Reconnecting the model link: the backoff policy and the turns to replay.

Both are pure (no sockets, no sleeping): the client asks ``Backoff.delays()`` how long
to wait before each try, and ``RecentTurns`` which conversation items to re-create on
the new socket.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

Role = Literal["user", "assistant"]


def backoff_delay(
    attempt: int, *, initial: float, factor: float, cap: float, jitter: float, rand: float
) -> float:
    """The wait before try ``attempt`` (0-based): ``initial·factorᵃᵗᵗᵉᵐᵖᵗ`` capped at
    ``cap``, then scaled by ``1 ± jitter`` using ``rand`` ∈ [0, 1)."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    base = min(cap, initial * factor**attempt)
    return max(0.0, base * (1.0 + jitter * (2.0 * rand - 1.0)))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, bounded by a total time budget."""

    initial: float = 0.2
    factor: float = 2.0
    cap: float = 5.0
    jitter: float = 0.2
    give_up_after: float = 60.0

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        """The waits before each try; stops when the next wait would pass the budget.

        The budget counts waiting only; the client also checks elapsed wall time, so
        slow connect attempts count too.
        """
        waited = 0.0
        attempt = 0
        while True:
            delay = backoff_delay(
                attempt, initial=self.initial, factor=self.factor, cap=self.cap,
                jitter=self.jitter, rand=rand(),
            )  # fmt: skip
            if waited + delay > self.give_up_after:
                return
            waited += delay
            attempt += 1
            yield delay


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    text: str


class RecentTurns:
    """The last ``limit`` transcript items (user and assistant), oldest first."""

    def __init__(self, limit: int = 20) -> None:
        self._turns: deque[Turn] = deque(maxlen=limit)

    def add(self, role: Role, text: str) -> None:
        if text.strip():
            self._turns.append(Turn(role, text))

    def turns(self) -> list[Turn]:
        return list(self._turns)

    def __len__(self) -> int:
        return len(self._turns)
