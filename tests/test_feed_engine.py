"""The feed engine: CSV and Google Merchant XML rendered as a stream, gzipped, and published whole to S3."""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from koppel.feeds import (
    GOOGLE_NS,
    FeedStats,
    FeedTooLarge,
    FeedUploadFailed,
    csv_rows,
    google_xml,
    gzipped,
    s3_upload,
    upload_stream,
)
from koppel.feeds.s3_upload import MiB
from koppel.models import Money, Product
from koppel.store.s3 import S3FeedWriter
from koppel_local.template import REGION

BUCKET = "feeds-test"
KEY = "feeds/shop-to-google/latest.xml"
G = f"{{{GOOGLE_NS}}}"
REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price")
VALID_EAN, INVALID_EAN = "4006381333931", "4006381333932"


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def mug(sku: str = "MUG-BLUE-350", **changes: Any) -> Product:
    fields: dict[str, Any] = {
        "sku": sku,
        "title": "Mug, blue",
        "ean": VALID_EAN,
        "price": eur("12.5"),
        "quantity": 7,
        "image_url": f"https://cdn.example.com/{sku}.jpg",
        "weight_grams": 350,
        "category": "Kitchen > Mugs",
        "group": "MUG",
    }
    return Product(**(fields | changes))


def shop_url(product: Product) -> str:
    return f"https://shop.example.com/p/{product.sku}?ref=feed&utm=google"


def rendered_xml(products: list[Product], stats: FeedStats | None = None) -> bytes:
    return b"".join(
        google_xml(products, title="Winkelstraat", link="https://shop.example.com", shop_url_for=shop_url, stats=stats)
    )


def items(feed: bytes) -> list[ET.Element]:
    return ET.fromstring(feed).findall("./channel/item")


def field(item: ET.Element, name: str) -> str | None:
    # title, link and description are RSS 2.0's own item elements; the rest live in the g: namespace.
    found = item.find(name if name in ("title", "link", "description") else G + name)
    return None if found is None else found.text


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every `operation` the client sends from now on."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        # A copy: the upload hands S3 one buffer, refilled for every part.
        seen.append({**params, "Body": bytes(params["Body"])} if "Body" in params else dict(params))

    client.meta.events.register(f"provide-client-params.s3.{operation}", record)
    return seen


def no_uploads_in_progress(client: Any) -> bool:
    return "Uploads" not in client.list_multipart_uploads(Bucket=BUCKET)


def no_object(client: Any, key: str) -> bool:
    try:
        client.head_object(Bucket=BUCKET, Key=key)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "404"
    return False


def catalogue(count: int) -> Iterator[Product]:
    for n in range(count):
        yield mug(f"SKU-{n:07d}", title=f"Stoneware mug number {n}, glazed, dishwasher safe", quantity=n % 5)


# --- CSV ------------------------------------------------------------------------------------------
def test_the_csv_lists_every_product_with_its_price_and_stock():
    # GIVEN a priced mug, a tea whose stock is not tracked, and a product without a price
    products = [
        mug(title='Mug "Delft", blue', sale_price=eur("9.999")),
        Product(
            sku="TEA-ROOIBOS-100",
            title="Rooibos",
            price=Money(amount=Decimal(3), currency="USD"),
            quantity=0,
            stock_managed=False,
        ),
        Product(sku="GIFT-CARD", title="Gift card"),
    ]
    # WHEN the stock feed renders
    body = b"".join(csv_rows(products)).decode()
    # THEN every product is a row; an unpriced one has an empty price, an untracked one no count
    assert body.splitlines() == [
        "sku,title,ean,price,sale_price,quantity,availability,image_url,weight_grams,category,group,url",
        f'MUG-BLUE-350,"Mug ""Delft"", blue",{VALID_EAN},12.50 EUR,10.00 EUR,7,in_stock,'
        "https://cdn.example.com/MUG-BLUE-350.jpg,350,Kitchen > Mugs,MUG,",
        "TEA-ROOIBOS-100,Rooibos,,3.00 USD,,,in_stock,,,,,",
        "GIFT-CARD,Gift card,,,,0,out_of_stock,,,,,",
    ]


def test_a_large_csv_comes_in_bounded_chunks_that_add_up_to_the_whole_feed():
    # GIVEN 20,000 products and 64 KiB chunks
    whole = b"".join(csv_rows(catalogue(20_000), chunk_size=1 << 30))
    # WHEN the feed streams
    chunks = list(csv_rows(catalogue(20_000), chunk_size=64 * 1024))
    # THEN no chunk outgrows its size by more than one batch of rows, and together they are the feed
    assert len(chunks) > 20
    assert max(map(len, chunks)) < 64 * 1024 + 512 * 200
    assert b"".join(chunks) == whole


# --- Google Merchant XML --------------------------------------------------------------------------
def test_the_xml_feed_is_rss_2_with_the_g_namespace_and_every_required_attribute():
    # GIVEN three sellable products, one out of stock, one with its stock untracked
    products = [mug("A-1"), mug("B-2", quantity=0), mug("C-3", quantity=0, stock_managed=False)]
    # WHEN the Merchant feed renders
    feed = rendered_xml(products)
    # THEN it parses as RSS 2.0 with the Google namespace declared on the root
    root = ET.fromstring(feed)
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert f'xmlns:g="{GOOGLE_NS}"' in feed.split(b">", 2)[1].decode()
    channel = root.find("channel")
    assert channel is not None
    assert [channel.findtext(name) for name in ("title", "link", "description")] == [
        "Winkelstraat",
        "https://shop.example.com",
        "Winkelstraat",
    ]
    # AND every item has every required attribute, in Merchant's formats
    found = items(feed)
    assert [field(item, "id") for item in found] == ["A-1", "B-2", "C-3"]
    for item in found:
        assert all(field(item, name) for name in REQUIRED), ET.tostring(item)
        assert re.fullmatch(r"\d+\.\d{2} [A-Z]{3}", field(item, "price") or "")
        assert field(item, "condition") == "new"
    assert [field(item, "availability") for item in found] == ["in_stock", "out_of_stock", "in_stock"]
    first = found[0]
    assert field(first, "price") == "12.50 EUR"
    assert field(first, "link") == "https://shop.example.com/p/A-1?ref=feed&utm=google"
    assert field(first, "image_link") == "https://cdn.example.com/A-1.jpg"
    assert field(first, "gtin") == VALID_EAN
    assert field(first, "item_group_id") == "MUG"
    assert field(first, "product_type") == "Kitchen > Mugs"
    assert field(first, "shipping_weight") == "350 g"


def test_markup_in_values_is_escaped_and_characters_xml_cannot_carry_are_dropped():
    # GIVEN a title full of markup and a control character from a careless backoffice
    product = mug(title="Cups <b>&</b> saucers\x01\ufffe \"2-pack\" 'Ø 8 cm' ]]>")
    # WHEN the Merchant feed renders
    feed = rendered_xml([product])
    # THEN it still parses, and the title reads as the shop wrote it, less the unprintable character
    (item,) = items(feed)
    assert field(item, "title") == "Cups <b>&</b> saucers \"2-pack\" 'Ø 8 cm' ]]>"
    assert field(item, "description") == field(item, "title")


def test_a_gtin_is_sent_only_for_a_valid_ean_and_otherwise_no_identifier_is_claimed():
    feed = rendered_xml([mug("GOOD", ean=VALID_EAN), mug("BAD", ean=INVALID_EAN), mug("NONE", ean="")])
    good, bad, none = items(feed)
    assert field(good, "gtin") == VALID_EAN and field(good, "identifier_exists") is None
    for item in (bad, none):
        assert field(item, "gtin") is None
        assert field(item, "identifier_exists") == "no"


def test_a_sale_price_is_sent_only_when_it_undercuts_the_price():
    feed = rendered_xml(
        [
            mug("SALE", sale_price=eur("9.95")),
            mug("NOT-LOWER", sale_price=eur("12.50")),
            mug("OTHER-CURRENCY", sale_price=Money(amount=Decimal("5"), currency="USD")),
        ]
    )
    assert [field(item, "sale_price") for item in items(feed)] == ["9.95 EUR", None, None]


def test_products_merchant_would_reject_are_left_out_and_counted():
    # GIVEN products without a price, with a zero price, without an image, with an id over 50 characters
    products = [
        mug("OK"),
        mug("NO-PRICE", price=None),
        mug("FREE", price=eur("0")),
        mug("NO-IMAGE", image_url=""),
        mug("X" * 51),
        mug("LONG-TITLE", title="t" * 200),
    ]
    stats = FeedStats()
    # WHEN the Merchant feed renders
    feed = rendered_xml(products, stats)
    # THEN only the sellable ones are items (Merchant would disapprove the rest: price, image_link and
    # id are required, and a cut SKU would no longer be a stable, unique id); the flow can report why
    assert [field(item, "id") for item in items(feed)] == ["OK", "LONG-TITLE"]
    assert stats.rendered == 2
    assert stats.skipped == {"no_price": 2, "no_image": 1, "id_too_long": 1}
    # AND a title over Merchant's 150 characters is cut to fit
    assert len(field(items(feed)[1], "title") or "") == 150


def test_a_brand_is_sent_when_the_flow_knows_it():
    feed = b"".join(
        google_xml([mug()], title="t", link="https://s", shop_url_for=shop_url, brand_for=lambda _: "Royal & Co")
    )
    assert field(items(feed)[0], "brand") == "Royal & Co"


# --- gzip -----------------------------------------------------------------------------------------
def test_a_gzipped_feed_decompresses_to_the_same_bytes():
    plain_csv = b"".join(csv_rows(catalogue(5_000)))
    plain_xml = rendered_xml(list(catalogue(500)))
    assert gzip.decompress(b"".join(gzipped(csv_rows(catalogue(5_000), chunk_size=8192)))) == plain_csv
    assert gzip.decompress(b"".join(gzipped([plain_xml]))) == plain_xml


# --- S3 -------------------------------------------------------------------------------------------
def test_a_feed_larger_than_a_part_goes_up_in_parts_and_lands_as_one_object(s3):
    # GIVEN a CSV of some 16 MiB and the smallest part S3 allows
    feed = b"".join(csv_rows(catalogue(120_000)))
    assert 3 * 5 * MiB < len(feed) <= 4 * 5 * MiB
    parts = calls(s3, "UploadPart")
    # WHEN it streams up
    size = upload_stream(
        s3, BUCKET, "feeds/x/latest.csv", csv_rows(catalogue(120_000)), content_type="text/csv", part_size=5 * MiB
    )
    # THEN it went as four parts, and the bucket holds one object: the whole feed
    assert [part["PartNumber"] for part in parts] == [1, 2, 3, 4]
    assert [len(part["Body"]) for part in parts[:3]] == [5 * MiB] * 3
    assert size == len(feed)
    stored = s3.get_object(Bucket=BUCKET, Key="feeds/x/latest.csv")
    assert stored["ContentType"] == "text/csv"
    assert stored["Body"].read() == feed
    assert [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["feeds/x/latest.csv"]
    assert no_uploads_in_progress(s3)


def test_a_small_feed_is_one_put(s3):
    puts, creates = calls(s3, "PutObject"), calls(s3, "CreateMultipartUpload")
    feed = rendered_xml([mug()])
    assert upload_stream(s3, BUCKET, KEY, [feed], content_type="application/xml") == len(feed)
    assert len(puts) == 1 and creates == []
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == feed


def test_a_gzipped_xml_feed_reaches_a_consumer_through_the_feed_url(s3):
    # GIVEN the Merchant feed, gzipped and stored with Content-Encoding: gzip
    feed = rendered_xml(list(catalogue(2_000)))
    upload_stream(
        s3,
        BUCKET,
        KEY,
        gzipped(iter([feed])),
        content_type="application/xml; charset=utf-8",
        content_encoding="gzip",
    )
    writer = S3FeedWriter(s3, BUCKET)
    # WHEN a consumer fetches the presigned feed URL
    answer = requests.get(writer.presign(KEY, expires_in=300), timeout=10)
    # THEN it gets the whole feed, decompressed by its HTTP client, and it parses as RSS 2.0
    assert writer.exists(KEY)
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    assert answer.content == feed
    assert len(items(answer.content)) == 2_000


def test_a_failure_mid_stream_aborts_the_upload_and_the_previous_feed_stands(s3):
    # GIVEN yesterday's feed at the key, and a source that dies after more than one part's worth
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"yesterday")

    def dying_source() -> Iterator[bytes]:
        yield b"x" * (6 * MiB)
        yield b"y" * (6 * MiB)
        raise ConnectionError("backoffice went away")

    parts = calls(s3, "UploadPart")
    # WHEN the upload streams from it
    with pytest.raises(ConnectionError):
        upload_stream(s3, BUCKET, KEY, dying_source(), content_type="application/xml", part_size=5 * MiB)
    # THEN parts had gone up, yet no upload is left in progress and consumers still get yesterday's feed
    assert len(parts) == 2
    assert no_uploads_in_progress(s3)
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"yesterday"


def test_a_first_feed_that_fails_leaves_no_object(s3):
    def dying_source() -> Iterator[bytes]:
        yield b"x" * (11 * MiB)
        raise ValueError("bad product")

    with pytest.raises(ValueError, match="bad product"):
        upload_stream(s3, BUCKET, KEY, dying_source(), content_type="text/csv", part_size=5 * MiB)
    assert no_object(s3, KEY)
    assert no_uploads_in_progress(s3)


def test_an_s3_error_mid_upload_is_a_typed_retryable_failure_and_aborts(s3):
    # GIVEN S3 failing the second part (injected at the client's own event hook)
    def second_part_fails(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if params["query_string"]["partNumber"] != 2:
            return None
        error = {"Error": {"Code": "InternalError", "Message": "We encountered an internal error"}}
        return AWSResponse("https://s3", 500, {}, None), error | {"ResponseMetadata": {"HTTPStatusCode": 500}}

    s3.meta.events.register("before-call.s3.UploadPart", second_part_fails)
    # WHEN a multi-part feed streams up
    with pytest.raises(FeedUploadFailed) as failure:
        upload_stream(s3, BUCKET, KEY, csv_rows(catalogue(120_000)), content_type="text/csv", part_size=5 * MiB)
    # THEN the caller sees koppel's retryable storage error, raised from S3's, and nothing is left behind
    assert failure.value.retryable
    assert isinstance(failure.value.__cause__, ClientError)
    assert no_object(s3, KEY)
    assert no_uploads_in_progress(s3)


def test_a_feed_needing_more_parts_than_s3_allows_fails_for_good_and_aborts(s3, monkeypatch):
    monkeypatch.setattr(s3_upload, "MAX_PARTS", 2)  # S3's 10,000, scaled down to what a test can send
    with pytest.raises(FeedTooLarge) as failure:
        upload_stream(s3, BUCKET, KEY, [b"x" * (11 * MiB)], content_type="text/csv", part_size=5 * MiB)
    assert not failure.value.retryable
    assert no_object(s3, KEY)
    assert no_uploads_in_progress(s3)


def test_a_part_size_below_s3s_minimum_is_refused_before_anything_is_sent(s3):
    creates = calls(s3, "CreateMultipartUpload")
    with pytest.raises(ValueError, match="part_size"):
        upload_stream(s3, BUCKET, KEY, [b"x"], content_type="text/csv", part_size=MiB)
    assert creates == []
