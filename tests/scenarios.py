"""Scenario fixtures shared by the test modules (registered in conftest.py as a plugin).

- `shop`: a Shopify account whose webhooks koppel verifies;
- `pos_link`: a KORONA POS (backoffice) linked to Winkelstraat.nl, for stock;
- `feed_link`: the same with the feed on and stock levels held;
- `world`: bol.com with three open orders, a Shopify store, the link between them (simulators
  in-process); `served`: the same simulators over 127.0.0.1, as the deployed poller reaches them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from helpers import EVENTS, WEBHOOK_SECRET
from werkzeug.serving import make_server

from koppel import wiring
from koppel.config import Link
from koppel.connectors.bol import connector as bol
from koppel.connectors.http import Clock
from koppel.connectors.shopify import connector as shopify
from koppel.flows.orders import OrderImport
from koppel.flows.stock import accept_levels
from koppel.flows.tracking import TrackingRun
from koppel.models import WarehouseStock
from koppel.ports.stock import IncomingLevel
from koppel.store.orders import DynamoOrderLinks
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem
from koppel_local.simulators.shopify import ShopifySimulator, load_schema

MUG, TEA, TEAPOT = "8712345000017", "8712345000024", "8712345000031"


@pytest.fixture(scope="session")
def schema():
    return load_schema()


@dataclass
class World:
    """bol.com with open orders, a Shopify store, and the link between them, all on this machine."""

    stack: object
    bol: BolSimulator
    shop: ShopifySimulator
    link_id: str = "bol-to-shop"
    now: list[float] = field(default_factory=lambda: [1_800_000_000.0])
    shop_offset: list[float] = field(default_factory=lambda: [0.0])  # moves Shopify's clock ahead

    def link(self) -> Link:
        return wiring.config_store().get_link(self.link_id)

    def bol_connector(self) -> bol.BolConnector:
        return bol.from_account(
            wiring.config_store().get_account("bol-nl"),
            {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
            httpx.Client(transport=httpx.WSGITransport(app=self.bol)),
            clock=Clock(sleep=lambda _s: None),
        )

    def shopify_connector(self) -> shopify.ShopifyConnector:
        return shopify.from_account(
            wiring.config_store().get_account("shop-main"),
            {"access_token": self.shop.access_token},
            httpx.Client(transport=httpx.WSGITransport(app=self.shop)),
            clock=Clock(sleep=lambda _s: None),
        )

    def tracking(self, **overrides) -> TrackingRun:
        channel = self.bol_connector()
        fields = dict(
            link=self.link(),
            backoffice=self.shopify_connector(),
            channel=channel,
            source=channel,
            cancellations=channel,
            orders=DynamoOrderLinks(wiring.table(), clock=lambda: self.now[0]),
            now=datetime.fromtimestamp(self.now[0], UTC),
        )
        return TrackingRun(**(fields | overrides))

    def flow(self, run_id: str, **overrides) -> OrderImport:
        source = self.bol_connector()
        fields = dict(
            link=self.link(),
            source=source,
            channel="bol",
            cancellations=source,
            sink=self.shopify_connector(),
            orders=DynamoOrderLinks(wiring.table(), clock=lambda: self.now[0]),
            mappings=wiring.sku_mappings(),
            cursors=wiring.cursors(),
            run_id=run_id,
        )
        return OrderImport(**(fields | overrides))

    def shopify_orders_for(self, bol_order_id: str) -> list[dict]:
        return [o for o in self.shop.orders if o.get("sourceIdentifier") == bol_order_id]


@pytest.fixture
def world(stack, schema):
    # Rate limits are the connectors' own tests' subject; here they would only make the flow wait.
    bol_sim = BolSimulator(sleep=lambda _s: None, rate_limit=RateLimit(10_000, 1.0))
    shop_offset = [0.0]
    shop_sim = ShopifySimulator(
        schema=schema, bucket_size=100_000, restore_rate=10_000, clock=lambda: time.monotonic() + shop_offset[0]
    )
    shop_sim.add_variant("MUG-BLUE-350", barcode=MUG, title="Stoneware mug, blue", price="14.95", inventory=10)
    shop_sim.add_variant("TEA-ROOIBOS", barcode=TEA, title="Rooibos tea 100 g", price="6.49", inventory=25)
    stack.add_account(
        "bol-nl",
        "bol",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"base_url": "http://bol.sim", "token_url": "http://bol.sim/token"},
    )
    stack.add_account(
        "shop-main",
        "shopify",
        {"access_token": shop_sim.access_token},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": "http://shop.sim"},
    )
    wiring.config_store().put_link(Link(link_id="bol-to-shop", backoffice="shop-main", channel="bol-nl"))
    bol_sim.add_order(
        "1100000001",
        [SimItem(ean=MUG, title="Stoneware mug, blue", unit_price="14.95", quantity=2)],
        shipment_details={
            "salutation": "FEMALE",
            "firstName": "Anouk",
            "surname": "Smit",
            "streetName": "Lindengracht",
            "houseNumber": "12",
            "houseNumberExtension": "B",
            "zipCode": "2011 AB",
            "city": "Haarlem",
            "countryCode": "NL",
            "email": "anouk.smit@example.nl",
            "language": "nl",
        },
    )
    bol_sim.add_dutch_order("1100000002", items=[SimItem(ean=TEA, title="Rooibos tea 100 g", unit_price="6.49")])
    bol_sim.add_dutch_order("1100000003", items=[SimItem(ean=TEAPOT, title="Teapot, cast iron", unit_price="39.00")])
    yield World(stack, bol_sim, shop_sim, shop_offset=shop_offset)
    assert bol_sim.violations == [], "koppel sent bol.com a request its spec refuses"
    assert shop_sim.violations == [], "koppel sent Shopify a document its schema refuses"


# --- through the handler, over 127.0.0.1, as in the cloud ---------------------------------------
@pytest.fixture
def served(world):
    servers = []
    urls = {}
    for name, app in (("bol", world.bol), ("shop", world.shop)):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_port}"
    store = wiring.config_store()
    for account_id, settings in (
        ("bol-nl", {"base_url": urls["bol"], "token_url": urls["bol"] + "/token"}),
        ("shop-main", {"base_url": urls["shop"]}),
    ):
        account = store.get_account(account_id)
        store.put_account(account.model_copy(update={"settings": account.settings | settings}))
    yield world
    for server in servers:
        server.shutdown()


@pytest.fixture
def pos_link(stack):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    stack.add_account("winkelstraat", "winkelstraat", {"api_key": "k"})
    wiring.config_store().put_link(Link(link_id="pos-to-ws", backoffice="korona-pos", channel="winkelstraat"))
    return stack


def envelope(
    levels: list[dict], event_id: str | None = None, topic: str = "stock.changed", account: str = "korona-pos"
) -> dict:
    event_id = event_id or str(uuid.uuid4())
    return {
        "account_id": account,
        "system": {"korona-pos": "korona", "winkelstraat": "winkelstraat"}[account],
        "topic": topic,
        "event_id": event_id,
        "dedupe_key": f"{account}:koppel:{event_id}",
        "received_at": "2026-11-21T13:05:00Z",
        "body": json.dumps({"levels": levels}),
    }


def sqs_event(*bodies: dict | str) -> dict:
    template = json.loads((EVENTS / "sqs_stock_changed.json").read_text())["Records"][0]
    return {
        "Records": [
            template | {"messageId": str(uuid.uuid4()), "body": body if isinstance(body, str) else json.dumps(body)}
            for body in bodies
        ]
    }


def level(sku: str, quantity: int, at: str) -> dict:
    return {"sku": sku, "quantity": quantity, "observed_at": at}


@pytest.fixture
def feed_link(stack):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    stack.add_account("winkelstraat", "winkelstraat", {"api_key": "k"})
    link = Link(
        link_id="korona-to-winkelstraat",
        backoffice="korona-pos",
        channel="winkelstraat",
        flows={"feed": True},
        stock={"buffer": 1},
        # The POS only pushes its stock: a feed of SKUs and quantities is all koppel can write for it.
        feed={"format": "json"},
    )
    wiring.config_store().put_link(link)
    at = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    held = [
        WarehouseStock(sku="TEA-ROOIBOS-100", on_hand=0, observed_at=at),
        WarehouseStock(sku="MUG-BLUE-350", on_hand=7, observed_at=at),
    ]
    accept_levels(link, [IncomingLevel.of(level) for level in held], wiring.stock_store())
    return stack


def schedule_event() -> dict:
    return json.loads((EVENTS / "schedule.json").read_text())


def feed_request(token: str) -> dict:
    event = json.loads((EVENTS / "feed_request.json").read_text())
    event["queryStringParameters"] = {"token": token}
    event["rawQueryString"] = f"token={token}"
    return event


@pytest.fixture
def shop(stack):
    stack.add_account(
        "shop-main", "shopify", {"webhook_secret": WEBHOOK_SECRET}, settings={"shop_domain": "demo-shop.myshopify.com"}
    )
    return stack
