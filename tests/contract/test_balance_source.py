"""BalanceSource: every customer with an e-mail address once, with the sum of their open invoices —
zero when nothing is open — read with its cursor until the last page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from contract.harnesses import Harness

from koppel.connectors.base import CustomerBalance
from koppel.connectors.declaration import Capability
from koppel.models import Money

CAPABILITY = Capability.BALANCE_SOURCE

MAX_PAGES = 100


class BalanceSourceHarness(Harness, Protocol):
    balance_page_size: int  # customers per page of the backoffice's list

    def add_customer(self, email: str, name: str) -> str: ...  # the backoffice's customer id

    def add_open_invoice(self, customer_ref: str, amount: Decimal) -> str: ...  # the invoice's id

    def pay_invoice(self, invoice_ref: str, amount: Decimal) -> None: ...  # a payment booked against it


def read_all(connector: Any) -> tuple[list[CustomerBalance], int]:
    balances: list[CustomerBalance] = []
    cursor: str | None = None
    for pages in range(1, MAX_PAGES + 1):
        page = connector.balance_page(cursor)
        balances.extend(page.balances)
        cursor = page.cursor
        if cursor is None:
            return balances, pages
    raise AssertionError(f"no last page after {MAX_PAGES} pages")


def test_each_customer_comes_with_the_sum_of_what_is_open(harness: BalanceSourceHarness, connector: Any) -> None:
    # GIVEN one customer with two open invoices, one who paid part of one, one who owes nothing
    owes = harness.add_customer("owes@example.nl", "Owes Twice")
    harness.add_open_invoice(owes, Decimal("100.10"))
    harness.add_open_invoice(owes, Decimal("0.20"))
    partly = harness.add_customer("partly@example.nl", "Paid Partly")
    invoice = harness.add_open_invoice(partly, Decimal("50.00"))
    harness.pay_invoice(invoice, Decimal("19.99"))
    settled = harness.add_customer("settled@example.nl", "All Settled")
    paid = harness.add_open_invoice(settled, Decimal("12.00"))
    harness.pay_invoice(paid, Decimal("12.00"))
    harness.add_customer("", "No Address")

    balances, _ = read_all(connector)

    # THEN every customer with an address comes once, each with exactly what is open
    assert {balance.email: balance.open_amount for balance in balances} == {
        "owes@example.nl": Money(amount=Decimal("100.30"), currency="EUR"),
        "partly@example.nl": Money(amount=Decimal("30.01"), currency="EUR"),
        "settled@example.nl": Money(amount=Decimal("0"), currency="EUR"),
    }
    assert len(balances) == 3
    assert {balance.email: balance.customer_ref for balance in balances}["owes@example.nl"] == owes
    assert all(type(balance.open_amount.amount) is Decimal for balance in balances)


def test_every_customer_is_read_once_across_pages(harness: BalanceSourceHarness, connector: Any) -> None:
    count = harness.balance_page_size + 7
    for number in range(count):
        customer = harness.add_customer(f"buyer{number:04d}@example.nl", f"Buyer {number}")
        if number % 50 == 0:
            harness.add_open_invoice(customer, Decimal(number) + Decimal("0.50"))

    balances, pages = read_all(connector)

    assert pages >= 2
    emails = [balance.email for balance in balances]
    assert len(emails) == len(set(emails)) == count
    owed = {balance.email: balance.open_amount.amount for balance in balances}
    assert owed["buyer0050@example.nl"] == Decimal("50.50")
    assert owed["buyer0051@example.nl"] == 0
