"""The POP topology as a fixture: built once for the package's tests, torn down after
(also when a test fails). Skipped, with the reason, where namespaces cannot be made."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import netns
from .pops import Topology, topology


@pytest.fixture(scope="package")
def pops() -> Iterator[Topology]:
    reason = netns.cannot_build()
    if reason is not None:
        pytest.skip(f"POP topology unavailable: {reason}")
    with topology() as topo:
        yield topo
