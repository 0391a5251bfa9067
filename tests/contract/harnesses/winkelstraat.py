"""Winkelstraat.nl: Copernicus takes the stock by koppel's signed webhook for the SKUs its feed listed,
and names the others in its answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from contract.harnesses._partner import COVERS, SIGNING_SECRET, PartnerHarness, partner_started

from koppel_local.simulators.copernicus import CopernicusSimulator

__all__ = ["COVERS", "started"]


@contextmanager
def started() -> Iterator[PartnerHarness]:
    with partner_started("winkelstraat", CopernicusSimulator(secret=SIGNING_SECRET)) as harness:
        yield harness
