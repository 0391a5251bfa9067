"""Flow: the nightly product/stock feed per link, and the tokens that let a marketplace fetch it."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from koppel.config import Link
from koppel.errors import NotFound, Unauthorized


@dataclass(frozen=True)
class FeedRow:
    sku: str
    quantity: int
    observed_at: datetime


class FeedSource(Protocol):
    def feed_rows(self, link_id: str) -> list[FeedRow]: ...


class FeedWriter(Protocol):
    def write(self, key: str, body: bytes, content_type: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def presign(self, key: str, expires_in: int) -> str: ...


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def latest_key(link_id: str, fmt: str) -> str:
    return f"feeds/{link_id}/latest.{fmt}"


def render(rows: list[FeedRow], fmt: str) -> bytes:
    if fmt == "json":
        items = [{"sku": r.sku, "quantity": r.quantity, "updated_at": r.observed_at.isoformat()} for r in rows]
        return json.dumps({"items": items}, indent=None).encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sku", "quantity", "updated_at"])
    writer.writerows([r.sku, r.quantity, r.observed_at.isoformat()] for r in rows)
    return out.getvalue().encode("utf-8")


def build_feed(link: Link, *, source: FeedSource, writer: FeedWriter, now: datetime) -> str:
    """Write today's feed and replace `latest`; the dated copy stays for the bucket's lifecycle to expire."""
    # The link's buffer is held back from the channel: 7 in stock with a buffer of 2 sells 5.
    rows = [
        FeedRow(sku=row.sku, quantity=max(0, row.quantity - link.stock.buffer), observed_at=row.observed_at)
        for row in sorted(source.feed_rows(link.link_id), key=lambda row: row.sku)
    ]
    if not link.feed.include_out_of_stock:
        rows = [row for row in rows if row.quantity > 0]
    fmt = link.feed.format
    body = render(rows, fmt)
    if link.dry_run:
        return f"test mode: would write {len(rows)} rows ({len(body)} bytes)"
    writer.write(f"feeds/{link.link_id}/{now:%Y-%m-%d}.{fmt}", body, CONTENT_TYPES[fmt])
    writer.write(latest_key(link.link_id, fmt), body, CONTENT_TYPES[fmt])
    return f"feed written: {len(rows)} rows"


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
    key = latest_key(link.link_id, link.feed.format)
    if not writer.exists(key):
        raise NotFound("no feed has been written for this link yet")
    return writer.presign(key, expires_in)
