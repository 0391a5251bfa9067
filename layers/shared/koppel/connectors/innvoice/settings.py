"""An InnVoice company's settings. A link may set any of them for its own webshop
(`backoffice_settings` of the link: the document, draft, e-mail, pad, stock by article number), so
one InnVoice account serves several webshops, each its own way."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from koppel.config import Code, Strict

DEFAULT_VAT_KEYS = {"27": "27%", "18": "18%", "5": "5%", "0": "0% - AAM"}


class InnVoiceSettings(Strict):
    reg_name: str = Field(
        default="",
        pattern=r"^[^/\s?#]*$",
        max_length=100,
        description="The company's registration name in InnVoice, the first part of every API path",
    )
    base_url: str = Field(default="https://api.innvoice.hu", pattern=r"^https?://\S+$")
    document: Literal["invoice", "proforma"] = Field(
        default="invoice", description="What a webshop order becomes: an invoice (számla) or a proforma (díjbekérő)"
    )
    draft: bool = Field(
        default=False, description="Book documents as drafts (félretett) the merchant can still change in InnVoice"
    )
    email_buyer: bool = Field(default=False, description="InnVoice e-mails the document to the buyer (never a draft)")
    pad_id: Code = Field(
        default="",
        pattern=r"^\d*$",
        description="The invoice pad (számlatömb, its TABLE_ID) documents are made in; `koppel` lists the pads",
    )
    price_group: int = Field(
        default=1, ge=1, description="The price group (1: the first) a product's price is read from"
    )
    promo_price_group: int = Field(
        default=0,
        ge=0,
        description="Akciós árcsoport: the price group (1: the first) a product's promo price is read from, sent "
        "to the webshop as its sale price when lower than the price; 0: none",
    )
    group_field: str = Field(
        default="TermekCsoport",
        min_length=1,
        max_length=60,
        description="The product list's field holding a product's group (unverified: no source names it), for a "
        "link's products.excluded_groups",
    )
    net_price_vat: Decimal = Field(
        default=Decimal(27),
        ge=0,
        le=100,
        description="VAT rate (percent) a net price group's prices are raised by: the product list names none",
    )
    payment_methods: dict[str, str] = Field(
        default_factory=dict,
        description="A webshop's payment gateway -> InnVoice's payment method text (FizetesiMod); a link's "
        "payment methods win",
    )
    default_payment_method: str = Field(
        default="átutalás", max_length=100, description="FizetesiMod when neither the link nor the mapping names one"
    )
    paid_methods: list[str] = Field(
        default_factory=lambda: ["bankkártya"],
        description="Payment methods (FizetesiMod) whose orders are paid at checkout: their documents are "
        "marked paid (Fizetve)",
    )
    currency: str = Field(default="HUF", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the company's prices")
    vat_keys: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_VAT_KEYS),
        description="koppel's VAT rate (percent) -> InnVoice's VAT key (AfaSzoveg)",
    )
    line_format: Literal["suffixed", "nested"] = Field(
        default="suffixed",
        description="How lines are written: numbered fields (TetelNev1..N) or one <tetel> block each",
    )
    e_invoice: bool = Field(default=True, description="Eszamla: an electronic document (not paper)")
    due_days: int = Field(default=8, ge=0, le=365, description="Days from the order to the payment deadline")
    unit: str = Field(default="db", max_length=20, description="The unit of quantity on every line")
    shipping_text: str = Field(default="Szállítás", max_length=200, description="The shipping line's name")
    stock_by_article_number: bool = Field(
        default=True,
        description="Cikkszám alapján készletkezelés: a line whose SKU InnVoice knows carries its article number, so "
        "InnVoice takes the units out of stock; off, every line is text and no stock moves",
    )
    unknown_skus: Literal["text", "wait"] = Field(
        default="text",
        description="A line whose SKU InnVoice does not know: invoiced as text without stock (as InnVoice's "
        "own webshop connectors do), or the order waits for a person",
    )

    @model_validator(mode="after")
    def _email_never_for_a_draft(self) -> InnVoiceSettings:
        if self.draft and self.email_buyer:
            raise ValueError(
                "email_buyer cannot be on with draft: InnVoice sends no draft (félretett) document; turn one off"
            )
        for rate, key in self.vat_keys.items():
            try:
                Decimal(rate)
            except ArithmeticError as exc:
                raise ValueError(f"vat_keys: {rate!r} is not a VAT rate in percent") from exc
            if not key.strip():
                raise ValueError(f"vat_keys: the rate {rate} has no InnVoice VAT key")
        return self

    def vat_key(self, rate: Decimal) -> str | None:
        """The VAT key of a rate (27 or 27.00 alike); None when the settings name none."""
        for given, key in self.vat_keys.items():
            if Decimal(given) == rate:
                return key
        return None
