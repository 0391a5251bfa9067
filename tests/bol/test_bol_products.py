"""Prices to bol.com offers (`ProductTarget`), against the simulator.

On bol a retailer's product is its offer: koppel sets the price the buyer pays; title and images
are bol's catalogue content and are not sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from koppel.connectors.base import ProductPushResult, ProductTarget, ProductUpdate
from koppel.connectors.bol.connector import PRICE_NOT_CONFIRMED, BolConnector
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock
from koppel.errors import AuthenticationFailed
from koppel.models import Money, Product
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, sample_ean

from .conftest import API_URL, V10

MUG = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0001"
PLAID = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0002"
LAMP = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0003"
UNKNOWN = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0999"


@pytest.fixture
def offers(sim: BolSimulator) -> Iterator[None]:
    """Three offers on the retailer's bol account, each at an old price; whatever koppel sends to
    them must meet bol's spec."""
    sim.add_offer(MUG, sample_ean(1), "MOK-AARDE-350", stock=4, price="9.99")
    sim.add_offer(PLAID, sample_ean(2), "PLD-WOL-OKR", stock=1, price="49.00")
    sim.add_offer(LAMP, sample_ean(3), "", stock=0, price="24.99")  # no reference: only its EAN identifies it
    yield
    assert sim.violations == []
    assert sim.response_violations == []


def product(sku: str, price: str | None, sale_price: str | None = None, currency: str = "EUR") -> Product:
    return Product(
        sku=sku,
        title="Mok Aarde 350 ml",
        price=Money(amount=Decimal(price), currency=currency) if price is not None else None,
        sale_price=Money(amount=Decimal(sale_price), currency=currency) if sale_price is not None else None,
    )


def sent_prices(sim: BolSimulator) -> list[str]:
    """The request bodies koppel sent to bol's price endpoint, as text."""
    return [logged.body for logged in sim.calls("offer-price")]


# --- the buyer's price on the offer ---------------------------------------------------------------
@pytest.mark.usefixtures("offers")
@pytest.mark.parametrize(
    ("price", "sale_price", "shown"),
    [
        ("14.95", None, "14.95"),
        ("14.95", "11.95", "11.95"),  # on sale: the buyer pays the sale price
        ("14.95", "14.95", "14.95"),  # a "sale" at the same price is no sale
        ("14.95", "17.50", "14.95"),  # a sale price above the price is ignored
    ],
)
def test_the_price_the_buyer_pays_lands_on_the_offer(
    sim: BolSimulator, connector: BolConnector, price: str, sale_price: str | None, shown: str
) -> None:
    # GIVEN an offer at 9.99 WHEN koppel pushes the backoffice product's price
    [result] = connector.push_products([ProductUpdate(product("MOK-AARDE-350", price, sale_price), MUG)])

    # THEN bol shows the price the buyer pays, and the SKU is accepted
    assert result == ProductPushResult("MOK-AARDE-350", accepted=True)
    assert sim.offer_price(MUG) == Decimal(shown)
    assert [update.bundle_prices for update in sim.price_updates] == [((1, Decimal(shown)),)]


@pytest.mark.usefixtures("offers")
def test_prices_are_sent_with_two_decimals_as_json_numbers(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a price the backoffice holds as Decimal 12.5, and one with a tenth of a cent
    connector.push_products(
        [ProductUpdate(product("MOK-AARDE-350", "12.5"), MUG), ProductUpdate(product("PLD-WOL-OKR", "39.005"), PLAID)]
    )

    # THEN bol is sent the numbers 12.50 and 39.01 (rounded half up), never a string or a float's digits
    assert [json.loads(body, parse_float=str) for body in sent_prices(sim)] == [
        {"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": "12.50"}]}},
        {"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": "39.01"}]}},
    ]
    assert '"unitPrice": 12.50}' in sent_prices(sim)[0]
    assert str(sim.offer_price(MUG)) == "12.50"


@pytest.mark.usefixtures("offers")
def test_a_batch_goes_out_whole_and_each_sku_gets_its_result_in_order(
    sim: BolSimulator, connector: BolConnector
) -> None:
    results = connector.push_products(
        [
            ProductUpdate(product("MOK-AARDE-350", "11.00"), MUG),
            ProductUpdate(product("NO-PRICE", None), PLAID),
            ProductUpdate(product("LAMP-LED", "29.99", "27.50"), LAMP, image_changed=True),
        ]
    )

    assert [(result.sku, result.accepted) for result in results] == [
        ("MOK-AARDE-350", True),
        ("NO-PRICE", False),
        ("LAMP-LED", True),
    ]
    assert (sim.offer_price(MUG), sim.offer_price(PLAID), sim.offer_price(LAMP)) == (
        Decimal("11.00"),
        Decimal("49.00"),
        Decimal("27.50"),
    )


# --- refused before asking bol --------------------------------------------------------------------
@pytest.mark.usefixtures("offers")
def test_a_product_without_a_price_is_refused_without_asking_bol(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a backoffice product with only a sale price, and one with no price at all
    results = connector.push_products(
        [
            ProductUpdate(product("MOK-AARDE-350", None), MUG),
            ProductUpdate(product("PLD-WOL-OKR", None, "19.99"), PLAID),
        ]
    )

    # THEN neither is sent, and the operator reads why
    assert [(result.accepted, result.retryable) for result in results] == [(False, False), (False, False)]
    assert all("no price" in result.error for result in results)
    assert sim.calls("offer-price") == []
    assert sim.offer_price(MUG) == Decimal("9.99")


@pytest.mark.usefixtures("offers")
@pytest.mark.parametrize(
    "shirt",
    [
        product("MOK-AARDE-350", "14.95", currency="USD"),
        Product(
            sku="MOK-AARDE-350",
            title="Mok Aarde 350 ml",
            price=Money(amount=Decimal("14.95")),
            sale_price=Money(amount=Decimal("9.95"), currency="USD"),
        ),
    ],
    ids=["price", "sale-price"],
)
def test_a_price_in_another_currency_than_euros_is_refused(
    sim: BolSimulator, connector: BolConnector, shirt: Product
) -> None:
    [result] = connector.push_products([ProductUpdate(shirt, MUG)])

    assert not result.accepted and not result.retryable
    assert "EUR" in result.error and "USD" in result.error
    assert sim.calls("offer-price") == []


@pytest.mark.usefixtures("offers")
@pytest.mark.parametrize("price", ["0.99", "0.00", "10000.00"])
def test_a_price_outside_what_bol_takes_is_refused_without_asking_bol(
    sim: BolSimulator, connector: BolConnector, price: str
) -> None:
    # bol's BundlePrice.unitPrice is 1..9999: sending it would only earn a 400
    [result] = connector.push_products([ProductUpdate(product("MOK-AARDE-350", price), MUG)])

    assert not result.accepted and not result.retryable
    assert price in result.error
    assert sim.calls("offer-price") == []


@pytest.mark.usefixtures("offers")
def test_an_update_without_an_offer_id_is_refused_without_asking_bol(
    sim: BolSimulator, connector: BolConnector
) -> None:
    [result] = connector.push_products([ProductUpdate(product("NEW-SKU", "5.00"), "")])

    assert not result.accepted and not result.retryable
    assert "offer id" in result.error
    assert sim.calls("offer-price") == []


# --- what bol says --------------------------------------------------------------------------------
@pytest.mark.usefixtures("offers")
def test_an_unknown_offer_is_refused_by_id_and_the_others_still_go(sim: BolSimulator, connector: BolConnector) -> None:
    results = connector.push_products(
        [
            ProductUpdate(product("MOK-AARDE-350", "8.00"), MUG),
            ProductUpdate(product("GONE-1", "5.00"), UNKNOWN),
            ProductUpdate(product("PLD-WOL-OKR", "45.00"), PLAID),
        ]
    )

    assert results[1] == ProductPushResult("GONE-1", accepted=False, error=f"bol has no offer {UNKNOWN}")
    assert results[0].accepted and results[2].accepted
    assert (sim.offer_price(MUG), sim.offer_price(PLAID)) == (Decimal("8.00"), Decimal("45.00"))


@pytest.mark.usefixtures("offers")
def test_a_refused_price_carries_bols_reason(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN bol will refuse the plaid's new price, and takes a poll to say so
    sim.refuse_price(PLAID, "The price of offer PLD-WOL-OKR is more than 50% below its previous price.")
    sim.pending_polls = 1

    results = connector.push_products(
        [ProductUpdate(product("MOK-AARDE-350", "10.50"), MUG), ProductUpdate(product("PLD-WOL-OKR", "12.00"), PLAID)]
    )

    # THEN the operator reads bol's own reason, and the plaid keeps its old price
    assert results == [
        ProductPushResult("MOK-AARDE-350", accepted=True),
        ProductPushResult(
            "PLD-WOL-OKR",
            accepted=False,
            error="The price of offer PLD-WOL-OKR is more than 50% below its previous price.",
        ),
    ]
    assert sim.offer_price(PLAID) == Decimal("49.00")
    assert sim.offer_price(MUG) == Decimal("10.50")


@pytest.mark.usefixtures("offers")
def test_prices_bol_has_not_confirmed_in_time_are_retryable_not_accepted(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock, sleeps: list[float]
) -> None:
    # GIVEN bol is slow with every process, and a 6-second budget for the batch
    sim.pending_polls = 100
    connector = BolConnector(
        http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock, stock_wait_seconds=6.0
    )

    results = connector.push_products(
        [ProductUpdate(product(f"SKU-{n}", f"{n + 10}.00"), offer) for n, offer in enumerate((MUG, PLAID, LAMP))]
    )

    # THEN no SKU is called accepted; each is to be tried again
    assert results == [
        ProductPushResult(f"SKU-{n}", accepted=False, error=PRICE_NOT_CONFIRMED, retryable=True) for n in range(3)
    ]
    assert "not confirmed" in PRICE_NOT_CONFIRMED
    # AND the wait was one budget for the whole batch, every update sent before the first poll
    assert sum(sleeps) == pytest.approx(6.0)
    groups = [logged.group for logged in sim.request_log if logged.group in ("offer-price", "process-status-bulk")]
    assert groups[:4] == ["offer-price"] * 3 + ["process-status-bulk"]
    assert "offer-price" not in groups[3:]


@pytest.mark.usefixtures("offers")
def test_prices_bol_settles_after_a_few_polls_are_accepted(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    sim.pending_polls = 2

    results = connector.push_products(
        [ProductUpdate(product("MOK-AARDE-350", "7.00"), MUG), ProductUpdate(product("PLD-WOL-OKR", "44.00"), PLAID)]
    )

    assert all(result.accepted for result in results)
    assert len(sim.calls("process-status-bulk")) == 3  # three rounds, both processes in each
    assert sim.calls("process-status") == []
    assert sleeps == [2.0, 2.0]


@pytest.mark.usefixtures("offers")
def test_a_timeout_at_bol_is_retryable(sim: BolSimulator, connector: BolConnector) -> None:
    sim.time_out_next()

    results = connector.push_products(
        [ProductUpdate(product("MOK-AARDE-350", "7.00"), MUG), ProductUpdate(product("PLD-WOL-OKR", "44.00"), PLAID)]
    )

    assert not results[0].accepted and results[0].retryable
    assert results[1].accepted
    assert sim.offer_price(MUG) == Decimal("9.99")  # unchanged


@pytest.mark.usefixtures("offers")
def test_bol_unreachable_for_one_offer_is_retryable_and_the_rest_still_goes(
    sim: BolSimulator, connector: BolConnector
) -> None:
    # GIVEN bol answers 500 to every attempt of the first update (HttpApi tries six times)
    sim.fail_next(6, 500, group="offer-price")

    results = connector.push_products(
        [ProductUpdate(product("MOK-AARDE-350", "7.00"), MUG), ProductUpdate(product("PLD-WOL-OKR", "44.00"), PLAID)]
    )

    assert not results[0].accepted and results[0].retryable
    assert "could not be reached" in results[0].error
    assert results[1].accepted
    assert (sim.offer_price(MUG), sim.offer_price(PLAID)) == (Decimal("9.99"), Decimal("44.00"))


@pytest.mark.usefixtures("offers")
def test_a_rate_limit_longer_than_koppel_waits_leaves_the_batch_for_the_next_run(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN bol asks for a two-minute pause, longer than koppel waits within a run
    sim.fail_next(1, 429, group="offer-price", retry_after=120)

    results = connector.push_products(
        [ProductUpdate(product("MOK-AARDE-350", "7.00"), MUG), ProductUpdate(product("PLD-WOL-OKR", "44.00"), PLAID)]
    )

    # THEN every SKU is to be tried again, and bol was not pressed with more requests
    assert [(result.accepted, result.retryable) for result in results] == [(False, True), (False, True)]
    assert all("rate limiting" in result.error for result in results)
    assert len(sim.calls("offer-price")) == 1
    assert sleeps == []


@pytest.mark.usefixtures("offers")
def test_wrong_credentials_stop_the_batch(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    connector = BolConnector(http_client, DEMO_CLIENT_ID, "not-the-secret", settings, clock=clock)

    with pytest.raises(AuthenticationFailed):
        connector.push_products([ProductUpdate(product("MOK-AARDE-350", "7.00"), MUG)])

    assert sim.calls("offer-price") == []


# --- product_refs -----------------------------------------------------------------------------------
@pytest.mark.usefixtures("offers")
def test_products_are_found_as_offers_by_reference_then_ean_from_the_one_export(
    sim: BolSimulator, connector: BolConnector
) -> None:
    skus = [("MOK-AARDE-350", ""), ("LAMP-LED", sample_ean(3)), ("NOT-ON-BOL", sample_ean(40))]

    refs = connector.product_refs(skus)

    assert refs == {"MOK-AARDE-350": MUG, "LAMP-LED": LAMP}
    # AND stock and products share the export bol made once
    assert connector.channel_refs(skus) == refs
    assert len(sim.calls("offer-export")) == 1


def test_the_connector_is_a_product_target(connector: BolConnector) -> None:
    assert isinstance(connector, ProductTarget)
    assert connector.max_batch == 100


# --- the simulator keeps koppel honest ------------------------------------------------------------
@pytest.fixture
def mug(sim: BolSimulator) -> None:
    sim.add_offer(MUG, sample_ean(1), "MOK-AARDE-350", price="9.99")


@pytest.mark.usefixtures("mug")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "pricing"),
        ({"pricing": {"bundlePrices": []}}, "bundlePrices"),
        ({"pricing": {"bundlePrices": [{"quantity": 1}]}}, "unitPrice"),
        ({"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": "12.50"}]}}, "unitPrice"),
        ({"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": 0.5}]}}, "unitPrice"),
        ({"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": 10000}]}}, "unitPrice"),
        ({"pricing": {"bundlePrices": [{"quantity": 0, "unitPrice": 12}]}}, "quantity"),
        ({"pricing": {"bundlePrices": [{"quantity": 2, "unitPrice": 12}]}}, "quantity 1"),
        ({"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": 12.345}]}}, "2 decimals"),
        (
            {"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": 10}, {"quantity": 3, "unitPrice": 11}]}},
            "decreasing",
        ),
    ],
)
def test_the_simulator_refuses_a_price_body_bol_forbids(
    validating_sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str], body: dict[str, object], field: str
) -> None:
    sim = validating_sim
    answer = http_client.put(
        f"{API_URL}/retailer/offers/{MUG}/price", headers={**bearer, "Content-Type": V10}, content=json.dumps(body)
    )

    assert answer.status_code == 400
    named = [f"{violation['name']}: {violation['reason']}" for violation in answer.json()["violations"]]
    assert any(field in text for text in named), named
    assert sim.violations  # a test through koppel would fail on it
    assert sim.offer_price(MUG) == Decimal("9.99")
    assert sim.price_updates == []


@pytest.mark.usefixtures("mug")
def test_the_simulator_takes_bundle_prices_and_shows_the_single_unit_one(
    sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str]
) -> None:
    body = '{"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": 12.50}, {"quantity": 3, "unitPrice": 11}]}}'

    answer = http_client.put(
        f"{API_URL}/retailer/offers/{MUG}/price", headers={**bearer, "Content-Type": V10}, content=body
    )

    assert answer.status_code == 202
    assert answer.json()["status"] == "PENDING"
    process = sim.process_status(answer.json()["processStatusId"])
    assert (process["eventType"], process["entityId"], process["status"]) == ("UPDATE_OFFER_PRICE", MUG, "SUCCESS")
    assert sim.offer_price(MUG) == Decimal("12.50")
    assert sim.violations == []
    assert sim.response_violations == []


def test_the_simulator_answers_an_unknown_offers_price_with_bols_problem(
    sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str]
) -> None:
    answer = http_client.put(
        f"{API_URL}/retailer/offers/{UNKNOWN}/price",
        headers={**bearer, "Content-Type": V10},
        content='{"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": 12.50}]}}',
    )

    assert answer.status_code == 404
    assert answer.json()["status"] == 404
    assert UNKNOWN in answer.json()["detail"]
    assert [logged.group for logged in sim.request_log if logged.path.endswith("/price")] == ["offer-price"]


@pytest.mark.usefixtures("offers")
def test_the_offers_export_lists_the_new_price(sim: BolSimulator, connector: BolConnector) -> None:
    connector.push_products([ProductUpdate(product("MOK-AARDE-350", "12.5"), MUG)])

    [exported] = [offer for offer in connector.offer_export() if offer.offer_id == MUG]

    assert exported.price == Decimal("12.50")
