"""Streaming feed renderers: koppel's product/stock CSV and a Google Merchant RSS 2.0 feed.

Both take any iterable of `Product` and yield UTF-8 bytes in chunks of about `CHUNK_SIZE`, holding
only the chunk being filled, so memory stays flat however large the catalogue. They render the
products in the order given: sorting (and the link's stock buffer) is the source's business.

What is left out, and why (see ../shared/reference/google_merchant/spec_facts.json):
- The XML feed is for Merchant Center, where id, title, description, link, image_link, availability
  and price are required. A product missing one of them, or with an id over 50 characters (the
  SKU is the id; cutting it would break its uniqueness), would only be disapproved, so it is left
  out and counted in `FeedStats.skipped` under the reason, for the flow to report. Merchant Center
  deletes a product that drops out of the feed, which is what should happen to an unsellable one.
- The CSV is the stock feed: every product is a row, and an empty price column marks one without a
  price, because a stock consumer needs every SKU's quantity whether priced or not.
"""

from __future__ import annotations

import csv
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice

from koppel.models import Money, Product

CHUNK_SIZE = 1 << 20
GOOGLE_NS = "http://base.google.com/ns/1.0"
IN_STOCK, OUT_OF_STOCK = "in_stock", "out_of_stock"
ID_MAX, TITLE_MAX, DESCRIPTION_MAX = 50, 150, 5000
CSV_HEADER = (
    "sku",
    "title",
    "ean",
    "price",
    "sale_price",
    "quantity",
    "availability",
    "image_url",
    "weight_grams",
    "category",
    "group",
    "url",
)
_CSV_BATCH = 512  # rows handed to csv.writer per call: its C loop, not ours, does the writing
_CENT = Decimal("0.01")
# Characters XML 1.0 cannot carry at all, escaped or not; a stray one would make the whole feed unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_XML_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # U+FFFE/FFFF checked apart


@dataclass
class FeedStats:
    """Filled in while a feed renders: items written, and items left out per reason."""

    rendered: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def availability(product: Product) -> str:
    # A product whose stock is not tracked can always be ordered.
    return IN_STOCK if not product.stock_managed or product.quantity > 0 else OUT_OF_STOCK


def format_price(money: Money) -> str:
    """Merchant's 'number plus ISO 4217 currency': '12.99 EUR'."""
    return f"{money.amount.quantize(_CENT, ROUND_HALF_UP)} {money.currency}"


def valid_gtin(code: str) -> bool:
    """GTIN-8/12/13/14 (EAN, UPC, JAN, ITF-14): digits only, check digit right."""
    if len(code) not in (8, 12, 13, 14) or not code.isascii() or not code.isdigit() or not code.strip("0"):
        return False
    # Weights 3,1,3,1... from the digit left of the check digit leftwards; ASCII digits are 48 + value.
    digits = code.encode()
    odd, even = digits[-2::-2], digits[-3::-2]
    total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    return (10 - total % 10) % 10 == digits[-1] - 48


# --- CSV ------------------------------------------------------------------------------------------
class _Prices:
    """`format_price` remembered per amount and currency: a catalogue repeats its prices, and the
    quantizing costs four times the look-up. Zero is never remembered (0 and -0 are equal keys but
    print apart), and the memory is forgotten past `limit` entries, so it stays small."""

    def __init__(self, limit: int = 4096) -> None:
        self.known: dict[tuple[Decimal, str], str] = {}
        self.limit = limit

    def text(self, money: Money) -> str:
        key = (money.amount, money.currency)
        text = self.known.get(key)
        if text is None:
            text = format_price(money)
            if money.amount:
                if len(self.known) >= self.limit:
                    self.known.clear()
                self.known[key] = text
        return text


class _Parts:
    """A file for csv.writer that keeps what it is given: appending is all a write does."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def size(self, start: int) -> int:
        return sum(map(len, self.parts[start:]))

    def drain(self) -> bytes:
        # "replace": one unencodable character (a lone surrogate) must not cost the night's feed.
        chunk = "".join(self.parts).encode("utf-8", "replace")
        self.parts.clear()
        return chunk


def csv_rows(
    products: Iterable[Product], *, stats: FeedStats | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The stock feed as CSV (header row, comma, minimal quoting, '\\n' line ends, as the flow's feed).

    A row per product: an empty price for one without a price, no count for one whose stock is not
    tracked (only its availability); csv.writer writes None as an empty field. The rows are built in
    one comprehension per batch and written by csv.writer's C loop, the prices formatted once each.
    """
    stats = stats if stats is not None else FeedStats()
    out = _Parts()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    price = _Prices().text
    products, size = iter(products), 0
    while batch := [
        (
            p.sku,
            p.title,
            p.ean,
            None if p.price is None else price(p.price),
            None if p.sale_price is None else price(p.sale_price),
            p.quantity if p.stock_managed else None,
            IN_STOCK if not p.stock_managed or p.quantity > 0 else OUT_OF_STOCK,
            p.image_url,
            p.weight_grams,
            p.category,
            p.group,
            p.url,
        )
        for p in islice(products, _CSV_BATCH)
    ]:
        start = len(out.parts)
        writer.writerows(batch)
        stats.rendered += len(batch)
        size += out.size(start)
        if size >= chunk_size:
            yield out.drain()
            size = 0
    yield out.drain()


# --- Google Merchant RSS 2.0 ----------------------------------------------------------------------
def _text(value: str) -> str:
    # Element content only (no attributes are written), so quotes need no escaping.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _encode(parts: list[str]) -> bytes:
    text = "".join(parts)
    parts.clear()
    # The markup never holds a character XML cannot carry, so one check per chunk covers every value
    # in it. Checked on the bytes: a regular expression over the text costs ten times as much.
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return _NOT_XML.sub("", text).encode("utf-8")
    if len(data.translate(None, _NOT_XML_BYTES)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
        return _NOT_XML.sub("", text).encode("utf-8")
    return data


def _skip_reason(product: Product, link: str) -> str | None:
    """Why Merchant would reject the (priced) product, if it would."""
    if not product.title:
        return "no_title"
    if len(product.sku) > ID_MAX:
        return "id_too_long"
    if not product.image_url:
        return "no_image"
    if not link:
        return "no_link"
    return None


def _item(product: Product, price: Money, link: str, brand: str) -> str:
    title = _text(product.title[:TITLE_MAX])
    lines = [
        "<item>",
        f"<g:id>{_text(product.sku)}</g:id>",
        f"<title>{title}</title>",
        # The canonical Product carries no description; the title is the closest true one (<= 150 < 5,000).
        f"<description>{title}</description>",
        f"<link>{_text(link)}</link>",
        f"<g:image_link>{_text(product.image_url)}</g:image_link>",
        f"<g:availability>{availability(product)}</g:availability>",
        f"<g:price>{format_price(price)}</g:price>",
    ]
    sale = product.sale_price
    if sale is not None and sale.currency == price.currency and 0 < sale.amount < price.amount:
        lines.append(f"<g:sale_price>{format_price(sale)}</g:sale_price>")
    # koppel sells new goods only; condition is required only for used or refurbished ones.
    lines.append("<g:condition>new</g:condition>")
    if valid_gtin(product.ean):
        lines.append(f"<g:gtin>{product.ean}</g:gtin>")
    else:
        # No GTIN and never an MPN (the model has none; the SKU is the shop's code, not the maker's):
        # Merchant's identifier_exists=no says so instead of the item being flagged for a missing one.
        lines.append("<g:identifier_exists>no</g:identifier_exists>")
    if brand:
        lines.append(f"<g:brand>{_text(brand)}</g:brand>")
    if product.group:
        lines.append(f"<g:item_group_id>{_text(product.group)}</g:item_group_id>")
    if product.category:
        lines.append(f"<g:product_type>{_text(product.category)}</g:product_type>")
    if product.weight_grams is not None:
        lines.append(f"<g:shipping_weight>{product.weight_grams} g</g:shipping_weight>")
    lines.append("</item>\n")
    return "\n".join(lines)


def google_xml(
    products: Iterable[Product],
    *,
    title: str,
    link: str,
    shop_url_for: Callable[[Product], str],
    description: str = "",
    brand_for: Callable[[Product], str] | None = None,
    stats: FeedStats | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """A Google Merchant product feed: RSS 2.0 with the g: namespace, one <item> per sellable product.

    `shop_url_for` gives a product's landing page; `brand_for`, when given, its brand (required by
    Merchant for most new goods, but not part of the canonical Product).
    """
    stats = stats if stats is not None else FeedStats()
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{GOOGLE_NS}">\n<channel>\n'
        f"<title>{_text(title)}</title>\n<link>{_text(link)}</link>\n"
        f"<description>{_text(description or title)}</description>\n"
    ]
    size = len(parts[0])
    for product in products:
        price, url = product.price, shop_url_for(product)
        if price is None or price.amount <= 0:
            # A zero or negative amount is no price a shopper can pay; Merchant rejects it like a missing one.
            stats.skipped["no_price"] += 1
        elif reason := _skip_reason(product, url):
            stats.skipped[reason] += 1
        else:
            item = _item(product, price, url, brand_for(product) if brand_for is not None else "")
            parts.append(item)
            stats.rendered += 1
            size += len(item)
            if size >= chunk_size:
                yield _encode(parts)
                size = 0
    parts.append("</channel>\n</rss>\n")
    yield _encode(parts)


# --- gzip -----------------------------------------------------------------------------------------
def gzipped(chunks: Iterable[bytes], *, level: int = 6) -> Iterator[bytes]:
    """Gzip a byte stream as it passes (one gzip member; mtime 0, so equal input gives equal output)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()
