"""StoreKeeper → Winkelstraat.nl through Copernicus, as a merchant sets it up and Copernicus uses it.

The merchant connects the koppel app in StoreKeeper with the hook token koppel gives them; StoreKeeper's
`init` hook hands over its API key, which lands in the account's secret and nowhere else. Copernicus
fetches the nightly feed (the products published on the Winkelstraat sales channel, with their titles
and prices), takes every stock mutation by koppel's signed webhook at once, and posts Winkelstraat's
orders to koppel's partner route, which books each in StoreKeeper once as a paid administrative order.

The handlers run in-process against the stack in moto; StoreKeeper and Copernicus are simulators on
127.0.0.1, and a small HTTP front stands in for API Gateway (and for S3's presigned GET of the feed), so
both simulators talk HTTP to koppel's real handlers.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import feed_generator
import feed_url
import pytest
import queue_worker
import stock_pusher
import webhook_receiver
from helpers import Invocation, serve
from scenarios import feed_request, schedule_event, sqs_event
from test_cli import run_cli
from werkzeug.wrappers import Request, Response

from koppel import wiring
from koppel.flows import configure
from koppel.flows.feed import feed_token
from koppel_local.simulators.copernicus import CopernicusSimulator, sample_order
from koppel_local.simulators.storekeeper import StoreKeeperSimulator

LINK = "storekeeper-to-winkelstraat"
SIGNING_SECRET = "koppel-signs-stock-for-copernicus"
ORDER_SECRET = "copernicus-signs-its-orders"
RECEIVER = Invocation(function_name="WebhookReceiverFunction", timeout=10)
WORKER = Invocation(function_name="QueueWorkerFunction", timeout=60)
PUSHER = Invocation(function_name="StockPusherFunction", timeout=120)
FEED = Invocation(function_name="FeedGeneratorFunction", timeout=900)
API_EVENT = Path(__file__).resolve().parents[1] / "events" / "webhook_shopify_orders_create.json"


def api_gateway(stack):
    """koppel's HTTP API in front of the handlers, as API Gateway calls them (payload v2); a feed's
    presigned redirect is followed to the object in the bucket, as S3 would answer it."""

    def app(environ, start_response):
        request = Request(environ)
        path = request.path
        if request.method == "GET" and path.startswith("/feeds/"):
            link_id = path.rsplit("/", 1)[-1]
            event = feed_request(request.args.get("token", ""))
            event["rawPath"] = event["requestContext"]["http"]["path"] = path
            event["pathParameters"] = {"link_id": link_id}
            answer = feed_url.lambda_handler(event, FEED())
            if answer["statusCode"] != 302:
                return Response(answer["body"], status=answer["statusCode"])(environ, start_response)
            key = "feeds/" + urlparse(answer["headers"]["Location"]).path.split("/feeds/", 1)[1]
            body = stack.client("s3").get_object(Bucket=stack.ref("FeedBucket"), Key=key)["Body"].read()
            return Response(body, content_type="text/plain")(environ, start_response)
        event = json.loads(API_EVENT.read_text())
        parts = path.strip("/").split("/")
        if parts[0] == "partners":
            route, params = "POST /partners/{account_id}/orders", {"account_id": parts[1]}
        else:
            route = "POST /webhooks/{account_id}" + ("/{url_secret}" if len(parts) > 2 else "")
            params = {"account_id": parts[1], **({"url_secret": parts[2]} if len(parts) > 2 else {})}
        event |= {
            "rawPath": path,
            "routeKey": route,
            "pathParameters": params,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": request.get_data().decode("utf-8", "surrogateescape"),
        }
        event["requestContext"]["http"]["path"] = path
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        answer = webhook_receiver.lambda_handler(event, RECEIVER())
        return Response(answer["body"], status=answer["statusCode"], content_type="application/json")(
            environ, start_response
        )

    return app


@pytest.fixture
def hub(stack, local_state, monkeypatch, capsys):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")  # a mutation is pushed at once, not 2 s later
    wiring.reset()
    storekeeper = StoreKeeperSimulator()
    storekeeper.add_product("MUG-DELFT", "Mok Delfts blauw", price="12.95", stock=8, ean="8712345678906")
    storekeeper.add_product("LAMP-RAN", "Hanglamp rotan", price="89.00", sale="74.50", stock=3, category="Wonen")
    storekeeper.add_product("TEA-ROOIBOS", "Rooibos thee", price="4.50", stock=20, published=False)
    storekeeper_url, storekeeper_server = serve(storekeeper)
    storekeeper.serve_at(storekeeper_url)
    copernicus = CopernicusSimulator(secret=SIGNING_SECRET)
    copernicus_url, copernicus_server = serve(copernicus)
    api_url, api_server = serve(api_gateway(stack))
    # The merchant's set-up: an account with no API key yet (StoreKeeper brings it), the partner's account
    stack.add_account("storekeeper-main", "storekeeper", {}, settings={"shop_url": "https://shop.example.nl"})
    stack.add_account(
        "winkelstraat",
        "winkelstraat",
        {"signing_secret": SIGNING_SECRET, "webhook_secret": ORDER_SECRET},
        settings={"stock_url": f"{copernicus_url}/stock"},
    )
    configure.save_link(
        wiring.config_store(),
        {
            "link_id": LINK,
            "backoffice": "storekeeper-main",
            "channel": "winkelstraat",
            "flows": {"orders": True, "stock": True, "feed": True, "tracking": False, "returns": False},
        },
    )
    # koppel gives the merchant the hook address and token to enter in StoreKeeper's app settings
    assert run_cli("account", "webhook-url", "storekeeper-main") == 0
    printed = capsys.readouterr().out
    token = re.search(r"UpxHookToken: (\S+)", printed).group(1)
    hook_url = f"{api_url}/webhooks/storekeeper-main"
    yield storekeeper, copernicus, api_url, hook_url, token
    for server in (storekeeper_server, copernicus_server, api_server):
        server.shutdown()
    assert storekeeper.violations == [], "koppel sent StoreKeeper a call off its documented shape"


def secret_of(stack, account_id: str) -> dict:
    return json.loads(stack.client("secretsmanager").get_secret_value(SecretId=f"koppel/{account_id}")["SecretString"])


def work(stack) -> None:
    """The queue worker over what the receiver queued, then the stock pusher over what that asked."""
    queued = [message["Body"] for message in stack.queued()]
    if queued:
        assert queue_worker.lambda_handler(sqs_event(*queued), WORKER())["batchItemFailures"] == []
    pushes = [message["Body"] for message in stack.queued("StockPushQueue")]
    if pushes:
        stock_pusher.lambda_handler(sqs_event(*pushes), PUSHER())


def connect(hub) -> None:
    storekeeper, _copernicus, _api, hook_url, token = hub
    answer = storekeeper.send_hook(hook_url, token, "init")
    assert answer.status_code == 200 and answer.json()["success"] is True


def nightly_feed(stack, copernicus: CopernicusSimulator, api_url: str):
    feed_generator.lambda_handler(schedule_event(), FEED())
    token = feed_token(wiring.feed_signing_key(), LINK)
    return copernicus.fetch_feed(f"{api_url}/feeds/{LINK}?token={token}")


# --- connecting the app ------------------------------------------------------------------------
def test_connecting_the_app_stores_the_api_key_in_the_account_secret_and_nowhere_else(hub, stack, capsys):
    storekeeper, _copernicus, _api, hook_url, token = hub
    # WHEN StoreKeeper's init hook arrives with a wrong token, THEN 401 and nothing is kept
    refused = storekeeper.send_hook(hook_url, "not-the-token", "init")
    assert refused.status_code == 401
    assert "api_key" not in secret_of(stack, "storekeeper-main")
    # WHEN it arrives with the token koppel gave the merchant
    answer = storekeeper.send_hook(hook_url, token, "init")
    # THEN StoreKeeper is told it worked, and the API key is in the account's secret
    assert answer.status_code == 200 and answer.json() | {"event_id": ""} == {
        "success": True,
        "status": "installed",
        "event_id": "",
        "message": "credentials stored",
    }
    stored = secret_of(stack, "storekeeper-main")
    assert stored["api_key"] == storekeeper.apikey and stored["webhook_secret"] == token
    # AND nothing of it was queued, put in the table or logged
    assert stack.queued() == []
    items = stack.client("dynamodb").scan(TableName=stack.ref("KoppelTable"))["Items"]
    assert storekeeper.apikey not in json.dumps(items)
    assert storekeeper.apikey not in capsys.readouterr().out
    # AND disconnecting the app takes the key back, the hook token stays
    assert storekeeper.send_hook(hook_url, token, "disconnect").status_code == 200
    assert "api_key" not in secret_of(stack, "storekeeper-main")
    assert secret_of(stack, "storekeeper-main")["webhook_secret"] == token


# --- the nightly feed ----------------------------------------------------------------------------
def test_the_first_feed_lists_the_published_products_with_titles_and_prices(hub, stack):
    _storekeeper, copernicus, api_url, _hook, _token = hub
    connect(hub)
    # WHEN the nightly feed is written and Copernicus fetches it
    read = nightly_feed(stack, copernicus, api_url)
    # THEN the products published on the Winkelstraat sales channel are listed whole; the unpublished one is absent
    assert (read.format, read.items, read.defects) == ("csv", 2, ())
    assert sorted(copernicus.catalogue) == ["LAMP-RAN", "MUG-DELFT"]
    assert copernicus.catalogue["MUG-DELFT"].title == "Mok Delfts blauw"
    assert copernicus.catalogue["MUG-DELFT"].price == "12.95 EUR"
    assert copernicus.catalogue["MUG-DELFT"].quantity == 8
    csv = stack.client("s3").get_object(Bucket=stack.ref("FeedBucket"), Key=f"feeds/{LINK}/latest.csv")["Body"]
    rows = csv.read().decode().splitlines()
    lamp = next(row for row in rows if row.startswith("LAMP-RAN,"))
    assert "89.00 EUR,74.50 EUR,3,in_stock" in lamp and "Wonen" in lamp  # the sale price and the category


def test_a_feed_before_the_app_is_connected_fails_visibly_and_writes_nothing(hub, stack):
    with pytest.raises(Exception, match="link"):
        feed_generator.lambda_handler(schedule_event(), FEED())
    assert "Contents" not in stack.client("s3").list_objects_v2(Bucket=stack.ref("FeedBucket"))
    reason = wiring.activity_log().recent(LINK)[0].message
    assert "StoreKeeper" in reason and "init" in reason


# --- realtime stock ----------------------------------------------------------------------------------
def test_a_stock_mutation_reaches_copernicus_at_once(hub, stack):
    storekeeper, copernicus, api_url, hook_url, token = hub
    connect(hub)
    nightly_feed(stack, copernicus, api_url)
    # WHEN a mug is sold in the shop and StoreKeeper's events hook names the product
    event = storekeeper.set_stock("MUG-DELFT", 5)
    assert storekeeper.send_hook(hook_url, token, "events", event).status_code == 200
    work(stack)
    # THEN Copernicus holds the new level, read from StoreKeeper's API (not from the hook's body)
    assert copernicus.stock["MUG-DELFT"] == 5
    # WHEN two more mutations' hooks arrive out of order, the later one first
    older = storekeeper.set_stock("MUG-DELFT", 4)
    newer = storekeeper.set_stock("MUG-DELFT", 2)
    for hook in (newer, older, event):  # and the first one re-sent
        assert storekeeper.send_hook(hook_url, token, "events", hook).status_code == 200
        work(stack)
    # THEN the level never goes back: each hook is read as StoreKeeper has it now
    assert copernicus.stock["MUG-DELFT"] == 2


def test_stock_of_a_product_copernicus_does_not_list_shows_as_not_on_the_channel(hub, stack, capsys):
    storekeeper, copernicus, api_url, hook_url, token = hub
    connect(hub)
    nightly_feed(stack, copernicus, api_url)
    # GIVEN a product published after the night's feed: Copernicus does not list it yet
    storekeeper.add_product("VAAS-GLAS", "Glazen vaas", price="24.00", stock=2)
    event = storekeeper.set_stock("VAAS-GLAS", 6)
    # WHEN its stock changes
    assert storekeeper.send_hook(hook_url, token, "events", event).status_code == 200
    work(stack)
    # THEN the partner's answer shows: koppel marks it not on the channel
    assert "VAAS-GLAS" not in copernicus.stock
    capsys.readouterr()
    assert run_cli("stock", LINK, "--json") == 0
    [record] = [row for row in json.loads(capsys.readouterr().out) if row["sku"] == "VAAS-GLAS"]
    assert "not on the channel" in json.dumps(record)


def test_an_unpublished_product_sends_no_stock_to_winkelstraat(hub, stack):
    storekeeper, copernicus, api_url, hook_url, token = hub
    connect(hub)
    nightly_feed(stack, copernicus, api_url)
    event = storekeeper.set_stock("TEA-ROOIBOS", 3)
    assert storekeeper.send_hook(hook_url, token, "events", event).status_code == 200
    work(stack)
    assert "TEA-ROOIBOS" not in copernicus.stock
    assert copernicus.deliveries == []  # nothing was even sent


# --- orders in -------------------------------------------------------------------------------------
def test_a_winkelstraat_order_becomes_one_paid_storekeeper_order_even_when_posted_twice(hub, stack):
    storekeeper, copernicus, api_url, _hook, _token = hub
    connect(hub)
    order = sample_order("WS-100234", [("MUG-DELFT", 2, "12.95")])
    # WHEN Copernicus posts the order, and posts it again as a new event (its retry)
    for _ in range(2):
        status, answer = copernicus.post_order(api_url, "winkelstraat", ORDER_SECRET, order)
        assert (status, answer["status"]) == (200, "accepted")
    work(stack)
    # THEN StoreKeeper has it once: paid, its lines at Winkelstraat's prices, the channel named
    [booked] = storekeeper.orders_numbered("WS-100234")
    assert booked["is_paid"] is True
    [line] = [item for item in booked["order_items"] if item["sku"] == "MUG-DELFT"]
    assert (line["quantity"], Decimal(str(line["ppu_wt"]))) == (2, Decimal("12.95"))
    assert "winkelstraat" in json.dumps(booked, default=str).lower()
    record = wiring.order_links().get(LINK, "WS-100234")
    assert record is not None and record.state.value == "created"


def test_a_lost_answer_from_storekeeper_still_gives_exactly_one_order(hub, stack):
    storekeeper, copernicus, api_url, _hook, _token = hub
    connect(hub)
    # GIVEN StoreKeeper makes the order but its answer is lost
    storekeeper.fail_next(1, 500, group="ShopModule::newOrder", after_execution=True)
    order = sample_order("WS-100235", [("LAMP-RAN", 1, "74.50")])
    assert copernicus.post_order(api_url, "winkelstraat", ORDER_SECRET, order)[0] == 200
    queued = [message["Body"] for message in stack.queued()]
    # WHEN the worker's first try fails and the queue delivers it again
    for _ in range(3):
        queue_worker.lambda_handler(sqs_event(*queued), WORKER())
    # THEN StoreKeeper holds one order for it, found again by its number, and koppel knows it as created
    assert len(storekeeper.orders_numbered("WS-100235")) == 1
    record = wiring.order_links().get(LINK, "WS-100235")
    assert record is not None and record.state.value == "created"


def test_an_unsigned_or_malformed_partner_order_is_refused_and_nothing_is_stored(hub, stack):
    _storekeeper, copernicus, api_url, _hook, _token = hub
    order = sample_order("WS-100236", [("MUG-DELFT", 1, "12.95")])
    # an order signed with another secret
    status, answer = copernicus.post_order(api_url, "winkelstraat", "someone-elses-secret", order)
    assert status == 401 and answer["error"] == "Unauthorized"
    # a correctly signed order whose totals do not add up
    broken = order | {"grand_total": "1.00"}
    status, answer = copernicus.post_order(api_url, "winkelstraat", ORDER_SECRET, broken)
    assert status == 400 and "grand_total" in answer["reason"]
    # a correctly signed order without lines
    status, answer = copernicus.post_order(api_url, "winkelstraat", ORDER_SECRET, order | {"items": []})
    assert status == 400 and "items" in answer["reason"]
    assert stack.queued() == []
