"""A StoreKeeper account's settings, the names of the API credentials its `init` hook writes, and the
header its hooks carry their token in."""

from __future__ import annotations

from pydantic import Field

from koppel.config import Strict

# The keys of the account's secret that StoreKeeper's `init` hook fills (hooks.py) and the connector
# reads (connector.py): the API's address and the API-key auth block's parts.
API_URL = "api_url"
API_ACCOUNT = "api_account"
API_SUBACCOUNT = "api_subaccount"
API_USER = "api_user"
API_KEY = "api_key"
API_CREDENTIALS = (API_URL, API_ACCOUNT, API_SUBACCOUNT, API_USER, API_KEY)
# The header StoreKeeper's hooks carry the hook token in (the account's webhook_secret).
TOKEN_HEADER = "UpxHookToken"  # noqa: S105 - the header's name, not a token


class StoreKeeperSettings(Strict):
    shop_url: str = Field(
        default="",
        pattern=r"^(https?://[^\s/]+(/\S*)?)?$",
        description="The shop's address; a product's page is this plus its slug (empty: products carry no URL)",
    )
    product_path: str = Field(
        default="",
        pattern=r"^[\w/-]*$",
        max_length=60,
        description="The path between shop_url and a product's slug, e.g. `product` (empty: none)",
    )
    language: str = Field(
        default="",
        pattern=r"^([a-z]{2})?$",
        description="The language (ISO 639-1) product titles are read in; empty: the shop's main language",
    )
    publish_all: bool | None = Field(
        default=None,
        description="Every product is published on this sales channel; None: as StoreKeeper's shop setting "
        "says (getShopSettingsForHooks), false: only the shop products active on it",
    )
    page_size: int = Field(default=100, ge=1, le=250, description="Products per page of a read")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="The shop's currency")
    mark_paid: bool = Field(
        default=True,
        description="A channel's order is paid at the channel: book a payment of its total on the StoreKeeper order",
    )
    shipping_sku: str = Field(
        default="shipping", min_length=1, max_length=60, description="The SKU of an order's shipping line"
    )
