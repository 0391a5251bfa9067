"""Enrolment: every system that declares a capability has a harness covering each one it declares, and a
system declared without one is caught."""

from __future__ import annotations

from dataclasses import replace

from contract.harnesses import enrolment_problems, harness_module, harness_names, systems_serving

from koppel.connectors import registry
from koppel.connectors.declaration import Capability, Role, SystemSpec

THROWAWAY = SystemSpec(
    name="throwaway",
    title="A system registered without a simulator",
    roles=frozenset({Role.CHANNEL}),
    connector="koppel.connectors.generic.outgoing_webhook:from_account",
    serves=frozenset({Capability.STOCK_TARGET}),
)


def test_every_system_that_serves_something_has_a_harness_covering_it() -> None:
    assert enrolment_problems(registry.systems()) == {}


def test_the_suite_covers_the_systems_that_serve_something() -> None:
    serving = {name for name, declared in registry.systems().items() if declared.serves}

    assert {"bol", "shopify", "generic", "winkelstraat"} <= serving
    assert all(harness_module(name) is not None for name in serving)


def test_every_harness_stands_for_a_system_that_serves_something() -> None:
    # A harness left behind by a renamed or silenced system would test nothing the registry builds.
    assert harness_names() == sorted(name for name, declared in registry.systems().items() if declared.serves)


def test_a_system_registered_without_a_harness_is_reported() -> None:
    with registry.registered(THROWAWAY):
        problems = enrolment_problems(registry.systems())
        parametrised = systems_serving(Capability.STOCK_TARGET)

    assert set(problems) == {"throwaway"}
    assert "no contract.harnesses.throwaway" in problems["throwaway"]
    # the cases would run for it too, and fail on the missing harness rather than skip it
    assert "throwaway" in parametrised


def test_a_harness_that_misses_a_declared_capability_is_reported() -> None:
    bol = registry.spec("bol")
    with registry.registered(replace(bol, serves=bol.serves | {Capability.STOCK_SOURCE})):
        problems = enrolment_problems(registry.systems())

    assert problems == {"bol": "contract.harnesses.bol does not cover stock_source"}


def test_a_system_without_capabilities_needs_no_harness() -> None:
    silent = [name for name, declared in registry.systems().items() if not declared.serves]

    assert "amazon" in silent
    assert not set(silent) & set(enrolment_problems(registry.systems()))
