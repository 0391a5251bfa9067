"""The Shopify connector as koppel's order flow uses it, against the simulated store."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest

from koppel.config import Account
from koppel.connectors import registry
from koppel.connectors.base import OrderSink, Variant
from koppel.connectors.bol.connector import BolConnector
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.shopify import SYSTEM
from koppel.connectors.shopify.client import ShopifyUserError
from koppel.connectors.shopify.connector import ShopifyConnector, from_account
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.errors import AuthenticationFailed, ConfigurationError, NeedsAttention, TransientConnectorError
from koppel.models import Money, Order, OrderLine
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, SimItem
from koppel_local.simulators.shopify import ShopifySimulator

if TYPE_CHECKING:  # the fixtures' types; pytest provides conftest itself, it is not a package
    from helpers import FakeTime

needs_schema = pytest.mark.skipif(
    reference_file("shopify", "admin_2025-04.schema.graphql") is None, reason=MISSING_REASON
)


def test_the_connector_is_an_order_sink(connector: ShopifyConnector) -> None:
    assert isinstance(connector, OrderSink)


# --- create_order -------------------------------------------------------------------------------
def test_created_order_is_an_open_paid_order_with_the_channel_lines(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN a bol.com order whose lines are mapped to Shopify variants
    order = make_order("123")

    # WHEN koppel creates it in Shopify
    created = connector.create_order(order, tag="koppel")

    # THEN the merchant sees one new order, paid and not shipped, with the same lines and prices
    assert created.name == "#1001"
    [shopify_order] = simulator.orders
    assert shopify_order["id"] == created.backoffice_order_id
    assert shopify_order["fulfillmentStatus"] == "UNFULFILLED"
    assert shopify_order["financialStatus"] == "PAID"
    assert shopify_order["taxesIncluded"] is True
    assert [(line["sku"], line["quantity"], line["price"]) for line in shopify_order["lines"]] == [
        ("TSHIRT-RED-M", 2, Decimal("19.95")),
        ("MUG-BLUE", 1, Decimal("8.10")),
    ]
    assert shopify_order["shippingLines"][0]["price"] == Decimal("4.95")
    assert shopify_order["total"] == Decimal("52.95")
    assert shopify_order["processedAt"] == "2025-05-01T09:30:00+00:00"


def test_vat_is_carried_as_an_included_tax_line_in_exact_cents(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN 2 x 19.95 at 21% VAT (VAT included) and a line without a VAT rate
    connector.create_order(make_order("123"), tag="koppel")

    # THEN the VAT inside 39.90 is 6.92, and the line without a rate has no tax line
    tshirt, mug = simulator.orders[0]["lines"]
    assert tshirt["taxLines"] == [{"title": "VAT 21%", "rate": Decimal("0.21"), "amount": Decimal("6.92")}]
    assert mug["taxLines"] == []


# --- discounts ----------------------------------------------------------------------------------
def discounted(make_order: Callable[..., Order], variant_id: Callable[[str], str], *lines: OrderLine) -> Order:
    """A channel order of just these lines, without shipping, mapped to the shop's variants."""
    mapped = tuple(line.model_copy(update={"backoffice_variant_id": variant_id(line.channel_sku)}) for line in lines)
    return make_order("123", lines=mapped, shipping_cost=None)


def tshirts(quantity: int, unit_price: str, discount: str | None = None) -> OrderLine:
    return OrderLine(
        line_id="L1",
        channel_sku="TSHIRT-RED-M",
        quantity=quantity,
        unit_price=Money(amount=Decimal(unit_price)),
        vat_rate=Decimal("21"),
        discount=Money(amount=Decimal(discount)) if discount else None,
    )


def sale_amount(shopify_order: dict) -> Decimal:
    [transaction] = shopify_order["transactions"]
    return Decimal(str(transaction["amountSet"]["shopMoney"]["amount"]))


def test_a_discounted_line_makes_a_shopify_order_at_what_the_buyer_paid(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    make_order: Callable[..., Order],
    variant_id: Callable[[str], str],
) -> None:
    # GIVEN a marketplace order of 2 x 14.95 with 2.00 off the line
    order = discounted(make_order, variant_id, tshirts(2, "14.95", discount="2.00"))

    # WHEN koppel creates it in Shopify
    connector.create_order(order, tag="koppel")

    # THEN the merchant sees the list price, the 2.00 discount and a total of 27.90, paid in full
    [shopify_order] = simulator.orders
    [line] = shopify_order["lines"]
    assert (line["quantity"], line["price"]) == (2, Decimal("14.95"))
    assert shopify_order["discountCode"] == {
        "code": "bol discount",
        "kind": "itemFixedDiscountCode",
        "amount": Decimal("2.00"),
    }
    assert shopify_order["total"] == Decimal("27.90")
    assert sale_amount(shopify_order) == Decimal("27.90")
    # and the VAT is the VAT inside 27.90 (4.84), not inside the undiscounted 29.90 (5.19)
    assert line["taxLines"] == [{"title": "VAT 21%", "rate": Decimal("0.21"), "amount": Decimal("4.84")}]


def test_discounts_on_several_lines_become_one_discount_on_the_order(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    make_order: Callable[..., Order],
    variant_id: Callable[[str], str],
) -> None:
    # GIVEN 2.00 off the T-shirts and 0.60 off the mug, plus 4.95 shipping (Shopify takes one code per order)
    mug = OrderLine(
        line_id="L2",
        channel_sku="MUG-BLUE",
        quantity=1,
        unit_price=Money(amount=Decimal("8.10")),
        discount=Money(amount=Decimal("0.60")),
    )
    order = discounted(make_order, variant_id, tshirts(2, "19.95", discount="2.00"), mug)
    order = order.model_copy(update={"shipping_cost": Money(amount=Decimal("4.95"))})

    connector.create_order(order, tag="koppel")

    # THEN 39.90 + 8.10 + 4.95 - 2.60 = 50.35, what the buyer paid
    [shopify_order] = simulator.orders
    assert shopify_order["discountCode"]["amount"] == Decimal("2.60")
    assert shopify_order["total"] == Decimal("50.35") == order.total.amount
    assert sale_amount(shopify_order) == Decimal("50.35")


def test_an_order_without_discounts_has_no_discount_code(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    connector.create_order(make_order("123"), tag="koppel")

    [shopify_order] = simulator.orders
    assert shopify_order["discountCode"] is None
    assert shopify_order["totalDiscounts"] == Decimal(0)
    assert shopify_order["total"] == Decimal("52.95")
    assert sale_amount(shopify_order) == Decimal("52.95")


@needs_schema
def test_a_discounted_bol_order_arrives_in_shopify_at_what_the_buyer_paid(
    connector: ShopifyConnector, simulator: ShopifySimulator, variant_id: Callable[[str], str]
) -> None:
    # GIVEN a bol.com order of 2 x 14.95 with a 2.00 promotion
    bol = BolSimulator()
    bol.add_order(
        "1200000001",
        [
            SimItem(
                ean="8712345678906",
                title="T-shirt red M",
                unit_price="14.95",
                quantity=2,
                offer_reference="TSHIRT-RED-M",
                discounts=(("Zomeractie", "2.00"),),
            )
        ],
    )
    settings = BolSettings(base_url="https://api.bol.test", token_url="https://login.bol.test/token")
    with httpx.Client(transport=httpx.WSGITransport(app=bol)) as client:
        order = BolConnector(client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings).get_order("1200000001")

    # WHEN koppel maps its line (as the import flow does) and creates it in Shopify
    lines = tuple(
        line.model_copy(update={"backoffice_variant_id": variant_id(line.channel_sku), "vat_rate": Decimal("21")})
        for line in order.lines
    )
    connector.create_order(order.model_copy(update={"lines": lines}), tag="koppel")

    # THEN the Shopify order's total is 27.90, to the cent, and neither side saw a malformed message
    [shopify_order] = simulator.orders
    assert shopify_order["total"] == Decimal("27.90")
    assert sale_amount(shopify_order) == Decimal("27.90")
    assert shopify_order["discountCode"]["amount"] == Decimal("2.00")
    assert simulator.violations == []
    assert (bol.violations, bol.response_violations) == ([], [])


def test_addresses_and_channel_reference_are_visible_on_the_order(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    connector.create_order(make_order("123"), tag="koppel")

    [shopify_order] = simulator.orders
    assert shopify_order["shippingAddress"] == {
        "firstName": "Jan",
        "lastName": "Jansen",
        "address1": "Dorpsweg 7 A",
        "zip": "1234 AB",
        "city": "Utrecht",
        "countryCode": "NL",
        "phone": "0612345678",
    }
    assert shopify_order["billingAddress"]["address1"] == "Kerkstraat 12 A"
    assert shopify_order["sourceName"] == "bol"
    assert shopify_order["sourceIdentifier"] == "123"
    assert shopify_order["tags"] == ["koppel", "bol-123"]
    assert shopify_order["note"] == "bol order 123"
    assert shopify_order["customAttributes"] == {"channel": "bol", "channel_order_id": "123"}


def test_stock_is_claimed_for_what_the_marketplace_sold(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN 10 red T-shirts and 3 mugs in stock
    # WHEN an order for 2 T-shirts and 1 mug is created
    connector.create_order(make_order("123"), tag="koppel")

    # THEN the order took its units out of stock
    assert simulator.inventory("TSHIRT-RED-M") == 8
    assert simulator.inventory("MUG-BLUE") == 2


def test_first_order_creates_the_customer_and_the_second_matches_by_email(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN a shop without this buyer
    assert simulator.customers == []

    # WHEN the buyer orders twice (the second time with different capitals in the e-mail)
    connector.create_order(make_order("123", email="jan@example.nl"), tag="koppel")
    connector.create_order(make_order("124", email="Jan@Example.NL"), tag="koppel")

    # THEN there is one customer, tagged by koppel, and both orders belong to it
    [customer] = simulator.customers
    assert customer["email"] == "jan@example.nl"
    assert customer["tags"] == ["koppel"]
    assert [order["customer"]["id"] for order in simulator.orders] == [customer["id"], customer["id"]]


def test_existing_shop_customer_is_used_not_copied(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    existing = simulator.add_customer("jan@example.nl", "Jan", "Jansen")
    simulator.add_customer("jan@example.nl.invalid", "Other", "Jan")

    connector.create_order(make_order("123"), tag="koppel")

    assert len(simulator.customers) == 2
    assert simulator.orders[0]["customer"]["id"] == existing["id"]


def test_lost_answer_to_customer_create_does_not_make_a_second_customer(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN Shopify creates the customer but the answer is lost
    simulator.fail_next(1, status=504, after_execution=True, operation="customerCreate")

    connector.create_order(make_order("123"), tag="koppel")

    [customer] = simulator.customers
    assert simulator.orders[0]["customer"] is customer


def test_customer_not_yet_searchable_is_still_matched_by_email(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN the buyer became a customer a moment ago and Shopify's search does not show them yet
    simulator.search_lag = 5
    existing = simulator.add_customer("jan@example.nl")

    # WHEN koppel creates the order (search misses, customerCreate says the e-mail is taken)
    connector.create_order(make_order("123"), tag="koppel")

    # THEN orderCreate matched the customer by e-mail: still one customer, and it owns the order
    assert simulator.customers == [existing]
    assert simulator.orders[0]["customer"] is existing


def test_order_without_an_email_is_a_guest_order(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    connector.create_order(make_order("123", email=""), tag="koppel")

    assert simulator.customers == []
    assert simulator.orders[0]["customer"] is None


def test_refused_order_raises_with_shopifys_messages(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN a line mapped to a variant that was deleted in Shopify
    order = make_order("123")
    stale = order.lines[0].model_copy(update={"backoffice_variant_id": "gid://shopify/ProductVariant/999999"})
    order = order.model_copy(update={"lines": (stale,)})

    # WHEN koppel creates it THEN it fails permanently, saying why, and no order exists
    with pytest.raises(ShopifyUserError) as refused:
        connector.create_order(order, tag="koppel")
    assert refused.value.messages == ("Product variant does not exist",)
    assert refused.value.fields == (("order", "lineItems", "0", "variantId"),)
    assert refused.value.retryable is False
    assert simulator.orders == []


def test_unmapped_line_waits_for_a_person_without_calling_shopify(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    order = make_order("123")
    unmapped = OrderLine(line_id="L9", channel_sku="UNKNOWN-1", quantity=1, unit_price=order.lines[0].unit_price)
    order = order.model_copy(update={"lines": (*order.lines, unmapped)})

    with pytest.raises(NeedsAttention) as waiting:
        connector.create_order(order, tag="koppel")

    assert waiting.value.context["skus"] == ("UNKNOWN-1",)
    assert simulator.calls == []


def test_lost_answer_to_order_create_returns_the_order_instead_of_a_duplicate(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN Shopify creates the order but the answer is lost (a gateway timeout)
    simulator.fail_next(1, status=504, after_execution=True, operation="orderCreate")

    # WHEN koppel creates it
    created = connector.create_order(make_order("123"), tag="koppel")

    # THEN it was sent once, and koppel recognises the order it made
    sent = [call["operation"] for call in simulator.calls]
    assert sent.count("KoppelCreateOrder") == 1
    [shopify_order] = simulator.orders
    assert created.backoffice_order_id == shopify_order["id"]


def test_outage_during_order_create_is_retryable_and_never_duplicates(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN Shopify answers orderCreate with 503
    simulator.fail_next(1, status=503, operation="orderCreate")

    # WHEN koppel creates the order
    with pytest.raises(TransientConnectorError) as outage:
        connector.create_order(make_order("123"), tag="koppel")

    # THEN it is not re-sent blindly: nothing exists, and the failure invites a later run
    assert outage.value.retryable is True
    assert simulator.orders == []

    # AND the next run creates exactly one order
    connector.create_order(make_order("123"), tag="koppel")
    assert len(simulator.orders) == 1


def test_lost_answer_while_search_lags_is_left_to_the_next_run(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    make_order: Callable[..., Order],
    fake_time: FakeTime,
) -> None:
    # GIVEN Shopify creates the order, the answer is lost, and search trails by 5 seconds
    simulator.search_lag = 5
    simulator.fail_next(1, status=504, after_execution=True, operation="orderCreate")

    # WHEN koppel creates it THEN it cannot tell yet, so it neither resends nor claims success
    with pytest.raises(TransientConnectorError):
        connector.create_order(make_order("123"), tag="koppel")
    assert len(simulator.orders) == 1

    # AND the next run, looking first, finds the order that was made
    fake_time.sleep(5)
    found = connector.find_order("bol", "123")
    assert found is not None
    assert found.backoffice_order_id == simulator.orders[0]["id"]


def test_throttled_order_create_is_asked_again(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN Shopify answers orderCreate with HTTP 429: refused before it ran
    simulator.fail_next(1, status=429, operation="orderCreate")

    connector.create_order(make_order("123"), tag="koppel")

    assert len(simulator.orders) == 1


# --- find_order ---------------------------------------------------------------------------------
def test_find_order_finds_the_order_created_for_a_channel_reference(
    connector: ShopifyConnector, make_order: Callable[..., Order]
) -> None:
    created = connector.create_order(make_order("123"), tag="koppel")

    assert connector.find_order("bol", "123") == created


@pytest.mark.parametrize(
    ("channel", "channel_order_id"),
    [
        pytest.param("bol", "12", id="shorter id"),
        pytest.param("bol", "1234", id="longer id"),
        pytest.param("bol", "123-A", id="id with a suffix"),
        pytest.param("amazon", "123", id="same id, other channel"),
    ],
)
def test_find_order_ignores_near_misses(
    connector: ShopifyConnector, make_order: Callable[..., Order], channel: str, channel_order_id: str
) -> None:
    # GIVEN Shopify holds bol order 123 (and the store's search matches words, not whole values)
    connector.create_order(make_order("123"), tag="koppel")

    # WHEN koppel looks for a different reference THEN it finds nothing
    assert connector.find_order(channel, channel_order_id) is None


def test_find_order_does_not_take_a_longer_reference_for_the_short_one(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN only bol order "123-A" exists: Shopify's search for tag bol-123 does return it
    connector.create_order(make_order("123-A"), tag="koppel")

    # WHEN koppel recovers bol order 123 THEN it must not claim 123-A as its own
    assert connector.find_order("bol", "123") is None


def test_find_order_in_an_empty_shop_is_none(connector: ShopifyConnector) -> None:
    assert connector.find_order("bol", "123") is None


# --- find_variant -------------------------------------------------------------------------------
def test_find_variant_by_sku(connector: ShopifyConnector, variant_id: Callable[[str], str]) -> None:
    assert connector.find_variant("MUG-BLUE") == Variant(
        variant_id=variant_id("MUG-BLUE"), sku="MUG-BLUE", barcode="8712345678913"
    )


def test_find_variant_falls_back_to_the_barcode(connector: ShopifyConnector, variant_id: Callable[[str], str]) -> None:
    # GIVEN the channel's SKU is unknown in Shopify but its EAN is a variant's barcode
    found = connector.find_variant("BOL-OFFER-77", ean="8712345678906")

    assert found == Variant(variant_id=variant_id("TSHIRT-RED-M"), sku="TSHIRT-RED-M", barcode="8712345678906")


def test_find_variant_needs_the_whole_sku(connector: ShopifyConnector) -> None:
    # "TSHIRT-RED" is a word-prefix of "TSHIRT-RED-M": the search returns it, the connector does not
    assert connector.find_variant("TSHIRT-RED") is None
    assert connector.find_variant("NOPE", ean="0000000000000") is None


def test_two_variants_with_one_sku_need_a_person(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    simulator.add_variant("MUG-BLUE", title="Mug blue (copy)")

    with pytest.raises(NeedsAttention):
        connector.find_variant("MUG-BLUE")


# --- rate limits and outages -----------------------------------------------------------------------
def test_throttled_answer_makes_the_connector_wait_then_succeed(
    connector: ShopifyConnector, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN the store's cost bucket is almost empty
    simulator.set_available(5)

    # WHEN koppel looks up a variant
    found = connector.find_variant("MUG-BLUE")

    # THEN Shopify throttled once, koppel waited (requested - available) / restore rate, and got it
    assert found is not None
    assert simulator.throttled == 1
    assert connector.throttled == 1
    requested = simulator.last_cost["requestedQueryCost"]
    assert fake_time.sleeps == [pytest.approx((requested - 5) / 100)]


def test_connector_waits_before_a_query_the_bucket_cannot_pay(
    connector: ShopifyConnector, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN the last answer showed a bucket holding less than the next query will request
    requested = 26  # orders(first: 25) { nodes {...} } in the simulator's cost model
    simulator.set_available(requested)
    connector.find_order("bol", "1")
    available = simulator.last_cost["throttleStatus"]["currentlyAvailable"]
    assert available < requested

    # WHEN koppel asks again
    connector.find_order("bol", "2")

    # THEN it waited just long enough up front and was never throttled
    assert fake_time.sleeps == [pytest.approx((requested - available) / 100)]
    assert simulator.throttled == 0


def test_server_errors_are_retried(
    connector: ShopifyConnector, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    simulator.fail_next(2, status=500)

    assert connector.find_variant("MUG-BLUE") is not None
    assert len(fake_time.sleeps) == 2  # HttpApi's backoff, on the fake clock


def test_wrong_token_is_an_authentication_failure(http_client: httpx.Client, fake_time: FakeTime) -> None:
    settings = ShopifySettings(shop_domain="koppel-demo.myshopify.com")
    connector = ShopifyConnector(http_client, "shpat_wrong", settings, clock=fake_time.clock())

    with pytest.raises(AuthenticationFailed):
        connector.find_variant("MUG-BLUE")


@needs_schema
def test_every_document_the_connector_sends_fits_the_2025_04_schema(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    connector.create_order(make_order("123"), tag="koppel")
    connector.create_order(make_order("124"), tag="koppel")
    connector.find_order("bol", "123")
    connector.find_variant("NOPE", ean="8712345678906")

    assert simulator.validating is True
    assert simulator.violations == []
    assert {call["operation"] for call in simulator.calls} == {
        "KoppelFindCustomers",
        "KoppelCreateCustomer",
        "KoppelCreateOrder",
        "KoppelFindOrders",
        "KoppelFindVariants",
    }


# --- from_account -------------------------------------------------------------------------------
def recording_client(seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"productVariants": {"nodes": []}}})

    return httpx.Client(transport=httpx.MockTransport(handler))


def shop_account(**settings: str) -> Account:
    return Account(
        account_id="demo-shop",
        system="shopify",
        secret_ref="koppel/demo-shop",
        settings={"shop_domain": "demo-shop.myshopify.com", **settings},
    )


def test_from_account_talks_to_the_shops_graphql_endpoint_with_its_token() -> None:
    seen: list[httpx.Request] = []
    account = shop_account()

    from_account(account, {"access_token": "shpat_abc"}, recording_client(seen)).find_variant("X")

    [request] = seen
    assert str(request.url) == "https://demo-shop.myshopify.com/admin/api/2025-04/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_abc"
    assert json.loads(request.content)["operationName"] == "KoppelFindVariants"


def test_the_registry_builds_one_connector_serving_every_capability_shopify_declares() -> None:
    account = shop_account()

    built = registry.connector(account, {"access_token": "shpat_abc"}, recording_client([]))

    assert isinstance(built, ShopifyConnector)
    assert {
        capability for capability in SYSTEM.serves if isinstance(built, registry.protocol(capability))
    } == SYSTEM.serves


def test_from_account_honours_a_base_url_override() -> None:
    seen: list[httpx.Request] = []
    account = shop_account(base_url="http://127.0.0.1:8001/", api_version="2025-07")

    from_account(account, {"access_token": "shpat_abc"}, recording_client(seen)).find_variant("X")

    assert str(seen[0].url) == "http://127.0.0.1:8001/admin/api/2025-07/graphql.json"


def test_from_account_without_a_token_is_a_configuration_error() -> None:
    account = shop_account()

    with pytest.raises(ConfigurationError) as invalid:
        from_account(account, {}, httpx.Client())
    assert invalid.value.field == "access_token"
