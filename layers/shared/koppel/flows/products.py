"""Flow: products and prices from the backoffice to a channel, in batches, matched by SKU.

Every 10 minutes a run reads the backoffice's products a page at a time from where the last run
stopped (a cursor per link), so a first sync of a large catalogue spans several runs. A product goes
to the channel when:
- it is published on this link: the backoffice offers it on the link's sales channel (where it
  says so), or `products.publish_all_by_default`, or its group is in
  `products.published_groups`; never when the backoffice says it is not offered there or its group
  is in `products.excluded_groups`. The nightly feed applies the same rule;
- it has a price (from `products.price_list` when the link names one: a product without a price
  in that list is not synced);
- the channel already has it, by SKU or EAN. A product on the backoffice only is reported, never
  created blindly on the channel, unless the link says `products.create_missing` and the channel
  can create products (a webshop): then it is created there, and matched by SKU from then on;
- it changed since it was last accepted (a digest of what koppel sends).
The backoffice's other fields go to the channel's attributes the link names (`products.attributes`:
backoffice field -> channel attribute code); a field the product lacks is left as the channel has it.
A replaced image is sent as a new image. A backoffice with a change feed (revisions) hands
back where the next pass starts, so a run reads only the products changed since the last one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from koppel.config import Link
from koppel.connectors.base import ProductCreation, ProductPushResult, ProductSource, ProductTarget, ProductUpdate
from koppel.models import Product
from koppel.ports.products import ProductRecord, ProductRecords

BACKOFFICE_ONLY = "on the backoffice only: the channel has no product with this SKU or EAN, and koppel creates none"
CANNOT_CREATE = "on the backoffice only: products.create_missing is on, but this channel cannot have products created"
NO_PRICE = "no price (in the link's price list)"


@dataclass
class SyncReport:
    read: int = 0
    synced: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
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
        if self.created:
            parts.append(f"created {len(self.created)} on the channel")
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


def digest(product: Product, attributes: dict[str, str] | None = None) -> str:
    # Stock is not product data: it has its own flow, and would make every product look changed.
    # The channel attributes the link maps count too, so a changed mapping sends the product again.
    text = product.model_dump_json(exclude={"quantity"})
    if attributes:
        text += repr(sorted(attributes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def channel_attributes(link: Link, product: Product) -> dict[str, str]:
    """The channel's attributes for the product, by the link's `products.attributes` mapping."""
    return {
        code: product.attributes[name] for name, code in link.products.attributes.items() if name in product.attributes
    }


def published(link: Link, product: Product) -> bool:
    """Whether the product is for the link's channel: never when the backoffice says it is not offered
    there (its publication per sales channel) or its group is excluded; otherwise when the
    backoffice says it is, or the link publishes everything, or its group is published."""
    settings = link.products
    if product.published is False or (product.group and product.group in settings.excluded_groups):
        return False
    return bool(product.published) or settings.publish_all_by_default or product.group in settings.published_groups


def sync_products(
    link: Link,
    *,
    source: ProductSource,
    target: ProductTarget,
    records: ProductRecords,
    out_of_time: Callable[[], bool] = lambda: False,
    creator: ProductCreation | None = None,  # the channel can create products (`products.create_missing`)
) -> SyncReport:
    report = SyncReport()
    # A cursor belongs to the listing it came from: a changed price list starts the pass over.
    mode = f"{link.products.price_list}|"
    stored = records.cursor(link.link_id) or ""
    cursor = stored[len(mode) :] if stored.startswith(mode) and len(stored) > len(mode) else None
    while True:
        page = source.product_page(cursor, price_list=link.products.price_list)
        report.read += len(page.products)
        _sync_page(link, page.products, target=target, records=records, report=report, creator=creator)
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
    link: Link,
    products: Sequence[Product],
    *,
    target: ProductTarget,
    records: ProductRecords,
    report: SyncReport,
    creator: ProductCreation | None,
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
        sent = digest(product, channel_attributes(link, product))
        if record is not None and record.status in ("synced", "refused") and record.digest == sent:
            # Refused and unchanged since: reported when it was refused, not sent again every run.
            report.unchanged += 1
        else:
            changed.append(product)
    unresolved = [product for product in changed if not (held.get(product.sku) or ProductRecord("")).channel_ref]
    refs = target.product_refs([(product.sku, product.ean) for product in unresolved]) if unresolved else {}
    updates: list[ProductUpdate] = []
    creates: list[ProductUpdate] = []
    create = link.products.create_missing
    for product in changed:
        record = held.get(product.sku) or ProductRecord(product.sku)
        ref = record.channel_ref or refs.get(product.sku, "")
        attributes = channel_attributes(link, product)
        if not ref and create and creator is not None:
            creates.append(ProductUpdate(product=product, channel_ref="", image_changed=True, attributes=attributes))
            continue
        if not ref:
            report.backoffice_only.append(product.sku)
            if not link.dry_run:
                error = CANNOT_CREATE if create else BACKOFFICE_ONLY
                records.put(link.link_id, ProductRecord(product.sku, status="backoffice_only", error=error))
            continue
        image_changed = bool(product.image_url) and product.image_url != record.image_url
        updates.append(
            ProductUpdate(product=product, channel_ref=ref, image_changed=image_changed, attributes=attributes)
        )
    if link.dry_run:
        report.would_sync.extend(update.product.sku for update in updates + creates)
        return
    if creates and creator is not None:
        _send(link, creates, creator.create_products, max(1, target.max_batch), held, records, report, report.created)
    _send(link, updates, target.push_products, max(1, target.max_batch), held, records, report, report.synced)


def _send(
    link: Link,
    updates: list[ProductUpdate],
    push: Callable[[Sequence[ProductUpdate]], list[ProductPushResult]],
    batch: int,
    held: dict[str, ProductRecord],
    records: ProductRecords,
    report: SyncReport,
    accepted: list[str],
) -> None:
    for start in range(0, len(updates), batch):
        chunk = updates[start : start + batch]
        for update, result in zip(chunk, push(chunk), strict=True):
            product = update.product
            previous = held.get(product.sku) or ProductRecord(product.sku)
            sent = digest(product, dict(update.attributes))
            if result.accepted:
                accepted.append(product.sku)
                records.put(
                    link.link_id,
                    ProductRecord(product.sku, sent, product.image_url, update.channel_ref, "synced"),
                )
            elif result.retryable:
                report.retry.append(product.sku)  # not recorded as synced: the next pass sends it again
            else:
                report.refused[product.sku] = result.error
                # The channel's id is forgotten, so a product made again there is found anew.
                records.put(
                    link.link_id,
                    ProductRecord(product.sku, sent, previous.image_url, "", "refused", result.error),
                )
