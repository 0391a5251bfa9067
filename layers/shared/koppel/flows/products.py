"""Flow: products and prices from the backoffice to a channel, in batches, matched by SKU.

Every 10 minutes a run reads the backoffice's products a page at a time from where the last run
stopped (a cursor per link), so a first sync of a large catalogue spans several runs. A product goes
to the channel when:
- it is published on this link: `products.publish_all_by_default`, or its group is in
  `products.published_groups`, and its group is not in `products.excluded_groups`;
- it has a price (from `products.price_list` when the link names one: a product without a price
  in that list is not synced);
- the channel already has it, by SKU or EAN. A product on the backoffice only is reported, never
  created blindly on the channel;
- it changed since it was last accepted (a digest of what koppel sends).
A replaced image is sent as a new image. A backoffice with a change feed (revisions) hands
back where the next pass starts, so a run reads only the products changed since the last one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from koppel.config import Link
from koppel.connectors.base import ProductSource, ProductTarget, ProductUpdate
from koppel.models import Product
from koppel.ports.products import ProductRecord, ProductRecords

BACKOFFICE_ONLY = "on the backoffice only: the channel has no product with this SKU or EAN, and koppel creates none"
NO_PRICE = "no price (in the link's price list)"


@dataclass
class SyncReport:
    read: int = 0
    synced: list[str] = field(default_factory=list)
    unchanged: int = 0
    unpublished: int = 0
    unpriced: int = 0
    backoffice_only: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    retry: list[str] = field(default_factory=list)
    would_sync: list[str] = field(default_factory=list)
    finished_pass: bool = False
    resumes: bool = False  # the source hands back where the next pass starts: it reads only changes

    def summary(self) -> str:
        done = f"would sync {len(self.would_sync)}" if self.would_sync else f"synced {len(self.synced)}"
        parts = [f"{self.read} product(s) read, {done}, {self.unchanged} unchanged"]
        if self.unpublished:
            parts.append(f"{self.unpublished} not published on this link")
        if self.unpriced:
            parts.append(f"{self.unpriced} without a price")
        if self.backoffice_only:
            shown = ", ".join(sorted(self.backoffice_only)[:10])
            more = f" and {len(self.backoffice_only) - 10} more" if len(self.backoffice_only) > 10 else ""
            parts.append(f"{len(self.backoffice_only)} on the backoffice only ({shown}{more})")
        if self.refused:
            parts.append("refused: " + "; ".join(f"{sku}: {why}" for sku, why in sorted(self.refused.items())))
        if self.retry:
            parts.append(f"{len(self.retry)} to retry next run")
        if self.finished_pass:
            parts.append(
                "catalogue done, next run reads what changed"
                if self.resumes
                else "catalogue done, next run starts over"
            )
        else:
            parts.append("continues next run")
        return "; ".join(parts)


def digest(product: Product) -> str:
    # Stock is not product data: it has its own flow, and would make every product look changed.
    return hashlib.sha256(product.model_dump_json(exclude={"quantity"}).encode()).hexdigest()


def published(link: Link, product: Product) -> bool:
    settings = link.products
    if product.group and product.group in settings.excluded_groups:
        return False
    return settings.publish_all_by_default or product.group in settings.published_groups


def sync_products(
    link: Link,
    *,
    source: ProductSource,
    target: ProductTarget,
    records: ProductRecords,
    out_of_time: Callable[[], bool] = lambda: False,
) -> SyncReport:
    report = SyncReport()
    # A cursor belongs to the listing it came from: a changed price list starts the pass over.
    mode = f"{link.products.price_list}|"
    stored = records.cursor(link.link_id) or ""
    cursor = stored[len(mode) :] if stored.startswith(mode) and len(stored) > len(mode) else None
    while True:
        page = source.product_page(cursor, price_list=link.products.price_list)
        report.read += len(page.products)
        _sync_page(link, page.products, target=target, records=records, report=report)
        cursor = page.cursor
        if not link.dry_run:
            # Saved after every page: a run cut short, or a page that fails, keeps what went before.
            # A source with a change feed resumes the next pass where this one ended.
            kept = cursor if cursor is not None else page.resume
            records.set_cursor(link.link_id, None if kept is None else mode + kept)
        if cursor is None:
            report.finished_pass, report.resumes = True, page.resume is not None
            break
        if out_of_time():
            break
    return report


def _sync_page(
    link: Link, products: Sequence[Product], *, target: ProductTarget, records: ProductRecords, report: SyncReport
) -> None:
    candidates: list[Product] = []
    for product in products:
        if not published(link, product):
            report.unpublished += 1
        elif product.price is None:
            report.unpriced += 1
        else:
            candidates.append(product)
    held = records.get_many(link.link_id, [product.sku for product in candidates])
    changed = []
    for product in candidates:
        record = held.get(product.sku)
        if record is not None and record.status in ("synced", "refused") and record.digest == digest(product):
            # Refused and unchanged since: reported when it was refused, not sent again every run.
            report.unchanged += 1
        else:
            changed.append(product)
    unresolved = [product for product in changed if not (held.get(product.sku) or ProductRecord("")).channel_ref]
    refs = target.product_refs([(product.sku, product.ean) for product in unresolved]) if unresolved else {}
    updates: list[ProductUpdate] = []
    for product in changed:
        record = held.get(product.sku) or ProductRecord(product.sku)
        ref = record.channel_ref or refs.get(product.sku, "")
        if not ref:
            report.backoffice_only.append(product.sku)
            if not link.dry_run:
                records.put(link.link_id, ProductRecord(product.sku, status="backoffice_only", error=BACKOFFICE_ONLY))
            continue
        image_changed = bool(product.image_url) and product.image_url != record.image_url
        updates.append(ProductUpdate(product=product, channel_ref=ref, image_changed=image_changed))
    if link.dry_run:
        report.would_sync.extend(update.product.sku for update in updates)
        return
    for start in range(0, len(updates), max(1, target.max_batch)):
        chunk = updates[start : start + target.max_batch]
        for update, result in zip(chunk, target.push_products(chunk), strict=True):
            product = update.product
            previous = held.get(product.sku) or ProductRecord(product.sku)
            if result.accepted:
                report.synced.append(product.sku)
                records.put(
                    link.link_id,
                    ProductRecord(product.sku, digest(product), product.image_url, update.channel_ref, "synced"),
                )
            elif result.retryable:
                report.retry.append(product.sku)  # not recorded as synced: the next pass sends it again
            else:
                report.refused[product.sku] = result.error
                # The channel's id is forgotten, so a product made again there is found anew.
                records.put(
                    link.link_id,
                    ProductRecord(product.sku, digest(product), previous.image_url, "", "refused", result.error),
                )
