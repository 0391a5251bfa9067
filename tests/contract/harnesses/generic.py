"""A partner or the merchant's own middleware taking stock by koppel's signed webhook."""

from functools import partial

from contract.harnesses._partner import COVERS, partner_started

__all__ = ["COVERS", "started"]

started = partial(partner_started, "generic")
