"""A PrestaShop 8 shop's settings.

Order state ids are those of a fresh PrestaShop 8 install; the webservice pages do not list them, so
they are assumed (a shop may have renumbered or added states: check Orders > Statuses):
1 awaiting check payment, 2 payment accepted, 3 processing in progress, 4 shipped, 5 delivered,
6 canceled, 7 refunded, 8 payment error, 9 on backorder (paid), 10 awaiting bank wire payment,
11 remote payment accepted, 12 on backorder (not paid), 13 awaiting cash-on-delivery validation.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from koppel.config import Strict
from koppel.connectors.accounts import TimeZoneName

# Paid and on their way: payment accepted, processing, shipped, delivered, on backorder (paid),
# remote payment accepted. Awaiting a cheque, a bank wire or cash on delivery are not paid yet.
DEFAULT_IMPORT_STATES = (2, 3, 4, 5, 9, 11)
DEFAULT_CANCELLED_STATES = (6,)
DEFAULT_SHIPPED_STATES = (4, 5)


class PrestaShopSettings(Strict):
    base_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The shop's root, e.g. https://shop.example.nl (or .../prestashop); koppel adds /api",
    )
    shop_id: int = Field(default=1, ge=1, description="The shop (multistore) koppel reads and writes")
    id_lang: int = Field(default=1, ge=1, description="The language whose product name koppel writes")
    import_states: list[int] = Field(
        default_factory=lambda: list(DEFAULT_IMPORT_STATES),
        min_length=1,
        description="Order state ids (current_state) koppel imports",
    )
    cancelled_states: list[int] = Field(
        default_factory=lambda: list(DEFAULT_CANCELLED_STATES),
        description="Order state ids that arrive in koppel as a cancelled order",
    )
    shipped_states: list[int] = Field(
        default_factory=lambda: list(DEFAULT_SHIPPED_STATES),
        description="Order state ids that arrive in koppel as a shipped order (imported when also in import_states)",
    )
    vat_rate: Decimal = Field(
        default=Decimal(21),
        ge=0,
        le=100,
        description="VAT percentage to take off koppel's price when a product's tax rule cannot be read "
        "(PrestaShop keeps product prices without tax)",
    )
    tax_rules_group_id: int = Field(default=1, ge=0, description="Tax rules group of a product koppel creates")
    category_id: int = Field(default=2, ge=1, description="Default category of a product koppel creates (2: Home)")
    page_size: int = Field(default=50, ge=1, le=500, description="Orders per page of a read")
    overlap_seconds: int = Field(
        default=300,
        ge=0,
        le=7200,
        description="How far back a new poll reads before the last change seen, for orders saved late",
    )
    time_zone: TimeZoneName = Field(
        default="Europe/Amsterdam",
        description="The shop's time zone (International > Localization): PrestaShop stores date_upd in it",
    )
    put_via_post: bool = Field(
        default=False,
        description="Send updates as POST with ps_method=PUT, for hosts whose firewall refuses PUT",
    )
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="Currency when an order names none")
