"""States as enums that refuse illegal transitions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Generic, TypeVar

S = TypeVar("S", bound=Enum)


class IllegalTransition(Exception):
    def __init__(self, current: Enum, wanted: Enum) -> None:
        super().__init__(f"cannot go from {current.value} to {wanted.value}")
        self.current = current
        self.wanted = wanted


class StateMachine(Generic[S]):
    """Holds one state; ``to()`` moves only along the allowed edges."""

    def __init__(
        self,
        initial: S,
        edges: Mapping[S, frozenset[S]],
        on_change: Callable[[S, S], None] | None = None,
    ) -> None:
        self._state = initial
        self._edges = edges
        self._on_change = on_change

    @property
    def state(self) -> S:
        return self._state

    def can(self, wanted: S) -> bool:
        return wanted in self._edges.get(self._state, frozenset())

    def to(self, wanted: S) -> None:
        if not self.can(wanted):
            raise IllegalTransition(self._state, wanted)
        previous, self._state = self._state, wanted
        if self._on_change is not None:
            self._on_change(previous, wanted)
