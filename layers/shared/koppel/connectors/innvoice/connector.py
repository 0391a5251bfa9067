"""InnVoice as a backoffice: one connector, one module per capability.

Built from the public facts koppel keeps on InnVoice (`FACTS-systems-2.md` §1.3, §2.1), not from a
specification (InnVoice publishes none); what is not verified is listed in each module.

- `invoices.py`: `OrderSink` (webshop orders as invoices or proformas, stock by article number) and
  the list of invoice pads;
- `products.py`: `ProductSource` (the product list at a price group's prices);
- `stock.py`: `StockSource` (stock per warehouse);
- `client.py`: XML over HTTP with Basic auth, documents sent once, InnVoice's error shape in words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import settings_of, user_and_password
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.innvoice.client import InnVoiceClient
from koppel.connectors.innvoice.invoices import InnVoiceInvoices
from koppel.connectors.innvoice.settings import InnVoiceSettings
from koppel.connectors.innvoice.stock import InnVoiceStock
from koppel.errors import ConfigurationError


class InnVoiceConnector(InnVoiceStock, InnVoiceInvoices):
    """An InnVoice company: every protocol its declaration serves, each from its own module."""

    def __init__(
        self,
        client: httpx.Client,
        user: str,
        password: str,
        settings: InnVoiceSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.settings = settings
        self.today = today
        self.innvoice = InnVoiceClient(client, user, password, settings, policy=policy, clock=clock)


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    today: Callable[[], date] | None = None,
) -> InnVoiceConnector:
    """The connector for a configured InnVoice account; `credentials` is its Secrets Manager secret."""
    settings = settings_of(account, InnVoiceSettings, "an InnVoice")
    if not settings.reg_name:
        raise ConfigurationError(
            "InnVoice needs the account's reg_name: the company's registration name, the first part of its API paths",
            field="settings.reg_name",
        )
    user, password = user_and_password(credentials, "InnVoice credentials need the API user's user and password")
    return InnVoiceConnector(client, user, password, settings, policy=policy, clock=clock, today=today)
