"""KORONA stock to every channel without webhooks (flow 4): the minute poll reads what changed by
revision and the coalesced pusher takes it to bol.com and the Shopify webshop.

Through the deployed handlers: the stock poller on its schedule, the stock pusher on its queue,
KORONA, bol.com and Shopify as simulators on 127.0.0.1 (each checked against its published spec).
"""

from __future__ import annotations

import pytest
import stock_poller
import stock_pusher
import stock_reconciler
from helpers import Invocation, assert_allowed, serve
from scenarios import schedule_event, sqs_event

from koppel import wiring
from koppel.config import Link
from koppel.flows.schedule import ScheduledRunFailed
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.korona import DEMO_PASSWORD, DEMO_USER, KoronaSimulator, load_contract
from koppel_local.simulators.shopify import ShopifySimulator

MUG_EAN = "8712345000017"
POLLER = Invocation(function_name="StockPollerFunction", timeout=50)


class Shops:
    def __init__(self, till: KoronaSimulator, store: str, bol: BolSimulator, shop: ShopifySimulator) -> None:
        self.till, self.store, self.bol, self.shop = till, store, bol, shop

    def selling(self, sku: str) -> tuple[int | None, int | None]:
        """What bol.com and the webshop sell of a SKU now."""
        offer = {"MUG-1": "offer-mug", "TEA-1": "offer-tea"}[sku]
        return self.bol.offer_stock(offer), self.shop.inventory(sku)


@pytest.fixture
def shops(stack, schema, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")
    wiring.reset()
    till = KoronaSimulator(contract=contract_or_skip(load_contract))
    store = till.add_unit("Store Utrecht")
    till.add_unit("Office", warehouse=False)
    till.add_product("MUG-1", "Stoneware mug", codes=[MUG_EAN])
    till.add_product("TEA-1", "Rooibos tea")
    till.set_stock("MUG-1", store, 6)
    till.set_stock("TEA-1", store, 20)
    bol = BolSimulator(rate_limit=RateLimit(10_000, 1.0))
    bol.add_offer("offer-mug", MUG_EAN, reference="MUG-1", stock=0)
    bol.add_offer("offer-tea", "8712345000024", reference="TEA-1", stock=0)
    shop = ShopifySimulator(schema=schema, bucket_size=100_000, restore_rate=10_000)
    shop.add_variant("MUG-1", barcode=MUG_EAN, title="Stoneware mug", price="14.95", inventory=0)
    shop.add_variant("TEA-1", title="Rooibos tea", price="6.49", inventory=0)
    servers = []
    urls = {}
    for name, app in (("korona", till), ("bol", bol), ("shop", shop)):
        urls[name], server = serve(app)
        servers.append(server)
    stack.add_account(
        "till",
        "korona",
        {"user": DEMO_USER, "password": DEMO_PASSWORD},
        settings={"account_id": till.account_id, "base_url": urls["korona"] + "/web/api/v3", "price_group": ""},
    )
    stack.add_account(
        "bol-nl",
        "bol",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"base_url": urls["bol"], "token_url": urls["bol"] + "/token"},
    )
    stack.add_account(
        "webshop",
        "shopify",
        {"access_token": shop.access_token},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": urls["shop"]},
    )
    for link_id, channel in (("till-to-bol", "bol-nl"), ("till-to-shop", "webshop")):
        wiring.config_store().put_link(
            Link(link_id=link_id, backoffice="till", channel=channel, flows={"orders": False, "tracking": False})
        )
    yield Shops(till, store, bol, shop)
    for server in servers:
        server.shutdown()
    assert till.violations == [], "koppel sent KORONA a request its spec refuses"
    assert bol.violations == [], "koppel sent bol.com a request its spec refuses"
    assert shop.violations == [], "koppel sent Shopify a document its schema refuses"


def poll() -> dict:
    return stock_poller.lambda_handler(schedule_event(), POLLER())


def push(stack, context) -> dict:
    messages = stack.queued("StockPushQueue")
    return stock_pusher.lambda_handler(sqs_event(*[m["Body"] for m in messages]), context)


def test_a_till_sale_reaches_bol_and_the_webshop_after_one_poll_and_one_push(stack, shops, context):
    # GIVEN the first poll has brought KORONA's stock to both channels
    poll()
    push(stack, context)
    assert shops.selling("MUG-1") == (6, 6)

    # WHEN two mugs are sold at the till, and the minute poll and the pusher run
    shops.till.sell("MUG-1", shops.store, 2)
    answer = poll()
    push(stack, context)

    # THEN bol.com and the webshop both sell 4; the tea, unchanged, was not read or sent again
    assert shops.selling("MUG-1") == (4, 4)
    assert shops.selling("TEA-1") == (20, 20)
    assert "MUG-1=4" in answer["done"]["till-to-bol"] and "TEA-1" not in answer["done"]["till-to-bol"]
    activity = [entry.message for entry in wiring.activity_log().recent("till-to-shop", 20)]
    assert any("1 changed level(s) read" in summary for summary in activity)


def test_a_quiet_minute_asks_korona_once_per_warehouse_and_logs_nothing(stack, shops, context):
    poll()
    push(stack, context)
    before_calls = len(shops.till.calls("unit-stocks"))
    before_log = len(wiring.activity_log().recent("till-to-shop", 100))

    answer = poll()

    assert answer["done"] == {"till-to-bol": "nothing to do", "till-to-shop": "nothing to do"}
    assert len(shops.till.calls("unit-stocks")) - before_calls == 2  # one per link, the office has no warehouse
    assert {call.status for call in shops.till.calls("unit-stocks")[before_calls:]} == {204}
    assert len(wiring.activity_log().recent("till-to-shop", 100)) == before_log
    assert stack.queued("StockPushQueue") == []


def test_a_poll_killed_before_it_kept_its_cursor_changes_nothing_when_read_again(stack, shops, context, monkeypatch):
    poll()
    push(stack, context)
    shops.till.sell("MUG-1", shops.store, 1)
    store = wiring.stock_store()

    # GIVEN a poll that merged the sale but died before keeping its cursor
    def killed(link_id: str, cursor: str) -> None:
        raise RuntimeError("the run was killed")

    monkeypatch.setattr(type(store), "set_changes_cursor", killed)
    with pytest.raises(ScheduledRunFailed):
        poll()
    monkeypatch.undo()
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")

    # WHEN the next minute's poll reads the same change again
    poll()
    push(stack, context)

    # THEN each channel sells what the till has, and heard of it once
    assert shops.selling("MUG-1") == (5, 5)
    record = wiring.stock_store().get("till-to-shop", "MUG-1")
    assert record.pending is False and record.pushed == 5


def test_an_older_full_read_never_sets_a_polled_sale_back(stack, shops, context, monkeypatch):
    # GIVEN the reconciliation's full read started before a sale and is answered after the poll took it
    from koppel.connectors.korona.stock import KoronaStockSource

    poll()
    push(stack, context)
    before = KoronaStockSource.stock_page

    sold = []

    def slow_read(self, cursor):
        page = before(self, cursor)  # the stock as it was ...
        if not sold:
            sold.append(shops.till.sell("MUG-1", shops.store, 3))  # ... then a sale at the till ...
            poll()  # ... which the minute poll takes first
        return page

    monkeypatch.setattr(KoronaStockSource, "stock_page", slow_read)
    stock_reconciler.lambda_handler(schedule_event(), context)
    monkeypatch.undo()
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")
    push(stack, context)

    # THEN the older read (a lower revision) is ignored: the channels sell 3, not the 6 it saw
    assert shops.selling("MUG-1") == (3, 3)


def test_a_link_that_switched_polling_off_reads_nothing(stack, shops, context):
    link = wiring.config_store().get_link("till-to-shop")
    wiring.config_store().put_link(
        link.model_copy(update={"stock": link.stock.model_copy(update={"poll_changes": False})})
    )

    poll()
    push(stack, context)

    assert shops.shop.inventory("MUG-1") == 0  # the webshop waits for the 20-minute reconciliation
    assert shops.bol.offer_stock("offer-mug") == 6


def test_korona_failing_fails_the_run_and_the_next_poll_catches_up(stack, shops, context):
    poll()
    push(stack, context)
    shops.till.sell("TEA-1", shops.store, 5)
    shops.till.fail_next(2, 400, group="unit-stocks")  # refused outright: no backoff to wait out here

    with pytest.raises(ScheduledRunFailed):
        poll()  # reaches the failed-run queue and its alarm in the cloud
    failures = [entry for entry in wiring.activity_log().recent("till-to-bol", 20) if entry.kind == "stock.failed"]
    assert failures and "korona" in failures[0].message.lower()

    shops.till.faults.clear()
    poll()
    push(stack, context)
    assert shops.selling("TEA-1") == (15, 15)


def test_the_daily_limit_pauses_the_poll_until_it_renews(stack, shops, context):
    poll()
    push(stack, context)
    shops.till.fail_next(1, 429, group="unit-stocks", code="DAILY_LIMIT_EXCEEDED")

    with pytest.raises(ScheduledRunFailed):
        poll()  # the first link meets the limit: the run fails, and the account is paused
    asked = len(shops.till.calls("unit-stocks"))
    answer = poll()

    # THEN while the pause lasts KORONA is asked nothing, and the pause is in the activity log once
    assert len(shops.till.calls("unit-stocks")) == asked
    assert set(answer["done"].values()) == {"nothing to do"}
    kinds = [entry.kind for link in ("till-to-bol", "till-to-shop") for entry in wiring.activity_log().recent(link)]
    assert kinds.count("backoffice.paused") == 1


def test_the_stock_poller_needs_only_its_own_policy(stack, shops, context, aws_calls):
    wiring.reset()
    aws_calls.clear()
    poll()
    assert_allowed("StockPollerFunction", aws_calls)
    assert stack.queued("StockPushQueue")
