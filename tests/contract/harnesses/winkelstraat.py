"""Winkelstraat.nl: Copernicus takes the stock by koppel's signed webhook, as any partner does."""

from functools import partial

from contract.harnesses._partner import COVERS, partner_started

__all__ = ["COVERS", "started"]

started = partial(partner_started, "winkelstraat")
