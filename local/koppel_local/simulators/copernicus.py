"""Copernicus, the partner that runs the Winkelstraat.nl link (FACTS-systems-2.md §1.5): it fetches a
link's nightly feed, takes every stock change by koppel's signed webhook, and posts Winkelstraat's
orders to koppel's partner route.

Copernicus publishes no API for this, so the simulator follows koppel's own partner contract
(docs/partner-api.md); what Copernicus really does with a feed is an assumption (unverified): it
lists a product only when the feed gives it a title and a price, and takes stock only for the
SKUs it lists.

- `fetch_feed(url)`: GETs koppel's feed URL, following its redirect to the short-lived S3 URL, and
  reads the feed as CSV, Google Merchant XML (RSS 2.0) or koppel's JSON, gzipped or not. The feed
  replaces the catalogue (sku -> title, price, quantity); an item without a title or a price is a
  defect, reported (`defects`, `FeedRead.defects`) and not listed.
- Stock (`POST /stock`, from `StockPartner`): signature, timestamp and topic checked; the latest
  quantity kept per SKU, never one observed earlier; a SKU not in the catalogue is answered in
  `unknown_skus` and not kept.
- `post_order(base_url, account_id, secret, order_json)`: one order, signed with koppel's scheme
  under `order.created`, to `POST {base_url}/partners/{account_id}/orders`.
- Faults, from `StockPartner`: `fail_stock(n)` answers the next n stock requests with an error and
  takes nothing; `lose_answers(n)` takes the stock and answers 500.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from defusedxml import ElementTree

from koppel_local.signing import koppel_headers
from koppel_local.simulators.partner import StockPartner

GOOGLE = "{http://base.google.com/ns/1.0}"
ORDER_TOPIC = "order.created"
SHIPPING = Decimal("4.95")


@dataclass(frozen=True)
class Listing:
    """One product as Copernicus lists it at Winkelstraat."""

    sku: str
    title: str
    price: str  # as the feed gives it ("19.95 EUR")
    quantity: int | None  # None: the feed gives availability only (Google XML)


@dataclass(frozen=True)
class FeedRead:
    format: str  # "csv", "xml" or "json"
    items: int  # items in the feed
    listed: int  # items with a title and a price
    defects: tuple[str, ...]  # "SKU: no title", "SKU: no price"


@dataclass(eq=False)
class CopernicusSimulator(StockPartner):
    catalogue: dict[str, Listing] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)  # of the last feed read
    feeds: list[FeedRead] = field(default_factory=list)
    posted: list[tuple[int, Any]] = field(default_factory=list)  # (status, answer) of each order posted
    client: httpx.Client | None = None  # None: a client of its own per call

    system = "copernicus"

    # --- the catalogue ------------------------------------------------------------------------------
    def lists(self, sku: str) -> bool:
        return sku in self.catalogue and sku not in self.unlisted

    def list_product(self, sku: str, title: str, price: str, quantity: int | None = None) -> None:
        """A product listed as if a feed had given it."""
        self.catalogue[sku] = Listing(sku, title, price, quantity)

    def fetch_feed(self, url: str) -> FeedRead:
        """Fetch and read the link's feed; the catalogue becomes what it lists."""
        answer = self._get(url)
        answer.raise_for_status()
        content = answer.content
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
        text = content.decode("utf-8").lstrip("\ufeff")
        start = text.lstrip()[:1]
        kind = "xml" if start == "<" else "json" if start == "{" else "csv"
        rows = list({"xml": _xml_items, "json": _json_items, "csv": _csv_items}[kind](text))
        defects = [f"{row.sku}: no {what}" for row in rows for what in ("title", "price") if not getattr(row, what)]
        self.catalogue = {row.sku: row for row in rows if row.title and row.price}
        self.defects = defects
        read = FeedRead(kind, len(rows), len(self.catalogue), tuple(defects))
        self.feeds.append(read)
        return read

    def _get(self, url: str) -> httpx.Response:
        if self.client is not None:
            return self.client.get(url, follow_redirects=True)
        with httpx.Client(timeout=30) as client:
            return client.get(url, follow_redirects=True)

    # --- orders to koppel ---------------------------------------------------------------------------
    def post_order(
        self, base_url: str, account_id: str, secret: str, order_json: Mapping[str, Any], event_id: str | None = None
    ) -> tuple[int, Any]:
        """POST one order to koppel's partner route, signed as koppel asks; the status and the answer
        (JSON where it is JSON). Without `event_id` each post is a new event: the order's number is what
        keeps koppel from booking it twice."""
        body = json.dumps(order_json, separators=(",", ":")).encode()
        headers = koppel_headers(body, secret, topic=ORDER_TOPIC, event_id=event_id)
        url = f"{base_url.rstrip('/')}/partners/{account_id}/orders"
        if self.client is not None:
            response = self.client.post(url, content=body, headers=headers)
        else:
            with httpx.Client(timeout=30) as client:
                response = client.post(url, content=body, headers=headers)
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text
        self.posted.append((response.status_code, answer))
        return response.status_code, answer


def sample_order(
    number: str | int,
    lines: Sequence[tuple[str, int, str | Decimal]],
    *,
    shipping: str | Decimal = SHIPPING,
    email: str = "anna.devries@example.nl",
) -> dict[str, Any]:
    """A Winkelstraat order as Copernicus forwards it (docs/partner-api.md), its totals adding up:
    `lines` are (sku, quantity, VAT-inclusive unit price)."""
    items = [
        {
            "sku": sku,
            "name": f"Product {sku}",
            "qty_ordered": quantity,
            "item_price_inc_tax": str(Decimal(str(price))),
            "row_total_inc_tax": str(Decimal(str(price)) * quantity),
        }
        for sku, quantity, price in lines
    ]
    rows = sum((Decimal(item["row_total_inc_tax"]) for item in items), Decimal("0.00"))
    address = {
        "firstname": "Anna",
        "lastname": "de Vries",
        "street": ["Kerkstraat", "12", "A"],
        "postcode": "1017 GC",
        "city": "Amsterdam",
        "country_id": "NL",
        "telephone": "+31201234567",
    }
    return {
        "increment_id": str(number),
        "created_at": "2026-11-21T13:05:00+01:00",
        "currency": "EUR",
        "customer_email": email,
        "items": items,
        "billing_address": address,
        "shipping_address": dict(address),
        "shipping_price": str(Decimal(str(shipping))),
        "grand_total": str(rows + Decimal(str(shipping))),
    }


# --- the three feed formats -------------------------------------------------------------------------
def _quantity(value: object) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _csv_items(text: str) -> Iterator[Listing]:
    for row in csv.DictReader(io.StringIO(text)):
        sku = (row.get("sku") or "").strip()
        if sku:
            yield Listing(
                sku, (row.get("title") or "").strip(), (row.get("price") or "").strip(), _quantity(row.get("quantity"))
            )


def _xml_items(text: str) -> Iterator[Listing]:
    root = ElementTree.fromstring(text)
    for item in root.iter("item"):
        sku = (item.findtext(f"{GOOGLE}id") or "").strip()
        if sku:
            title = (item.findtext("title") or "").strip()
            yield Listing(sku, title, (item.findtext(f"{GOOGLE}price") or "").strip(), None)


def _json_items(text: str) -> Iterable[Listing]:
    items = json.loads(text).get("items") or []
    return [
        Listing(
            str(item["sku"]),
            str(item.get("title") or ""),
            str(item.get("price") or ""),
            _quantity(item.get("quantity")),
        )
        for item in items
        if isinstance(item, dict) and item.get("sku")
    ]
