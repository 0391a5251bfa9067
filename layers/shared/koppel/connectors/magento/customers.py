"""Customers' open amounts on their Magento accounts (`BalanceTarget`).

The customer is found by e-mail (`GET /V1/customers/search`, `email eq`); the amount goes into a
customer attribute the merchant made for it, written with `PUT /V1/customers/{id}`. Magento's PUT
takes the whole customer (e-mail, names, website and the addresses it keeps), so the customer is sent
back as the search answered it, with the one attribute changed. An e-mail can have an account on
more than one website: each gets the amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from koppel.connectors.base import BalancePushResult, CustomerBalance
from koppel.connectors.magento.client import MagentoPart, Search
from koppel.errors import ConfigurationError, NotFound, PermanentConnectorError, RateLimited, TransientConnectorError

NO_ACCOUNT = "no customer account with this e-mail"
ACCOUNTS_PER_EMAIL = 20


class MagentoBalances(MagentoPart):
    """`BalanceTarget`."""

    def push_balances(self, balances: Sequence[CustomerBalance], attribute: str) -> list[BalancePushResult]:
        code = attribute.strip()
        if not code:
            raise ConfigurationError(
                "writing open amounts to Magento needs the customer attribute to hold them", field="balances.attribute"
            )
        return [self._push(balance, code) for balance in balances]

    def _push(self, balance: CustomerBalance, code: str) -> BalancePushResult:
        email = balance.email.strip()
        try:
            accounts = self._accounts(email)
            if not accounts:
                return BalancePushResult(balance.email, False, NO_ACCOUNT)
            for customer in accounts:
                self.magento.write(
                    "PUT", f"/customers/{customer['id']}", {"customer": with_attribute(customer, code, balance)}
                )
        except (ConfigurationError, RateLimited):
            raise
        except TransientConnectorError as exc:
            return BalancePushResult(balance.email, False, f"Magento could not be reached: {exc.message}", True)
        except (NotFound, PermanentConnectorError) as exc:
            return BalancePushResult(balance.email, False, exc.message)
        return BalancePushResult(balance.email, True)

    def _accounts(self, email: str) -> list[dict[str, Any]]:
        if not email:
            return []
        found = self.magento.search(
            "/customers/search", Search(groups=((("email", email, "eq"),),), page_size=ACCOUNTS_PER_EMAIL)
        )
        return [
            item
            for item in found.items
            if str(item.get("email") or "").casefold() == email.casefold() and item.get("id")
        ]


def with_attribute(customer: dict[str, Any], code: str, balance: CustomerBalance) -> dict[str, Any]:
    kept = [entry for entry in customer.get("custom_attributes") or () if entry.get("attribute_code") != code]
    value = f"{balance.open_amount.amount:.2f}"
    return customer | {"custom_attributes": [*kept, {"attribute_code": code, "value": value}]}
