"""Flow: the nightly product/stock feed per link, and the tokens that let a marketplace fetch it.

The feed is streamed: products come a page at a time from the backoffice (or, for a backoffice
that only pushes stock, from the stock koppel holds), are rendered by `koppel.feeds` and uploaded
in parts, so memory stays flat however large the catalogue. The object appears whole at
`feeds/{link}/latest.{ext}` or not at all; the previous feed stands until then.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator

from koppel.config import Link
from koppel.connectors.base import ProductSource
from koppel.errors import ConfigurationError, NotFound, Unauthorized
from koppel.feeds.render import FeedStats, csv_rows, google_xml, gzipped
from koppel.flows.products import published
from koppel.models import Product
from koppel.ports.feed import FeedWriter, StockQuantities

PAGE_SIZE = 100  # stock records looked up per batch while products stream past


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xml": "application/rss+xml; charset=utf-8",
    "json": "application/json",
}
GZIP_TYPE = "application/gzip"


def latest_key(link: Link) -> str:
    return f"feeds/{link.link_id}/latest.{link.feed.format}" + (".gz" if link.feed.gzip else "")


# --- what goes in ---------------------------------------------------------------------------------
def products_with_stock(link: Link, source: ProductSource, stock: StockQuantities) -> Iterator[Product]:
    """The backoffice's products a page at a time, at the stock koppel holds where it holds a level."""
    cursor: str | None = None
    while True:
        page = source.product_page(cursor, price_list=link.products.price_list)
        for start in range(0, len(page.products), PAGE_SIZE):
            batch = page.products[start : start + PAGE_SIZE]
            held = stock.quantities(link.link_id, [product.sku for product in batch])
            for product in batch:
                quantity = held.get(product.sku)
                yield product if quantity is None else product.model_copy(update={"quantity": quantity})
        cursor = page.cursor
        if cursor is None:
            return


# Formats that carry nothing but SKU and quantity, which a backoffice that only pushes stock can fill.
STOCK_ONLY_FORMATS = frozenset({"json"})


def stock_only(link: Link, stock: StockQuantities) -> Iterator[Product]:
    """For a backoffice that pushes its stock and cannot be read: the SKUs koppel holds, by SKU. Only a
    stock-only format takes them (`STOCK_ONLY_FORMATS`): a CSV or XML feed would carry empty titles and
    prices, and a marketplace drops such items, so the run refuses it with the way out."""
    if link.feed.format not in STOCK_ONLY_FORMATS:
        raise ConfigurationError(
            f"the link's backoffice ({link.backoffice}) gives koppel no product data, so a {link.feed.format} "
            "feed would have no titles or prices: give the account its API credentials so koppel reads its "
            "products, or set feed.format to json for a feed of SKUs and quantities",
            field="feed.format",
        )
    for row in stock.feed_rows(link.link_id):
        yield Product(sku=row.sku, title="", quantity=row.quantity)


def for_channel(link: Link, products: Iterable[Product]) -> Iterator[Product]:
    """The link's rules: what is not published on the link left out (the backoffice's own publication,
    then the link's product groups), the buffer held back, out of stock optional."""
    for product in products:
        if not published(link, product):
            continue
        sellable = max(0, product.quantity - link.stock.buffer)
        if product.stock_managed and sellable <= 0 and not link.feed.include_out_of_stock:
            continue
        yield product if sellable == product.quantity else product.model_copy(update={"quantity": sellable})


# --- rendering --------------------------------------------------------------------------------------
def json_items(products: Iterable[Product], stats: FeedStats) -> Iterator[bytes]:
    """The stock feed as one JSON object, `{"items": [{"sku", "quantity"}, ...]}`, streamed."""
    yield b'{"items":['
    separator = b""
    for product in products:
        stats.rendered += 1
        yield separator + json.dumps({"sku": product.sku, "quantity": product.quantity}).encode()
        separator = b","
    yield b"]}"


def render(link: Link, products: Iterable[Product], stats: FeedStats) -> Iterator[bytes]:
    settings = link.feed
    if settings.format == "xml":
        url = settings.product_url
        chunks = google_xml(
            products,
            title=settings.title or link.link_id,
            link=url.split("{sku}", 1)[0] or "https://",
            shop_url_for=lambda product: product.url or (url.replace("{sku}", product.sku) if url else ""),
            brand_for=(lambda _product: settings.brand) if settings.brand else None,
            stats=stats,
        )
    elif settings.format == "json":
        chunks = json_items(products, stats)
    else:
        chunks = csv_rows(products, stats=stats)
    return gzipped(chunks) if settings.gzip else chunks


def build_feed(link: Link, *, products: Iterable[Product], writer: FeedWriter) -> str:
    stats = FeedStats()
    chunks = render(link, for_channel(link, products), stats)
    if link.dry_run:
        size = sum(len(chunk) for chunk in chunks)
        return f"test mode: would write {stats.rendered} rows ({size} bytes)"
    content_type = GZIP_TYPE if link.feed.gzip else CONTENT_TYPES[link.feed.format]
    size = writer.upload(latest_key(link), chunks, content_type)
    skipped = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in sorted(stats.skipped.items()))
    return f"feed written: {stats.rendered} rows, {size} bytes" + (f"; left out: {skipped}" if skipped else "")


# --- fetching -----------------------------------------------------------------------------------------
def feed_token(signing_key: str, link_id: str) -> str:
    return hmac.new(signing_key.encode(), f"feed:{link_id}".encode(), hashlib.sha256).hexdigest()


def check_feed_token(signing_key: str, link_id: str, token: str) -> None:
    """Checked before the link is even looked up, so a caller without a token learns nothing."""
    if not hmac.compare_digest(feed_token(signing_key, link_id).encode(), token.encode()):
        raise Unauthorized("feed token does not match")


def feed_location(link: Link, *, writer: FeedWriter, expires_in: int) -> str:
    """A short-lived presigned URL for the link's latest feed (its token already checked)."""
    if not link.flows.feed:
        raise NotFound("the feed is switched off for this link")
    key = latest_key(link)
    if not writer.exists(key):
        raise NotFound("no feed has been written for this link yet")
    return writer.presign(key, expires_in)
