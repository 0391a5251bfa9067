"""Accounts and links: what a merchant configures.

An *account* is one configured external system; its credentials live in Secrets Manager and the
account only names the secret. A *link* joins a backoffice account to a channel account, with a
switch per flow and a test mode. Validation errors name the field and the reason.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from koppel.errors import ConfigurationError

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"
# Secrets Manager names/ARNs only: a value with spaces or quotes is someone pasting the secret itself.
SECRET_REF = r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$"  # noqa: S105 - a pattern, not a secret


def _number_as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A code another system numbers (a payment method "5"): `key=5` on the command line stays the text "5".
Code = Annotated[str, BeforeValidator(_number_as_text)]


class Strict(BaseModel):
    # Schemas are built on first use, not at import: cold starts stay short.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class GenericSettings(Strict):
    """The settings of a system that declares no model of its own: whatever the merchant sets."""

    base_url: str = ""
    model_config = ConfigDict(extra="allow", defer_build=True)


def _settings_model(system: str) -> type[BaseModel]:
    from koppel.connectors import registry

    return registry.spec(system).settings or GenericSettings


class Account(Strict):
    account_id: str = Field(pattern=SLUG)
    system: str = Field(description="The system's declared name (`koppel systems` lists them)")
    name: str = Field(default="", max_length=200)
    secret_ref: str = Field(pattern=SECRET_REF, description="Secrets Manager name or ARN of the credentials")
    settings: dict[str, Any] = Field(default_factory=dict, validate_default=True)  # required settings are required
    sandbox: bool = Field(default=False, description="Use the system's sandbox/demo environment")
    reference: str = Field(
        default="",
        pattern=r"^([a-z0-9][a-z0-9-]{0,39})?$",
        description="The name this account's orders go under in a backoffice's references (koppel:{reference}:"
        "{order id}); empty: its system's name. Two shops of one system on one backoffice each need their own",
    )

    @field_validator("system")
    @classmethod
    def _declared_system(cls, system: str) -> str:
        from koppel.connectors import registry

        try:
            registry.spec(system)
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc
        return system

    @field_validator("settings")
    @classmethod
    def _settings_fit_system(cls, settings: dict[str, Any], info: Any) -> dict[str, Any]:
        system = info.data.get("system")
        model = _settings_model(system) if system else GenericSettings
        try:
            return model.model_validate(settings).model_dump()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from exc

    def typed_settings(self) -> BaseModel:
        return _settings_model(self.system).model_validate(self.settings)


# --- links --------------------------------------------------------------------------------------
class Flow(StrEnum):
    ORDERS = "orders"
    TRACKING = "tracking"
    STOCK = "stock"
    PRODUCTS = "products"
    FEED = "feed"
    RETURNS = "returns"
    BALANCES = "balances"  # customers' open amounts from the backoffice onto the webshop's accounts


class Flows(Strict):
    """One switch per flow: a link can be paused part by part without deleting it.

    Orders, tracking, stock and returns are on by default where the link's two systems can run them:
    left unset (None), `koppel link put` settles each to true or false by what the systems declare, so
    a flow neither system can take part in is off and says so, never quietly idle. One asked for
    (true) that the systems cannot run is refused at put, and fails its run should a system change.
    """

    orders: bool | None = None
    tracking: bool | None = None
    stock: bool | None = None
    products: bool = False
    feed: bool = False
    returns: bool | None = None
    balances: bool = False

    def enabled(self, flow: Flow) -> bool:
        """On: asked for, or unset (a link saved without `link put`: run where it can)."""
        return self.model_dump()[flow.value] is not False

    def asked(self, flow: Flow) -> bool:
        """Switched on by the merchant (or settled on at `link put`): a run that cannot be done fails."""
        return self.model_dump()[flow.value] is True


class LinkMode(StrEnum):
    LIVE = "live"
    TEST = "test"  # read and map everything, write nothing to external systems; report what would happen


class OrderSettings(Strict):
    create_customers: bool = Field(
        default=True, description="Create the buyer as a backoffice customer when none has their e-mail"
    )
    default_vat_rate: Decimal = Field(
        default=Decimal(21), ge=0, le=100, description="VAT % for lines whose channel sends none (bol.com)"
    )
    auto_map_by_sku: bool = Field(default=True, description="Match channel SKU/EAN to backoffice SKU/barcode")
    auto_accept: bool = Field(
        default=True,
        description="Book orders as they arrive; off: each waits as 'awaiting acceptance' until a person accepts it "
        "(`koppel orders LINK accept ORDER`)",
    )
    tag: str = Field(default="koppel", max_length=40)
    alert_after_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        description="An order waiting (needs attention) longer than this raises the OrdersWaitingTooLong alarm",
    )
    concurrency: int = Field(default=8, ge=1, le=32, description="Orders imported side by side in one run")
    look_back_hours: int = Field(
        default=48,
        ge=0,
        le=24 * 90,
        description="A webshop polled for changed orders: how far back its first poll reads (later ones go on)",
    )
    payment_methods: dict[str, Code] = Field(
        default_factory=dict,
        description="The channel's payment method (a webshop's gateway, e.g. 'ideal') -> the backoffice's "
        "payment method (KORONA: its number)",
    )
    default_payment_method: Code = Field(
        default="", max_length=100, description="The backoffice payment method for a gateway payment_methods lacks"
    )
    point_of_sale: str = Field(
        default="",
        max_length=100,
        description="Where the backoffice books the orders (KORONA: a point of sale's uuid); empty: the account's own",
    )


class TrackingSettings(Strict):
    wait_for_tracking_hours: float = Field(default=3, ge=0, le=72)


class StockSettings(Strict):
    basis: Literal["technical", "free"] = "free"
    warehouses: list[str] = Field(default_factory=list, description="Empty: sum all")
    buffer: int = Field(default=0, ge=0)
    poll_changes: bool = Field(
        default=True,
        description="Read the backoffice's stock change feed every minute (backoffices that send no webhooks, "
        "e.g. KORONA); off: their stock reaches the channel with the 20-minute reconciliation only",
    )


class FeedSettings(Strict):
    format: Literal["csv", "xml", "json"] = Field(
        default="csv", description="csv: product + stock feed; xml: Google Merchant RSS 2.0; json: stock only"
    )
    gzip: bool = False
    include_out_of_stock: bool = True
    title: str = Field(default="", max_length=150, description="XML feed: the channel's title")
    product_url: str = Field(
        default="", pattern=r"^(https?://.*\{sku\}.*)?$", description="XML feed: landing page, with {sku} in it"
    )
    brand: str = Field(default="", max_length=70, description="XML feed: brand for every product")

    @model_validator(mode="after")
    def _xml_needs_landing_pages(self) -> FeedSettings:
        # Merchant refuses an item without a landing page: an XML feed without one would be empty.
        if self.format == "xml" and not self.product_url:
            raise ValueError("an xml feed needs product_url, the landing page with {sku} in it")
        return self


class ProductSettings(Strict):
    price_list: str = Field(default="", description="The backoffice's price list for this channel; empty: its price")
    publish_all_by_default: bool = True
    published_groups: list[str] = Field(
        default_factory=list, description="With publish_all_by_default off: the product groups that are published"
    )
    excluded_groups: list[str] = Field(default_factory=list)
    create_missing: bool = Field(
        default=False,
        description="Create a backoffice product the channel does not have yet (webshops); off: matched by SKU only",
    )
    attributes: dict[str, Code] = Field(
        default_factory=dict,
        description="The backoffice's product field -> the channel's attribute code it is written to "
        "(e.g. a SnelStart extra field onto a Magento attribute)",
    )


class BalanceSettings(Strict):
    attribute: Code = Field(
        default="",
        max_length=60,
        description="The webshop's customer attribute that holds the open amount (the balances flow writes it)",
    )


def _schedules(value: dict[Flow, str]) -> dict[Flow, str]:
    from koppel import schedules

    for flow, text in value.items():
        try:
            schedules.parse(text)
        except schedules.ScheduleError as exc:
            raise ValueError(f"{flow.value}: {exc}") from exc
    return value


class Link(Strict):
    link_id: str = Field(pattern=SLUG)
    backoffice: str = Field(pattern=SLUG, description="account_id of the backoffice")
    channel: str = Field(pattern=SLUG, description="account_id of the sales channel")
    flows: Flows = Field(default_factory=Flows)
    mode: LinkMode = LinkMode.LIVE
    orders: OrderSettings = Field(default_factory=OrderSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    stock: StockSettings = Field(default_factory=StockSettings)
    feed: FeedSettings = Field(default_factory=FeedSettings)
    products: ProductSettings = Field(default_factory=ProductSettings)
    balances: BalanceSettings = Field(default_factory=BalanceSettings)
    backoffice_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings of the backoffice account this link sets its own way (InnVoice: document, draft, "
        "email_buyer, pad_id for this webshop); checked as the account's settings",
    )
    channel_settings: dict[str, Any] = Field(
        default_factory=dict, description="Settings of the channel account this link sets its own way"
    )
    schedule: Annotated[dict[Flow, str], AfterValidator(_schedules)] = Field(
        default_factory=dict,
        description="How often each flow runs for this link: rate(15 minutes), cron(0 6,18 * * ? *) (UTC); "
        "a flow not named runs every time its function fires",
    )

    @field_validator("channel")
    @classmethod
    def _not_itself(cls, channel: str, info: Any) -> str:
        if channel == info.data.get("backoffice"):
            raise ValueError("a link joins two different accounts")
        return channel

    @property
    def dry_run(self) -> bool:
        return self.mode is LinkMode.TEST


def check_roles(link: Link, backoffice: Account, channel: Account) -> None:
    """A link's accounts must exist and be able to play their part (as their systems declare), and the
    settings the link sets its own way must be settings of theirs."""
    from koppel.connectors import registry
    from koppel.connectors.declaration import Role

    if not registry.spec(backoffice.system).plays(Role.BACKOFFICE):
        raise ConfigurationError(f"{backoffice.system} cannot act as a backoffice", field="backoffice")
    if not registry.spec(channel.system).plays(Role.CHANNEL):
        raise ConfigurationError(f"{channel.system} cannot act as a sales channel", field="channel")
    linked(link, backoffice)
    linked(link, channel)
    _feed_has_products(link, backoffice)


def _feed_has_products(link: Link, backoffice: Account) -> None:
    """A CSV or XML feed needs titles and prices: from a backoffice koppel cannot read products from,
    every row would be empty but for SKU and quantity, and a marketplace drops such items."""
    from koppel.connectors import registry
    from koppel.connectors.declaration import Capability

    if not link.flows.feed or link.feed.format == "json":
        return
    if not registry.serves(backoffice.system, Capability.PRODUCT_SOURCE):
        raise ConfigurationError(
            f"feed.format: koppel reads no products from {backoffice.system}, so a {link.feed.format} feed would have "
            "no titles or prices; set feed.format=json for a feed of SKUs and quantities",
            field="feed.format",
        )


def linked(link: Link, account: Account) -> Account:
    """The account as this link uses it: its settings with the link's own (`backoffice_settings` or
    `channel_settings`) over them, validated as the account's settings are."""
    role = "backoffice" if account.account_id == link.backoffice else "channel"
    overrides = link.backoffice_settings if role == "backoffice" else link.channel_settings
    if not overrides:
        return account
    try:
        return Account.model_validate(account.model_dump() | {"settings": account.settings | overrides})
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].replace("Value error, ", "").lstrip(": ")
        raise ConfigurationError(
            f"{role}_settings: {reason} (as settings of {account.system} account {account.account_id})",
            field=f"{role}_settings",
        ) from exc


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: object) -> M:
    """Validate `data` as `model`; a failure names the first bad field and why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise ConfigurationError(f"{field}: {first['msg']}", field=field) from exc
