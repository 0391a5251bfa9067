"""The Copernicus simulator: it reads koppel's feed in each format through the feed URL's redirect, lists
only what has a title and a price, takes signed stock for what it lists (never an older level), names
the rest in its answer, and posts orders koppel's verifier takes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from koppel.config import Account, Link
from koppel.connectors.winkelstraat.orders import verify
from koppel.feeds.render import FeedStats
from koppel.flows.feed import render
from koppel.models import Money, Product
from koppel.webhooks import Delivery, VerifyContext, koppel_digest
from koppel_local.simulators.copernicus import CopernicusSimulator, sample_order

SIGNING_SECRET = "koppel-signs-stock-with-this"  # made up for the tests
ORDER_SECRET = "copernicus-signs-orders-with-this"
FEED_URL = "https://koppel.test/feeds/shop-to-ws?token=t"


def products() -> list[Product]:
    return [
        Product(
            sku="MUG-BLUE-350",
            title="Stoneware mug, blue",
            price=Money(amount=Decimal("14.95")),
            quantity=7,
            image_url="https://cdn.example/mug.jpg",
        ),
        Product(sku="TEA-ROOIBOS", title="Rooibos tea", price=Money(amount=Decimal("6.49")), quantity=3),
        Product(sku="LOOSE-LID", title="", quantity=2),  # a push-only backoffice's row: no title, no price
    ]


def feed_bytes(fmt: str, gzipped: bool) -> bytes:
    """The link's feed exactly as koppel renders it."""
    link = Link(
        link_id="shop-to-ws",
        backoffice="shop-main",
        channel="winkelstraat",
        feed={"format": fmt, "gzip": gzipped, "product_url": "https://shop.example/p/{sku}", "title": "Shop"},
    )
    return b"".join(render(link, products(), FeedStats()))


class FeedHost:
    """koppel's feed URL (a 302 to a short-lived URL) and the bucket behind it."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.paths.append(request.path)
        if request.path.startswith("/feeds/"):
            response = Response(
                status=302,
                headers={"Location": "https://bucket.test/koppel-feeds/shop-to-ws/latest.csv?X-Amz-Expires=3600"},
            )
        else:
            response = Response(self.content, content_type="application/octet-stream")
        return response(environ, start_response)


def fetched(fmt: str, gzipped: bool) -> tuple[CopernicusSimulator, FeedHost]:
    host = FeedHost(feed_bytes(fmt, gzipped))
    sim = CopernicusSimulator(secret=SIGNING_SECRET, client=httpx.Client(transport=httpx.WSGITransport(app=host)))
    return sim, host


# --- the feed ------------------------------------------------------------------------------------
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_csv_feed_is_read_through_the_redirect_with_titles_prices_and_quantities(gzipped: bool):
    sim, host = fetched("csv", gzipped)
    read = sim.fetch_feed(FEED_URL)
    assert host.paths == ["/feeds/shop-to-ws", "/koppel-feeds/shop-to-ws/latest.csv"]  # the redirect was followed
    assert (read.format, read.items, read.listed) == ("csv", 3, 2)
    mug = sim.catalogue["MUG-BLUE-350"]
    assert (mug.title, mug.price, mug.quantity) == ("Stoneware mug, blue", "14.95 EUR", 7)
    assert read.defects == ("LOOSE-LID: no title", "LOOSE-LID: no price")
    assert "LOOSE-LID" not in sim.catalogue


def test_a_google_merchant_feed_is_read_by_its_ids_titles_and_prices():
    sim, _host = fetched("xml", True)
    read = sim.fetch_feed(FEED_URL)
    # Merchant's renderer leaves out an item it would disapprove (no image): Copernicus never sees it
    assert read.format == "xml"
    assert {sku: (item.title, item.price) for sku, item in sim.catalogue.items()} == {
        "MUG-BLUE-350": ("Stoneware mug, blue", "14.95 EUR")
    }


def test_a_stock_only_json_feed_lists_nothing_and_reports_every_item_as_a_defect():
    sim, _host = fetched("json", False)
    read = sim.fetch_feed(FEED_URL)
    assert (read.format, read.items, read.listed) == ("json", 3, 0)
    assert "MUG-BLUE-350: no title" in read.defects and "TEA-ROOIBOS: no price" in read.defects
    assert sim.catalogue == {}


def test_a_new_feed_replaces_the_catalogue():
    sim, host = fetched("csv", False)
    sim.fetch_feed(FEED_URL)
    host.content = b"sku,title,price,quantity\nTEA-ROOIBOS,Rooibos tea,6.49 EUR,9\n"
    sim.fetch_feed(FEED_URL)
    assert list(sim.catalogue) == ["TEA-ROOIBOS"] and sim.catalogue["TEA-ROOIBOS"].quantity == 9
    assert len(sim.feeds) == 2 and sim.defects == []


# --- stock webhooks ------------------------------------------------------------------------------
def stock_request(
    levels: list[dict[str, Any]],
    *,
    secret: str = SIGNING_SECRET,
    topic: str = "stock.changed",
    at: int | None = None,
    event_id: str = "evt-1",
) -> httpx.Request:
    body = json.dumps({"levels": levels}).encode()
    timestamp = str(at if at is not None else int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Koppel-Timestamp": timestamp,
        "X-Koppel-Event-Id": event_id,
        "X-Koppel-Topic": topic,
        "X-Koppel-Signature": f"v1={koppel_digest(secret, timestamp, event_id, topic, body)}",
    }
    return httpx.Request("POST", "https://copernicus.test/stock", content=body, headers=headers)


def send(sim: CopernicusSimulator, request: httpx.Request) -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        return client.send(request)


def listed_sim() -> CopernicusSimulator:
    sim = CopernicusSimulator(secret=SIGNING_SECRET)
    sim.list_product("MUG-BLUE-350", "Stoneware mug, blue", "14.95 EUR", 7)
    sim.list_product("TEA-ROOIBOS", "Rooibos tea", "6.49 EUR", 3)
    return sim


def test_stock_for_listed_skus_is_kept_and_the_others_are_named_unknown():
    sim = listed_sim()
    levels = [
        {"sku": "MUG-BLUE-350", "quantity": 4, "observed_at": "2026-11-21T13:00:00Z"},
        {"sku": "NOT-IN-FEED", "quantity": 9, "observed_at": "2026-11-21T13:00:00Z"},
    ]
    answer = send(sim, stock_request(levels))
    assert answer.status_code == 200
    assert answer.json() == {"status": "accepted", "unknown_skus": ["NOT-IN-FEED"]}
    assert sim.stock == {"MUG-BLUE-350": 4}


def test_an_older_level_never_replaces_a_newer_one():
    sim = listed_sim()
    send(sim, stock_request([{"sku": "TEA-ROOIBOS", "quantity": 5, "observed_at": "2026-11-21T13:05:00Z"}]))
    older = [{"sku": "TEA-ROOIBOS", "quantity": 1, "observed_at": "2026-11-21T14:00:00+01:00"}]  # 13:00Z
    assert send(sim, stock_request(older, event_id="evt-2")).status_code == 200
    assert sim.stock == {"TEA-ROOIBOS": 5}


@pytest.mark.parametrize(
    ("request_of", "status", "why"),
    [
        (lambda levels: stock_request(levels, secret="a guess"), 401, "signature does not match"),
        (lambda levels: stock_request(levels, at=int(time.time()) - 3600), 401, "stale timestamp"),
        (lambda levels: stock_request(levels, topic="order.created"), 400, "unexpected topic order.created"),
    ],
    ids=["forged", "stale", "wrong-topic"],
)
def test_a_stock_request_not_signed_as_koppel_signs_it_is_refused_and_changes_nothing(request_of, status, why):
    sim = listed_sim()
    answer = send(sim, request_of([{"sku": "MUG-BLUE-350", "quantity": 4}]))
    assert answer.status_code == status
    assert sim.refused == [why] and sim.stock == {}


def test_failed_requests_take_nothing_and_a_lost_answer_takes_the_stock():
    sim = listed_sim()
    sim.fail_stock(2, status=503)
    sim.lose_answers(1)
    level = [{"sku": "MUG-BLUE-350", "quantity": 4}]
    assert [send(sim, stock_request(level, event_id=f"e{n}")).status_code for n in range(2)] == [503, 503]
    assert sim.stock == {}
    assert send(sim, stock_request(level, event_id="e2")).status_code == 500
    assert sim.stock == {"MUG-BLUE-350": 4}  # taken, though koppel was told 500
    assert send(sim, stock_request(level, event_id="e2")).json() == {"status": "duplicate"}


# --- orders to koppel ----------------------------------------------------------------------------
class Receiver:
    """koppel's partner route, as far as the signature and the order's shape go (the real route is koppel's)."""

    def __init__(self) -> None:
        self.account = Account(account_id="winkelstraat", system="winkelstraat", secret_ref="koppel/winkelstraat")
        self.seen: list[tuple[str, Delivery]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        headers = {name.lower(): value for name, value in request.headers.items()}
        ctx = VerifyContext(now=datetime.now(UTC), tolerance=timedelta(minutes=5), stale_after=timedelta(hours=48))
        delivery = verify(self.account, [ORDER_SECRET], headers, request.get_data(), ctx)
        assert isinstance(delivery, Delivery)
        self.seen.append((request.path, delivery))
        body = json.dumps({"status": "accepted", "event_id": delivery.event_id})
        return Response(body, content_type="application/json")(environ, start_response)


def test_an_order_is_posted_signed_with_koppels_scheme_to_the_partner_route():
    receiver = Receiver()
    sim = CopernicusSimulator(secret=SIGNING_SECRET, client=httpx.Client(transport=httpx.WSGITransport(app=receiver)))
    payload = sample_order("100004711", [("MUG-BLUE-350", 2, "14.95")])

    status, answer = sim.post_order("https://koppel.test/", "winkelstraat", ORDER_SECRET, payload, event_id="ord-1")

    assert (status, answer) == (200, {"status": "accepted", "event_id": "ord-1"})
    [(path, delivery)] = receiver.seen
    assert path == "/partners/winkelstraat/orders"
    assert (delivery.topic, delivery.payload["increment_id"]) == ("order.created", "100004711")
    # posted again without an event id: a new event each time (the order number keeps it booked once)
    sim.post_order("https://koppel.test", "winkelstraat", ORDER_SECRET, payload)
    sim.post_order("https://koppel.test", "winkelstraat", ORDER_SECRET, payload)
    assert len({delivery.event_id for _, delivery in receiver.seen}) == 3
    assert [status for status, _ in sim.posted] == [200, 200, 200]
