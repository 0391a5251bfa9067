"""Fails every test that leaves a simulator's contract violation unclaimed, and skips tests whose
reference file is absent. Enable with `pytest_plugins = ["koppel_local.simulators.kit.pytest_plugin"]`
in the top conftest, or import `strict_simulators` into a test module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from koppel_local.simulators.kit.contract import ReferenceMissing
from koppel_local.simulators.kit.strict import unclaimed_everywhere

T = TypeVar("T")


@pytest.fixture(autouse=True)
def strict_simulators() -> Iterator[None]:
    unclaimed_everywhere()  # what earlier tests left belongs to them
    yield
    fail_on_unclaimed()


def fail_on_unclaimed() -> None:
    found = unclaimed_everywhere()
    if found:
        listed = "\n".join(f"  {owner}: {violation}" for owner, violation in found)
        pytest.fail(f"a simulator saw exchanges its published contract refuses:\n{listed}", pytrace=False)


def contract_or_skip(load: Callable[..., T], *parts: str, **options: object) -> T:
    """The contract `load(*parts)` builds, or the test skipped with the reason the reference is absent."""
    try:
        return load(*parts, **options)
    except ReferenceMissing as missing:
        pytest.skip(str(missing))
