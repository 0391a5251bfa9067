"""The bol.com connector against the simulator: what koppel sees of a retailer's bol orders."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from koppel.config import Account
from koppel.connectors.base import ChannelCancellations, OrderSource, Parcel, ShipmentChannel
from koppel.connectors.bol.connector import BolConnector, from_account
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    PermanentConnectorError,
    RateLimited,
    TransientConnectorError,
)
from koppel.models import Money, Order, OrderStatus
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem

needs_spec = pytest.mark.skipif(reference_file("bol", "retailer.json") is None, reason=MISSING_REASON)

COFFEE = SimItem(ean="8719000000003", title="Koffiebonen Arabica, 1 kg", unit_price="14.95", offer_reference="KOF-1")
LAMP = SimItem(ean="8719000000027", title="Fietslamp LED", unit_price="24.99")  # no offer reference


def all_open_order_ids(connector: BolConnector) -> list[str]:
    ids: list[str] = []
    page: int | None = 1
    while page is not None:
        result = connector.list_open_orders(page)
        ids.extend(result.order_ids)
        page = result.next_page
    return ids


def ship(connector: BolConnector, order: Order, code: str = "3SKOPL000123456", carrier: str | None = "postnl") -> None:
    """Ship every line still open, with a tracking code, and wait for bol to settle it."""
    connector.follow(connector.ship(order, Parcel(line_ids=(), tracking_codes=(code,) if code else ()), carrier))


# --- open orders --------------------------------------------------------------------------------
def test_open_orders_come_in_pages_of_50_until_a_short_page(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN 120 open orders at bol
    placed = sim.add_dutch_orders(120)

    # WHEN koppel pages through the open orders
    found = all_open_order_ids(connector)

    # THEN it reads pages 1, 2 and 3 (50, 50, 20 orders) and stops there
    assert found == placed
    assert [call.query["page"] for call in sim.calls("orders")] == ["1", "2", "3"]
    assert all(
        call.query["status"] == "OPEN" and call.query["fulfilment-method"] == "FBR" for call in sim.calls("orders")
    )


def test_exactly_a_full_last_page_ends_on_the_empty_page(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN exactly 50 open orders: the first page is full, so bol's answer to page 2 is `{ }`
    sim.add_dutch_orders(50)

    first = connector.list_open_orders(1)
    second = connector.list_open_orders(first.next_page or 0)

    assert (len(first.order_ids), first.next_page) == (50, 2)
    assert (second.order_ids, second.next_page) == ((), None)


def test_no_open_orders_is_one_empty_page(sim: BolSimulator, connector: BolConnector) -> None:
    page = connector.list_open_orders(1)

    assert (page.order_ids, page.next_page) == ((), None)


def test_shipped_orders_are_no_longer_open(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN two orders, one of which koppel shipped
    shipped_id = sim.add_dutch_order()
    open_id = sim.add_dutch_order()
    ship(connector, connector.get_order(shipped_id))

    # THEN only the other one is listed as open
    assert all_open_order_ids(connector) == [open_id]


def test_the_fulfilment_method_comes_from_the_account_settings(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    # GIVEN a retailer that also sells via "fulfilment by bol"
    sim.add_dutch_order(
        items=[SimItem(ean="8719000000003", title="Koffie", unit_price="9.99", fulfilment_method="FBB")]
    )
    all_methods = settings.model_copy(update={"fulfilment_method": "ALL"})
    connector = BolConnector(http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, all_methods, clock=clock)

    assert len(connector.list_open_orders(1).order_ids) == 1
    assert sim.calls("orders")[0].query["fulfilment-method"] == "ALL"


# --- order details ------------------------------------------------------------------------------
def test_an_order_becomes_a_canonical_order_with_exact_prices(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a company buyer who ships to an employee, ordering coffee (offer reference) and a lamp (none)
    sim.add_order(
        "A2K8290LP8",
        [
            SimItem(ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=3, offer_reference="KOF-1"),
            SimItem(ean=LAMP.ean, title=LAMP.title, unit_price="0.10", quantity=1, order_item_id="6107700001"),
            SimItem(ean="8719000000041", title="Sticker", unit_price="0.20", quantity=1),
        ],
        shipment_details={
            "salutation": "FEMALE",
            "firstName": "Femke",
            "surname": "van Dijk",
            "streetName": "Havenkade",
            "houseNumber": "12",
            "houseNumberExtension": "B",
            "extraAddressInformation": "2e verdieping",
            "zipCode": "3512AB",
            "city": "Utrecht",
            "countryCode": "NL",
            "email": "f1e2d3c4b5@verkopen.bol.example",
            "deliveryPhoneNumber": "0301234567",
            "language": "nl",
        },
        billing_details={
            "salutation": "MALE",
            "firstName": "Joost",
            "surname": "Bakker",
            "streetName": "Lindenlaan",
            "houseNumber": "7",
            "zipCode": "8011CD",
            "city": "Zwolle",
            "countryCode": "NL",
            "email": "a9b8c7d6e5@verkopen.bol.example",
            "company": "Bakker Koffie B.V.",
            "orderReference": "PO-2025-117",
        },
        placed_at=datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC),
    )

    # WHEN koppel reads the order
    order = connector.get_order("A2K8290LP8")

    # THEN the buyer is the billing party, the parcel goes to the recipient, prices are exact
    assert (order.channel, order.channel_order_id, order.status) == ("bol", "A2K8290LP8", OrderStatus.OPEN)
    assert order.placed_at == datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
    assert order.customer.email == "a9b8c7d6e5@verkopen.bol.example"
    assert (order.customer.first_name, order.customer.last_name, order.customer.company) == (
        "Joost",
        "Bakker",
        "Bakker Koffie B.V.",
    )
    assert order.billing_address.city == "Zwolle"
    shipping = order.shipping_address
    assert (shipping.street, shipping.house_number, shipping.house_number_extension) == ("Havenkade", "12", "B")
    assert (shipping.postal_code, shipping.city, shipping.country_code) == ("3512AB", "Utrecht", "NL")
    assert shipping.address_line_2 == "2e verdieping"
    assert shipping.phone == "0301234567"
    assert order.note == "PO-2025-117"
    coffee, lamp, sticker = order.lines
    assert (coffee.channel_sku, coffee.ean, coffee.quantity) == ("KOF-1", COFFEE.ean, 3)
    assert coffee.unit_price.amount == Decimal("14.95") and coffee.unit_price.currency == "EUR"
    assert (lamp.line_id, lamp.channel_sku) == ("6107700001", LAMP.ean)  # no offer reference: the EAN
    # 3 x 14.95 + 0.10 + 0.20: a float would have made 45.150000000000006
    assert order.total.amount == Decimal("45.15")
    assert order.shipping_cost is None
    assert isinstance(sticker.unit_price.amount, Decimal)


def test_cancelled_units_are_left_out(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order where the buyer cancelled the lamp entirely and one of three coffee packs
    sim.add_order(
        "B100",
        [
            SimItem(ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=3, quantity_cancelled=1),
            SimItem(
                ean=LAMP.ean,
                title=LAMP.title,
                unit_price="24.99",
                quantity=1,
                quantity_cancelled=1,
                cancellation_request=True,
            ),
        ],
    )

    order = connector.get_order("B100")

    assert [(line.ean, line.quantity) for line in order.lines] == [(COFFEE.ean, 2)]
    assert order.total.amount == Decimal("29.90")


def test_an_order_cancelled_entirely_says_so(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order whose only item was cancelled after koppel listed it
    sim.add_order("B200", [SimItem(ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=2)])
    sim.cancel_item(sim.order("B200")["orderItems"][0]["orderItemId"])

    order = connector.get_order("B200")

    # THEN koppel sees a cancelled order with what was ordered, not an error
    assert order.status is OrderStatus.CANCELLED
    assert [(line.ean, line.quantity) for line in order.lines] == [(COFFEE.ean, 2)]


# --- discounts ----------------------------------------------------------------------------------
def test_a_discount_makes_the_order_worth_what_the_buyer_paid(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a buyer who got 2.00 off two packs of coffee at 14.95, and bought a lamp at full price
    sim.add_order(
        "D100",
        [
            SimItem(
                ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=2, discounts=(("Koffieweek", "2.00"),)
            ),
            SimItem(ean=LAMP.ean, title=LAMP.title, unit_price="24.99"),
        ],
    )

    # WHEN koppel reads the order
    order = connector.get_order("D100")

    # THEN the coffee keeps its list price and carries the 2.00 off, exactly; the lamp has no discount
    coffee, lamp = order.lines
    assert coffee.unit_price == Money(amount=Decimal("14.95"))
    assert coffee.discount == Money(amount=Decimal("2.00"))
    assert coffee.discount is not None and isinstance(coffee.discount.amount, Decimal)
    assert coffee.total.amount == Decimal("27.90")
    assert lamp.discount is None
    assert order.total.amount == Decimal("52.89")


def test_several_promotions_on_one_item_add_up(sim: BolSimulator, connector: BolConnector) -> None:
    sim.add_order(
        "D200",
        [
            SimItem(
                ean=COFFEE.ean,
                title=COFFEE.title,
                unit_price="14.95",
                quantity=2,
                discounts=(("Koffieweek", "1.50"), ("Bol.com Select", "0.45")),
            )
        ],
    )

    order = connector.get_order("D200")

    assert order.lines[0].discount == Money(amount=Decimal("1.95"))
    assert order.total.amount == Decimal("27.95")


def test_an_item_without_a_discount_reads_as_before(sim: BolSimulator, connector: BolConnector) -> None:
    sim.add_order("D300", [SimItem(ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=2)])

    order = connector.get_order("D300")

    assert order.lines[0].discount is None
    assert order.total.amount == Decimal("29.90")


def test_cancelled_units_take_their_share_of_the_discount_with_them(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN 3.00 off three packs of coffee, one cancelled; and 1.00 off three lamps, two cancelled
    sim.add_order(
        "D400",
        [
            SimItem(
                ean=COFFEE.ean,
                title=COFFEE.title,
                unit_price="14.95",
                quantity=3,
                quantity_cancelled=1,
                discounts=(("Koffieweek", "3.00"),),
            ),
            SimItem(
                ean=LAMP.ean,
                title=LAMP.title,
                unit_price="24.99",
                quantity=3,
                quantity_cancelled=2,
                discounts=(("Fietsactie", "1.00"),),
            ),
        ],
    )

    order = connector.get_order("D400")

    # THEN the remaining units keep an even share of the discount, to the cent
    coffee, lamp = order.lines
    assert (coffee.quantity, coffee.discount) == (2, Money(amount=Decimal("2.00")))
    assert (lamp.quantity, lamp.discount) == (1, Money(amount=Decimal("0.33")))
    assert order.total.amount == Decimal("52.56")  # 27.90 + 24.66


def test_an_order_cancelled_entirely_keeps_its_discount_as_ordered(sim: BolSimulator, connector: BolConnector) -> None:
    sim.add_order(
        "D500",
        [SimItem(ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=2, discounts=(("Actie", "2.00"),))],
    )
    sim.cancel_item(sim.order("D500")["orderItems"][0]["orderItemId"])

    order = connector.get_order("D500")

    assert order.status is OrderStatus.CANCELLED
    assert (order.lines[0].quantity, order.lines[0].discount) == (2, Money(amount=Decimal("2.00")))


@needs_spec
def test_a_discounted_order_is_served_in_bols_published_shape(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a validating simulator holding a discounted order
    sim.add_order(
        "D600",
        [SimItem(ean=COFFEE.ean, title=COFFEE.title, unit_price="14.95", quantity=2, discounts=(("Actie", "2.00"),))],
    )

    connector.get_order("D600")

    # THEN the item carries bol's `discounts` and a totalPrice net of them, and fits the spec
    [item] = sim.order("D600")["orderItems"]
    assert item["discounts"] == [{"title": "Actie", "amount": Decimal("2.00")}]
    assert item["totalPrice"] == Decimal("27.90")
    assert sim.violations == []
    assert sim.response_violations == []


def test_an_unknown_order_is_a_permanent_error(connector: BolConnector) -> None:
    with pytest.raises(PermanentConnectorError) as raised:
        connector.get_order("DOES-NOT-EXIST")

    assert raised.value.context["status_code"] == 404


def test_the_connector_is_an_order_source_a_shipment_channel_and_takes_cancellations(
    connector: BolConnector,
) -> None:
    assert isinstance(connector, OrderSource)
    assert isinstance(connector, ShipmentChannel)
    assert isinstance(connector, ChannelCancellations)


# --- shipments ----------------------------------------------------------------------------------
def test_a_shipment_with_track_and_trace_reaches_bol(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an open order with two items
    order_id = sim.add_dutch_order(items=[COFFEE, LAMP])
    order = connector.get_order(order_id)

    # WHEN koppel ships it with a PostNL code
    ship(connector, order, code="3SKOPL000123456", carrier="postnl")

    # THEN bol holds one shipment of both items, and they are no longer open
    (shipment,) = sim.shipments
    assert shipment.order_id == order_id
    assert shipment.order_item_ids == tuple(line.line_id for line in order.lines)
    assert (shipment.transporter_code, shipment.track_and_trace) == ("TNT", "3SKOPL000123456")
    assert sim.process_status(shipment.process_status_id)["status"] == "SUCCESS"
    assert connector.get_order(order_id).status is OrderStatus.SHIPPED


def test_a_shipment_without_tracking_is_sent_as_another_carrier(sim: BolSimulator, connector: BolConnector) -> None:
    order = connector.get_order(sim.add_dutch_order(items=[COFFEE]))

    ship(connector, order, code="", carrier=None)

    (shipment,) = sim.shipments
    assert (shipment.transporter_code, shipment.track_and_trace) == ("OTHER", "")


def test_a_partial_shipment_ships_only_the_named_lines(sim: BolSimulator, connector: BolConnector) -> None:
    order = connector.get_order(sim.add_dutch_order(items=[COFFEE, LAMP]))
    first_line = order.lines[0].line_id

    connector.follow(
        connector.ship(order, Parcel(line_ids=(first_line,), tracking_codes=("3SKOPL000123456",)), "postnl")
    )

    assert sim.shipments[0].order_item_ids == (first_line,)
    assert [line.line_id for line in connector.get_order(order.channel_order_id).lines] == [
        line.line_id for line in order.lines
    ]
    assert connector.get_order(order.channel_order_id).status is OrderStatus.OPEN


# --- tokens -------------------------------------------------------------------------------------
def test_one_token_serves_many_calls(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN 60 open orders
    sim.add_dutch_orders(60)

    # WHEN koppel lists them and reads every one
    for order_id in all_open_order_ids(connector):
        connector.get_order(order_id)

    # THEN it asked bol for a token once (bol blocks clients that ask too often)
    assert sim.token_requests == 1
    assert len(sim.calls("order")) == 60


def test_the_token_is_renewed_shortly_before_it_expires(
    sim: BolSimulator, connector: BolConnector, advance: Callable[[float], None]
) -> None:
    order_id = sim.add_dutch_order()
    connector.get_order(order_id)

    advance(270)  # bol's tokens live 299 s; koppel renews with 30 s to spare
    connector.get_order(order_id)

    assert sim.token_requests == 2
    assert all(call.status == 200 for call in sim.calls("order"))


def test_a_token_bol_says_has_expired_is_renewed_once(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a token that bol considers expired before koppel expected it to
    order_id = sim.add_dutch_order()
    connector.get_order(order_id)
    sim.expire_tokens()

    # WHEN koppel reads the order again
    order = connector.get_order(order_id)

    # THEN bol's 401 made it fetch one new token and try once more
    assert order.channel_order_id == order_id
    assert [call.status for call in sim.calls("order")] == [200, 401, 200]
    assert sim.token_requests == 2


def test_wrong_credentials_fail_without_hammering_the_token_endpoint(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    connector = BolConnector(http_client, DEMO_CLIENT_ID, "not-the-secret", settings, clock=clock)

    with pytest.raises(AuthenticationFailed):
        connector.list_open_orders(1)

    assert sim.token_requests == 1
    assert sim.calls("orders") == []


# --- rate limits and failures -------------------------------------------------------------------
def test_a_429_with_retry_after_waits_that_long(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    order_id = sim.add_dutch_order()
    sim.fail_next(1, status=429, retry_after=4)

    order = connector.get_order(order_id)

    assert order.channel_order_id == order_id
    assert sleeps == [4]


def test_a_429_without_retry_after_backs_off_with_growing_jittered_waits(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN bol throttles three times without saying for how long
    order_id = sim.add_dutch_order()
    sim.retry_after_header = False
    sim.fail_next(3, status=429)

    connector.get_order(order_id)

    # THEN each wait lies in a doubling band (0.5-1, 1-2, 2-4 s): growing, never in lockstep
    first, second, third = sleeps
    assert 0.5 <= first <= 1 <= second <= 2 <= third <= 4
    assert len({first / 1, second / 2, third / 4}) == 3  # jittered, not exact powers of two


def test_the_connector_paces_itself_on_the_rate_limit_headers(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN bol allows 5 order look-ups per second
    sim.rate_limits["order"] = RateLimit(calls=5, window_seconds=1)
    order_ids = sim.add_dutch_orders(12)

    for order_id in order_ids:
        connector.get_order(order_id)

    # THEN koppel waited for the window twice instead of running into 429s
    assert [call.status for call in sim.calls("order")] == [200] * 12
    assert sleeps == [1, 1]


def test_a_rate_limit_longer_than_koppel_waits_hands_over_to_the_next_run(
    sim: BolSimulator, connector: BolConnector
) -> None:
    order_id = sim.add_dutch_order()
    sim.fail_next(1, status=429, retry_after=3600)

    with pytest.raises(RateLimited) as raised:
        connector.get_order(order_id)

    assert raised.value.retry_after == 3600


def test_two_server_errors_then_success(sim: BolSimulator, connector: BolConnector, sleeps: list[float]) -> None:
    sim.add_dutch_orders(3)
    sim.fail_next(2, status=500)

    page = connector.list_open_orders(1)

    assert len(page.order_ids) == 3
    assert [call.status for call in sim.calls("orders")] == [500, 500, 200]
    assert len(sleeps) == 2


def test_a_server_that_keeps_failing_is_a_transient_error(sim: BolSimulator, connector: BolConnector) -> None:
    sim.fail_next(100, status=500)

    with pytest.raises(TransientConnectorError) as raised:
        connector.list_open_orders(1)

    assert not isinstance(raised.value, RateLimited)
    assert len(sim.calls("orders")) == 6  # the shared retry policy's attempts, then it gives up


class TimesOutFirst(httpx.BaseTransport):
    """A network that drops the first `drops` requests on the floor."""

    def __init__(self, inner: httpx.BaseTransport, drops: int) -> None:
        self.inner = inner
        self.drops = drops

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.drops:
            self.drops -= 1
            raise httpx.ReadTimeout("simulated timeout", request=request)
        return self.inner.handle_request(request)


def test_a_timeout_is_retried(sim: BolSimulator, settings: BolSettings, clock: Clock, sleeps: list[float]) -> None:
    order_id = sim.add_dutch_order()
    flaky = httpx.Client(transport=TimesOutFirst(httpx.WSGITransport(app=sim), drops=2))
    connector = BolConnector(flaky, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock)

    assert connector.get_order(order_id).channel_order_id == order_id
    assert len(sleeps) == 2


# --- accounts -----------------------------------------------------------------------------------
def bol_account(settings: BolSettings, *, sandbox: bool) -> Account:
    return Account(
        account_id="bol-main",
        system="bol",
        secret_ref="koppel/bol-main",
        settings={"base_url": settings.base_url, "token_url": settings.token_url},
        sandbox=sandbox,
    )


def test_a_sandbox_account_talks_to_the_demo_api(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings
) -> None:
    sim.add_dutch_order()
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    connector = from_account(bol_account(settings, sandbox=True), credentials, http_client)

    assert len(connector.list_open_orders(1).order_ids) == 1
    assert sim.calls("orders")[0].path == "/retailer-demo/orders"


def test_a_live_account_talks_to_the_retailer_api(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings
) -> None:
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    from_account(bol_account(settings, sandbox=False), credentials, http_client).list_open_orders(1)

    assert sim.calls("orders")[0].path == "/retailer/orders"


def test_connectors_built_for_the_same_account_share_its_token(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    # GIVEN a connector built for the account, which fetched a token
    order_id = sim.add_dutch_order()
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    from_account(bol_account(settings, sandbox=False), credentials, http_client, clock=clock).get_order(order_id)

    # WHEN the next run builds the account's connector anew, and another account's is built
    from_account(bol_account(settings, sandbox=False), credentials, http_client, clock=clock).get_order(order_id)
    other = bol_account(settings, sandbox=False).model_copy(update={"account_id": "bol-second"})
    from_account(other, credentials, http_client, clock=clock).get_order(order_id)

    # THEN the account's token served both of its connectors; the other account has its own
    assert sim.token_requests == 2
    assert all(call.status == 200 for call in sim.calls("order"))


def test_credentials_without_a_secret_are_a_configuration_error(
    http_client: httpx.Client, settings: BolSettings
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        from_account(bol_account(settings, sandbox=False), {"client_id": DEMO_CLIENT_ID}, http_client)

    assert raised.value.field == "client_secret"


def test_an_account_of_another_system_is_refused(http_client: httpx.Client) -> None:
    shop = Account(
        account_id="shop", system="woocommerce", secret_ref="koppel/shop", settings={"base_url": "https://shop.test"}
    )

    with pytest.raises(ConfigurationError):
        from_account(shop, {"client_id": "x", "client_secret": "y"}, http_client)


# --- the spec -----------------------------------------------------------------------------------
@needs_spec
def test_every_request_the_connector_sends_meets_the_published_spec(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a validating simulator and a day's work: list, read, ship, token renewal
    assert sim.validating
    order_ids = sim.add_dutch_orders(55)
    for order_id in all_open_order_ids(connector):
        order = connector.get_order(order_id)
    ship(connector, order)
    sim.expire_tokens()
    connector.get_order(order_ids[0])

    # THEN bol would have accepted every request, and the simulator answered in bol's shapes
    assert sim.violations == []
    assert sim.response_violations == []
    assert {call.status for call in sim.request_log} <= {200, 202, 401}


# --- over a real socket -------------------------------------------------------------------------
@pytest.fixture
def served_sim(clock: Clock) -> Iterator[tuple[BolSimulator, str]]:
    sim = BolSimulator(clock=clock.now)
    server = sim.serve()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield sim, f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.mark.integration
def test_the_connector_works_over_http_on_localhost(served_sim: tuple[BolSimulator, str], clock: Clock) -> None:
    sim, url = served_sim
    order_id = sim.add_dutch_order(items=[COFFEE])
    settings = BolSettings(base_url=url, token_url=f"{url}/token")

    with httpx.Client(timeout=5) as client:
        connector = BolConnector(client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock)
        assert connector.list_open_orders(1).order_ids == (order_id,)
        assert connector.get_order(order_id).lines[0].unit_price.amount == Decimal("14.95")

    assert sim.violations == []
