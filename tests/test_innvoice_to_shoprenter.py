"""InnVoice's products and stock uploaded to a Shoprenter webshop: prices from the chosen selling price
group, promo prices from the promo group, excluded product groups left alone, stock summed over the
chosen warehouses, and all of it at once when the link is saved (not at the next schedule).

Through `koppel link put`, the stock reconciler, the stock pusher and the product sync, with InnVoice
and Shoprenter as simulators on 127.0.0.1 and the stack in moto.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import product_sync
import pytest
import stock_pusher
import stock_reconciler
from helpers import Invocation, serve
from scenarios import schedule_event, sqs_event
from test_cli import run_cli
from werkzeug.wrappers import Request, Response

from koppel import wiring
from koppel_local.runtime import LambdaContext
from koppel_local.simulators.innvoice import DEMO_PASSWORD, DEMO_REG, DEMO_USER, InnVoiceSimulator
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.shoprenter import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SHOP,
    ShoprenterSimulator,
    load_contract,
)

LINK = "innvoice-to-shoprenter"
HANDLERS = {
    "StockReconcilerFunction": stock_reconciler.lambda_handler,
    "ProductSyncFunction": product_sync.lambda_handler,
}
SYNC = Invocation(function_name="ProductSyncFunction", timeout=300)
PUSHER = Invocation(function_name="StockPusherFunction", timeout=120)


def fire_app(fired: list[str]):
    """The local runtime's `/_local/fire/<function>` route, running the function in this process."""

    def app(environ, start_response):
        request = Request(environ)
        name = request.path.rsplit("/", 1)[-1]
        detail = json.loads(request.get_data() or b"{}")
        fired.append(f"{name}:{detail.get('link_id')}")
        result = HANDLERS[name]({"detail": detail}, LambdaContext(function_name=name, timeout=300))
        return Response(json.dumps(result, default=str), content_type="application/json")(environ, start_response)

    return app


@pytest.fixture
def upload(stack, local_state, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")  # the push is taken at once, not 2 s later
    wiring.reset()
    innvoice = InnVoiceSimulator()
    innvoice.add_product("BOGRE-1", "Kerámia bögre", prices=[("3990", True), ("2990", True)], stock={1: 4, 2: 3})
    innvoice.add_product("POLO-L", "Póló L", prices=[("6350", True)], stock={1: 10}, group="Ruházat")
    innvoice.add_product("JAVITAS", "Javítás", prices=[("5000", True)], stock={2: 1}, group="Szerviz")
    shop = ShoprenterSimulator(contract=contract_or_skip(load_contract), now=datetime.now(UTC))
    for sku, gross in (("BOGRE-1", "3500"), ("POLO-L", "6000"), ("JAVITAS", "4000")):
        shop.add_product(sku, sku, gross=gross, stock={"stock1": 0})
    innvoice_url, innvoice_server = serve(innvoice)
    shop_url, shop_server = serve(shop)
    api_base_url, token_url = shop.serve_at(shop_url)
    fired: list[str] = []
    fire_url, fire_server = serve(fire_app(fired))
    state = json.loads(local_state_path().read_text())
    local_state_path().write_text(json.dumps(state | {"http_url": fire_url}))
    stack.add_account(
        "invoices",
        "innvoice",
        {"user": DEMO_USER, "password": DEMO_PASSWORD},
        settings={"reg_name": DEMO_REG, "base_url": innvoice_url},
    )
    stack.add_account(
        "shoprenter-main",
        "shoprenter",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"shop_name": DEMO_SHOP, "api_base_url": api_base_url, "token_url": token_url},
    )
    yield innvoice, shop, fired
    for server in (innvoice_server, shop_server, fire_server):
        server.shutdown()
    assert innvoice.violations == [], "koppel sent InnVoice a request off its documented shape"
    assert shop.violations == [], "koppel sent Shoprenter a request off its documented shape"


def local_state_path():
    import os
    from pathlib import Path

    return Path(os.environ["KOPPEL_LOCAL_STATE"])


def put_link(*settings: str) -> int:
    return run_cli(
        "link", "put", LINK, "backoffice=invoices", "channel=shoprenter-main", "flows.orders=false",
        "flows.tracking=false", "flows.returns=false", "flows.products=true", *settings,
    )  # fmt: skip


def push(stack) -> None:
    queued = [m["Body"] for m in stack.queued("StockPushQueue")]
    if queued:
        stock_pusher.lambda_handler(sqs_event(*queued), PUSHER())


def test_saving_the_link_uploads_prices_and_the_stock_of_the_chosen_warehouses_at_once(upload, stack, capsys):
    _innvoice, shop, fired = upload

    # WHEN the merchant saves the link: warehouses 1 and 2 summed, price group 1, promo group 2, the
    # service group excluded
    assert put_link(
        'stock.warehouses=["1","2"]', "backoffice_settings.promo_price_group=2", 'products.excluded_groups=["Szerviz"]'
    ) == 0  # fmt: skip
    push(stack)  # the push queue's consumer, as SQS starts it at once

    # THEN the stock reconciliation and the product sync ran for this link, there and then
    assert sorted(fired) == [f"ProductSyncFunction:{LINK}", f"StockReconcilerFunction:{LINK}"]
    assert "take effect now" in capsys.readouterr().out
    assert (shop.stock("BOGRE-1"), shop.stock("POLO-L")) == (7, 10)
    assert shop.gross_price("BOGRE-1") == Decimal("3990.00")
    assert shop.sale_price("BOGRE-1") == Decimal("2990.00")  # InnVoice's promo price group, as a special
    assert shop.gross_price("POLO-L") == Decimal("6350.00")
    assert shop.sale_price("POLO-L") is None
    assert shop.gross_price("JAVITAS") == Decimal("4000.00")  # its group is excluded: left as it was


def test_a_price_changed_in_innvoice_reaches_shoprenter_with_the_next_sync(upload, stack, capsys):
    innvoice, shop, fired = upload
    assert put_link("flows.stock=false", "--later") == 0
    assert fired == []  # --later: nothing started
    product_sync.lambda_handler(schedule_event(), SYNC())
    assert shop.gross_price("BOGRE-1") == Decimal("3990.00")

    innvoice.set_price("BOGRE-1", 1, "4290")
    product_sync.lambda_handler(schedule_event(), SYNC())

    assert shop.gross_price("BOGRE-1") == Decimal("4290.00")


def test_switching_the_stock_tab_off_stops_the_upload_without_deleting_the_link(upload, stack, capsys):
    innvoice, shop, _fired = upload
    assert put_link("flows.products=false") == 0
    push(stack)
    assert shop.stock("BOGRE-1") == 7

    assert run_cli("link", "off", LINK, "stock") == 0
    innvoice.set_stock("BOGRE-1", 1, 0)
    stock_reconciler.lambda_handler(
        schedule_event(), LambdaContext(function_name="StockReconcilerFunction", timeout=300)
    )
    push(stack)

    assert shop.stock("BOGRE-1") == 7  # nothing more uploaded
    assert wiring.config_store().get_link(LINK).flows.stock is False


def test_a_links_own_channel_setting_reaches_the_stock_push(upload, stack, capsys):
    _innvoice, shop, _fired = upload
    # the shop's account writes stock1; this link writes its stock into the shop's second warehouse
    assert put_link("flows.products=false", "channel_settings.stock_field=stock2") == 0
    push(stack)
    assert (shop.stock("BOGRE-1", "stock2"), shop.stock("BOGRE-1", "stock1")) == (7, 0)
