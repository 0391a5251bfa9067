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
def harness(system: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    module = harness_module(system)
    if module is None:
        pytest.fail(f"{system} declares a capability but has no contract harness", pytrace=False)
    # A case a system cannot meet (a limit of its API, named with the reason in its harness's
    # CANNOT_HOLD) still runs, and is expected to fail: the day it passes, the suite says so.
    case = f"{request.node.path.name}::{request.node.originalname}"
    reason = getattr(module, "CANNOT_HOLD", {}).get(case)
    if reason:
        request.node.add_marker(pytest.mark.xfail(reason=f"{system}: {reason}", strict=True))
    with module.started() as started:
        yield started


@pytest.fixture
def connector(harness: Any) -> Any:
    return harness.connector
