"""What SnelStart's customers owe, for their webshop accounts (`BalanceSource`).

The open amount of a customer is the sum of `openstaandSaldo` over its sales invoices
(`GET /verkoopfacturen?$filter=openstaandSaldo ne 0`, scope `orders:read`; a credit note counts
negative). The customers are the active relaties of kind Klant with an e-mail address
(`GET /relaties`, scope `relaties:read`), a page of up to 500 at a time, each with its sum — zero
when nothing is open. The invoices are read once per pass (from a None cursor on), so every page of
one pass adds up the same invoices.
"""

from __future__ import annotations

from decimal import Decimal

from koppel.connectors.base import BalancePage, CustomerBalance
from koppel.connectors.snelstart.client import LIST_PAGE, SnelStartPart
from koppel.models import Money

CURRENCY = "EUR"


class SnelStartBalances(SnelStartPart):
    """`BalanceSource`: the open sales invoices of every customer with an e-mail address."""

    _open: dict[str, Decimal] | None = None

    def balance_page(self, cursor: str | None) -> BalancePage:
        skip = int(cursor) if cursor and cursor.isdigit() else 0
        if cursor is None or self._open is None:
            self._open = self.open_amounts()
        found = self.snelstart.page("/relaties", skip=skip, top=LIST_PAGE)
        balances = []
        for relatie in found.rows:
            email = str(relatie.get("email") or "").strip()
            kinds = relatie.get("relatiesoort")
            if not email or relatie.get("nonactief") or (isinstance(kinds, list) and "Klant" not in kinds):
                continue
            ref = str(relatie.get("id") or "")
            owed = self._open.get(ref, Decimal(0))
            balances.append(
                CustomerBalance(email=email, open_amount=Money(amount=owed, currency=CURRENCY), customer_ref=ref)
            )
        following = str(skip + len(found.rows)) if len(found.rows) >= LIST_PAGE else None
        return BalancePage(balances=tuple(balances), cursor=following)

    def open_amounts(self) -> dict[str, Decimal]:
        """relatie id -> the sum of what is open on its sales invoices."""
        owed: dict[str, Decimal] = {}
        for invoice in self.snelstart.every("/verkoopfacturen", filter="openstaandSaldo ne 0"):
            relatie = str((invoice.get("relatie") or {}).get("id") or "")
            amount = invoice.get("openstaandSaldo")
            if relatie and amount is not None:
                owed[relatie] = owed.get(relatie, Decimal(0)) + Decimal(str(amount))
        return owed
