"""A KORONA.cloud account's settings."""

from __future__ import annotations

from pydantic import Field

from koppel.config import Code, Strict

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class KoronaSettings(Strict):
    account_id: str = Field(
        default="",
        pattern=rf"^({UUID})?$",
        description="KORONA's account id (a uuid, in every API path); empty: no API access, stock by webhook only",
    )
    # The spec's servers name a local test server; the cloud serves the same paths at this host.
    base_url: str = Field(default="https://www.koronacloud.com/web/api/v3", pattern=r"^https?://\S+/web/api/v3/?$")
    organizational_units: list[str] = Field(
        default_factory=list,
        description="Organizational units (ids) whose warehouse stock koppel reads; empty: every one with a warehouse",
    )
    price_group: str = Field(
        default="Shopify",
        max_length=100,
        description="Price group (id, number or name) of the articles' price; a link's price_list overrides it; "
        "empty: articles without prices",
    )
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the account's prices")
    point_of_sale: str = Field(
        default="",
        pattern=rf"^({UUID})?$",
        description="The external point of sale (uuid) webshop orders are booked at as receipts; a link's "
        "orders.point_of_sale overrides it. Its coupling id goes in the account's secret (coupling_id)",
    )
    payment_method: Code = Field(
        default="",
        max_length=100,
        description="Payment method (number) of a receipt when the link maps none for the webshop's gateway",
    )
    shipping_article: Code = Field(
        default="",
        max_length=100,
        description="Article number shipping costs are booked as (one receipt line); needed for orders with shipping",
    )
