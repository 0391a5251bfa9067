"""SnelStart ↔ a PHP webshop (seed 001): webshop orders and their customers into the accounting
package, its articles, prices, stock and customers' open amounts into the webshop.

Every flow test runs against each webshop koppel polls for orders (`webshops.WEBSHOPS`: Magento 2,
PrestaShop 8, ...), through the deployed handlers (the order poller, the product sync, the stock
poller, reconciler and pusher on their schedules and queue), with SnelStart and the webshop as
simulators on 127.0.0.1, each checking every request against its published spec, and the koppel
table in moto. Open amounts and mapped attributes are Magento's alone (PrestaShop customers and
products have no free attribute for them).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import order_poller
import product_sync
import pytest
import stock_poller
import stock_pusher
import stock_reconciler
from helpers import Invocation, assert_allowed, serve
from scenarios import schedule_event, sqs_event
from test_cli import run_cli
from webshops import WEBSHOPS, Buyer, Line

from koppel import wiring
from koppel.config import Link
from koppel.flows.orders import LEASE_SECONDS
from koppel.store.orders import DynamoOrderLinks
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.snelstart import (
    DEMO_CLIENT_KEY,
    DEMO_SUBSCRIPTION_KEY,
    SnelStartSimulator,
)
from koppel_local.simulators.snelstart import load_contract as snelstart_contract

LINK = "books-to-shop"
POLLER = Invocation(function_name="OrderPollerFunction", timeout=300)
STOCK_POLLER = Invocation(function_name="StockPollerFunction", timeout=50)
SYNC = Invocation(function_name="ProductSyncFunction", timeout=300)
RECONCILER = Invocation(function_name="StockReconcilerFunction", timeout=300)
ANNA = Buyer("anna@example.nl")
MAGENTO_ONLY = pytest.mark.parametrize("books", ["magento"], indirect=True)


class Books:
    """SnelStart and the webshop as the merchant sees them."""

    def __init__(self, snelstart: SnelStartSimulator, shop) -> None:
        self.snelstart, self.shop = snelstart, shop

    def sales_orders(self) -> list[dict]:
        return list(self.snelstart.verkooporders.values())

    def relaties_with(self, email: str) -> list[dict]:
        return [r for r in self.snelstart.relaties.values() if (r.get("email") or "").lower() == email.lower()]

    def lines(self, sales_order: dict) -> list[tuple[str, Decimal, Decimal]]:
        """(article code, quantity, unit price incl. VAT) of every line, as SnelStart holds them."""
        return [
            (
                self.snelstart.artikelen[line["artikel"]["id"]]["artikelcode"],
                Decimal(str(line["aantal"])),
                Decimal(str(line["stuksprijs"])),
            )
            for line in sales_order["regels"]
        ]


@pytest.fixture(params=sorted(WEBSHOPS))
def books(request, stack, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")
    wiring.reset()
    snelstart = SnelStartSimulator(contract=contract_or_skip(snelstart_contract), latency_seconds=0.02)
    shop = WEBSHOPS[request.param]()
    for code, title, price, stock in (
        ("MUG-1", "Stoneware mug", "14.95", 12),
        ("TEA-1", "Rooibos tea", "6.50", 40),
        ("VERZEND", "Verzendkosten", "0", 0),
        ("KORTING", "Korting", "0", 0),
    ):
        snelstart.add_article(code, title, price, technical=stock, stock_control=stock > 0, extra={"Merk": "Koppel"})
        if stock:
            shop.add_product(code, title, price, quantity=0)
    urls = {}
    servers = []
    for name, app in (("snelstart", snelstart), ("shop", shop.app)):
        urls[name], server = serve(app)
        servers.append(server)
    stack.add_account(
        "books",
        "snelstart",
        {"subscription_key": DEMO_SUBSCRIPTION_KEY, "client_key": DEMO_CLIENT_KEY},
        settings={
            "base_url": urls["snelstart"] + "/v2",
            "token_url": urls["snelstart"] + "/b2b/token",
            "shipping_article": "VERZEND",
            "discount_article": "KORTING",
        },
    )
    settings, secret = shop.account(urls["shop"])
    stack.add_account("shop", shop.system, secret, settings=settings)
    wiring.config_store().put_link(
        Link(
            link_id=LINK,
            backoffice="books",
            channel="shop",
            flows={"orders": True, "tracking": False, "stock": True, "products": True, "returns": False},
        )
    )
    yield Books(snelstart, shop)
    for server in servers:
        server.shutdown()
    assert snelstart.violations == [], "koppel sent SnelStart a request its spec refuses"
    assert shop.violations == [], f"koppel sent {shop.system} a request its spec refuses"


def link(**changes) -> Link:
    """The link with these settings changed (each a section's fields, as `koppel link put` takes them)."""
    store = wiring.config_store()
    current = store.get_link(LINK).model_dump(mode="json")
    for section, values in changes.items():
        current[section] = current[section] | values if isinstance(values, dict) else values
    updated = Link.model_validate(current)
    store.put_link(updated)
    return updated


def poll_orders() -> dict:
    return order_poller.lambda_handler(schedule_event(), POLLER())


def poll_after_every_lease(monkeypatch) -> dict:
    """The order poller as it runs once the lease of a lost answer has run out."""
    ahead = DynamoOrderLinks(wiring.table(), clock=lambda: time.time() + LEASE_SECONDS + 60)
    monkeypatch.setattr(wiring, "order_links", lambda: ahead)
    return poll_orders()


def push(stack, context) -> None:
    stock_pusher.lambda_handler(sqs_event(*[m["Body"] for m in stack.queued("StockPushQueue")]), context)


# --- orders in -------------------------------------------------------------------------------------
def test_a_webshop_order_with_a_new_customer_and_a_discount_becomes_one_sales_order_for_a_new_relatie(books, aws_calls):
    # GIVEN an order of a buyer SnelStart does not know: two mugs with 2.00 off, a tea, and shipping
    order_id = books.shop.place_order(
        [Line("MUG-1", 2, "14.95"), Line("TEA-1", 1, "6.50")], ANNA, discount="2.00", shipping="4.95"
    )
    aws_calls.clear()

    # WHEN the order poller runs, and runs again (the second read overlaps the first)
    first = poll_orders()
    poll_orders()

    # THEN SnelStart holds one sales order, for one new relatie with the buyer's name and e-mail
    [relatie] = books.relaties_with(ANNA.email)
    assert "Vries" in relatie["naam"]
    [sales_order] = books.sales_orders()
    assert sales_order["relatie"]["id"] == relatie["id"]
    assert books.shop.number_of(order_id) in sales_order["omschrijving"]
    # its lines by article code, shipping as its own line, the discount booked: the webshop's total
    lines = books.lines(sales_order)
    assert ("MUG-1", Decimal(2)) in [(code, quantity) for code, quantity, _ in lines]
    assert any(code == "VERZEND" and price == Decimal("4.95") for code, _, price in lines)
    assert Decimal(str(sales_order["totaalInclusiefBtw"])) == Decimal("29.90") - Decimal("2.00") + Decimal(
        "6.50"
    ) + Decimal("4.95")
    assert "1 changed order(s) read" in first["done"][LINK] and "created" in first["done"][LINK]
    assert_allowed("OrderPollerFunction", aws_calls)


def test_two_orders_of_one_new_customer_booked_at_once_make_one_relatie(books):
    # GIVEN two orders of the same new buyer, and SnelStart slow enough for two runs to overlap
    books.snelstart.latency_seconds = 0.15
    piet = Buyer("piet@example.nl", "Piet", "Jansen")
    for _ in range(2):
        books.shop.place_order([Line("TEA-1", 1, "6.50")], piet)

    # WHEN two order poller runs read them at the same moment (a run that overran and the next one)
    runs = [threading.Thread(target=poll_orders) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    poll_orders()  # and one more, for whatever a run gave back to wait for the other

    # THEN both orders are in SnelStart once, for one and the same relatie
    orders = books.sales_orders()
    assert len(orders) == 2
    [relatie] = books.relaties_with(piet.email)
    assert {order["relatie"]["id"] for order in orders} == {relatie["id"]}


def test_a_lost_answer_and_a_re_read_never_make_a_second_sales_order(books, monkeypatch):
    order_id = books.shop.place_order([Line("MUG-1", 1, "14.95")], Buyer("kees@example.nl"))
    # GIVEN SnelStart will book the next sales order and then lose its answer
    books.snelstart.fail_next(1, 502, group="verkooporders-create", after_execution=True)

    poll_orders()  # the answer is lost: the order may exist, koppel keeps its claim
    poll_orders()  # the same order read again while the claim holds: nothing sent
    poll_after_every_lease(monkeypatch)  # the lease has run out: looked up first, found, recorded

    assert len(books.sales_orders()) == 1
    record = wiring.order_links().get(LINK, order_id)
    assert record is not None and record.state.value == "created"
    assert record.backoffice_order_id == books.sales_orders()[0]["id"]


def test_an_order_changed_in_the_same_second_as_the_cursor_is_not_skipped(books):
    # GIVEN an order read by the poller, and a second order saved in that very second after the read
    books.shop.place_order([Line("MUG-1", 1, "14.95")], Buyer("a@example.nl"))
    poll_orders()
    books.shop.place_order([Line("TEA-1", 2, "6.50")], Buyer("b@example.nl"))

    # WHEN the poller runs again
    poll_orders()

    # THEN both are in SnelStart, once each
    assert sorted(books.lines(order)[0][0] for order in books.sales_orders()) == ["MUG-1", "TEA-1"]


def test_an_order_for_an_article_snelstart_does_not_have_waits_with_the_reason(books):
    books.shop.add_product("LAMP-1", "Desk lamp", "39.00", quantity=3)
    order_id = books.shop.place_order([Line("LAMP-1", 1, "39.00")], Buyer("c@example.nl"))

    poll_orders()

    assert books.sales_orders() == []
    record = wiring.order_links().get(LINK, order_id)
    assert record is not None and record.state.value == "needs_attention"
    assert "LAMP-1" in record.reason
    # AND once the article exists in SnelStart, the next run books it by itself
    books.snelstart.add_article("LAMP-1", "Desk lamp", "39.00", technical=3)
    books.shop.later(60)
    poll_orders()
    assert [books.lines(order)[0][0] for order in books.sales_orders()] == ["LAMP-1"]


def test_a_link_without_customer_creation_books_nothing_for_an_unknown_buyer(books):
    link(orders={"create_customers": False})
    order_id = books.shop.place_order([Line("TEA-1", 1, "6.50")], Buyer("new@example.nl"))

    poll_orders()

    assert books.sales_orders() == [] and books.relaties_with("new@example.nl") == []
    record = wiring.order_links().get(LINK, order_id)
    assert record is not None and record.state.value == "needs_attention"


def test_a_link_without_auto_accept_books_an_order_only_once_a_person_accepts_it(books, local_state, capsys):
    link(orders={"auto_accept": False})
    order_id = books.shop.place_order([Line("MUG-1", 1, "14.95")], Buyer("f@example.nl"))

    # WHEN the poller runs twice before anyone looks
    poll_orders()
    poll_orders()

    # THEN nothing is booked: the order waits, and `koppel orders` says how to accept it
    assert books.sales_orders() == []
    capsys.readouterr()
    assert run_cli("orders", LINK) == 0
    listed = capsys.readouterr().out
    assert order_id in listed and f"koppel orders {LINK} accept {order_id}" in listed
    # AND once accepted, the next run books it, once
    assert run_cli("orders", LINK, "accept", order_id) == 0
    assert "accepted" in capsys.readouterr().out
    poll_orders()
    poll_orders()
    assert len(books.sales_orders()) == 1
    # an order koppel holds no waiting copy of is refused in words, and nothing else happens
    assert run_cli("orders", LINK, "accept", "no-such-order") == 2
    assert "no order waiting" in capsys.readouterr().err


# --- products and stock out --------------------------------------------------------------------------
def test_a_snelstart_price_change_reaches_the_webshop(books, aws_calls):
    product_sync.lambda_handler(schedule_event(), SYNC())
    books.snelstart.set_price("MUG-1", "16.95")
    aws_calls.clear()

    answer = product_sync.lambda_handler(schedule_event(), SYNC())

    assert books.shop.price("MUG-1") == Decimal("16.95")
    assert "synced 1" in answer["done"][LINK]
    assert_allowed("ProductSyncFunction", aws_calls)


def test_a_new_snelstart_article_is_created_in_the_webshop_only_when_the_link_says_so(books):
    books.snelstart.add_article("VASE-1", "Glass vase", "24.50", technical=5)

    product_sync.lambda_handler(schedule_event(), SYNC())
    assert not books.shop.has_product("VASE-1")  # matched by SKU only

    link(products={"create_missing": True})
    product_sync.lambda_handler(schedule_event() | {"detail": {"link_id": LINK}}, SYNC())
    assert books.shop.has_product("VASE-1") and books.shop.price("VASE-1") == Decimal("24.50")


@pytest.mark.parametrize(("basis", "expected"), [("technical", 12), ("free", 9)])
def test_snelstart_stock_reaches_the_webshop_as_technical_or_free_stock(books, stack, context, basis, expected):
    # GIVEN 12 mugs on the shelf, 3 of them promised to open sales orders (free: 9)
    link(stock={"basis": basis})
    stock_poller.lambda_handler(schedule_event(), STOCK_POLLER())  # the first poll reads every level
    books.snelstart.set_stock("MUG-1", 12, 9)

    stock_poller.lambda_handler(schedule_event(), STOCK_POLLER())
    push(stack, context)

    assert books.shop.quantity("MUG-1") == expected


def test_switching_a_link_from_free_to_technical_stock_reaches_the_webshop_on_the_next_reconciliation(
    books, stack, context
):
    link(stock={"basis": "free"})
    books.snelstart.set_stock("MUG-1", 12, 9)
    stock_poller.lambda_handler(schedule_event(), STOCK_POLLER())
    push(stack, context)
    assert books.shop.quantity("MUG-1") == 9

    # WHEN the merchant switches the link to technical stock, and nothing changes in SnelStart
    link(stock={"basis": "technical"})
    stock_reconciler.lambda_handler(schedule_event(), RECONCILER())
    push(stack, context)

    # THEN the webshop sells every unit on the shelf
    assert books.shop.quantity("MUG-1") == 12


# --- schedules ----------------------------------------------------------------------------------
def test_a_link_on_a_twice_a_day_schedule_is_skipped_until_it_is_due(books):
    link(schedule={"orders": "cron(0 6,18 * * ? *)"})
    books.shop.place_order([Line("TEA-1", 1, "6.50")], Buyer("d@example.nl"))
    first = poll_orders()  # never ran: due at once
    books.shop.place_order([Line("TEA-1", 1, "6.50")], Buyer("e@example.nl"))

    second = poll_orders()

    assert LINK in first["done"] and LINK in second["not_due"]
    assert len(books.sales_orders()) == 1  # the second order waits for 06:00 or 18:00


# --- Magento's own: attributes and open amounts -------------------------------------------------------
@MAGENTO_ONLY
def test_a_mapped_snelstart_field_reaches_a_magento_attribute(books):
    link(products={"attributes": {"Merk": "brand"}})

    product_sync.lambda_handler(schedule_event(), SYNC())

    assert books.shop.app.attribute("MUG-1", "brand") == "Koppel"


@MAGENTO_ONLY
def test_open_amounts_reach_the_customers_magento_account(books):
    link(
        flows={"orders": False, "tracking": False, "stock": False, "products": False, "balances": True},
        balances={"attribute": "open_amount"},
    )
    anna = books.snelstart.add_relatie("Anna de Vries", email=ANNA.email, postcode="1016 GV")
    books.snelstart.add_invoice(anna, "120.00", open_amount="45.50")
    books.shop.app.add_customer(ANNA.email, "Anna", "de Vries")

    answer = product_sync.lambda_handler(schedule_event(), SYNC())

    assert books.shop.app.customer_attribute(ANNA.email, "open_amount") == "45.50"
    assert "wrote 1" in answer["balances"]["done"][LINK]
    # AND a run with nothing changed writes nothing again
    again = product_sync.lambda_handler(schedule_event(), SYNC())
    assert "wrote 0" in again["balances"]["done"][LINK] and "1 unchanged" in again["balances"]["done"][LINK]
