"""BalanceTarget: each customer's open amount shows on their account, an e-mail without an account is
reported while the others are taken, and a paid-up customer's amount goes back to zero."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from contract.harnesses import Harness

from koppel.connectors.base import CustomerBalance
from koppel.connectors.declaration import Capability
from koppel.models import Money

CAPABILITY = Capability.BALANCE_TARGET


class BalanceTargetHarness(Harness, Protocol):
    balance_attribute: str  # the customer attribute the merchant made for the open amount

    def add_customer(self, email: str) -> None: ...

    def balance_of(self, email: str) -> Decimal | None: ...  # what the account shows; None: never set


def owes(email: str, amount: str) -> CustomerBalance:
    return CustomerBalance(email=email, open_amount=Money(amount=Decimal(amount)))


def test_each_customer_s_open_amount_shows_on_their_account(harness: BalanceTargetHarness, connector: Any) -> None:
    harness.add_customer("anna@example.nl")
    harness.add_customer("bram@example.nl")

    results = connector.push_balances(
        [owes("anna@example.nl", "125.40"), owes("bram@example.nl", "0")], harness.balance_attribute
    )

    assert [(result.email, result.accepted) for result in results] == [
        ("anna@example.nl", True),
        ("bram@example.nl", True),
    ]
    assert harness.balance_of("anna@example.nl") == Decimal("125.40")
    assert harness.balance_of("bram@example.nl") == Decimal("0")


def test_an_e_mail_without_an_account_is_reported_while_the_others_are_taken(
    harness: BalanceTargetHarness, connector: Any
) -> None:
    harness.add_customer("anna@example.nl")

    results = connector.push_balances(
        [owes("nobody@example.nl", "10"), owes("anna@example.nl", "10")], harness.balance_attribute
    )

    refused, taken = results
    assert (refused.email, refused.accepted, refused.retryable) == ("nobody@example.nl", False, False)
    assert "no customer account" in refused.error
    assert taken.accepted and harness.balance_of("anna@example.nl") == Decimal("10")


def test_a_paid_up_customer_goes_back_to_zero(harness: BalanceTargetHarness, connector: Any) -> None:
    harness.add_customer("anna@example.nl")
    connector.push_balances([owes("anna@example.nl", "80.00")], harness.balance_attribute)

    connector.push_balances([owes("anna@example.nl", "0.00")], harness.balance_attribute)

    assert harness.balance_of("anna@example.nl") == Decimal("0")
