"""The contract suite: each case runs once per registered system that declares its capability,
against that system's harness (`contract.harnesses.<system>`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from contract.harnesses import harness_module, systems_serving

# Every exchange off a simulator's published contract fails the case that caused it.
from koppel_local.simulators.kit.pytest_plugin import strict_simulators  # noqa: F401


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A case module names its capability; the systems come from the declarations, not from a list here.
    if "system" in metafunc.fixturenames:
        metafunc.parametrize("system", systems_serving(metafunc.module.CAPABILITY))


@pytest.fixture
def harness(system: str) -> Iterator[Any]:
    module = harness_module(system)
    if module is None:
        pytest.fail(f"{system} declares a capability but has no contract harness", pytrace=False)
    with module.started() as started:
        yield started


@pytest.fixture
def connector(harness: Any) -> Any:
    return harness.connector
