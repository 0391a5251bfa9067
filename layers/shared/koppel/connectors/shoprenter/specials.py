"""A product's sale price in a Shoprenter shop: the one special (`productSpecials`) koppel keeps for it.

Facts (../shared/reference/shoprenter/sr-api-docs/: api/product_special.md with its fixtures,
development/api-examples/01_0_product_special.md, development/api/05_outer_id.md):
- a special has `priority`, a net `price`, `dateFrom`, `dateTo`, `minQuantity`, `maxQuantity` (0: no
  limit), `product` and `customerGroup`; the shop writes a special without dates as
  "0000-00-00 00:00:00", and so does the docs' example product's list of specials;
- a product's `productExtend` answer lists its specials (`productSpecials`), and `GET /productSpecials`
  takes `productId` (the product's resource id) with `full=1`;
- `POST /productSpecials[/{id}]` creates and modifies, `PUT /productSpecials/{id}` modifies, `DELETE`
  answers 204 or 404; an id koppel gives on a POST is kept as the special's OUTER_ID, by which it is
  read, changed and deleted, and which is its `id` from then on.

Which special is koppel's: the one whose id is koppel's OUTER_ID for the product, `koppel-sale-{innerId}`.
A merchant's own special has the shop's own base64 id and so can never be taken for koppel's, whatever
its priority, price or group; and koppel stores nothing to know it again. The id also makes the create
safe to send twice: a batch whose answer was lost is sent again, and its POST to that id then changes
the special it made the first time instead of adding a second. (A reserved priority would not do: a
merchant may pick the same number, and the priority is what decides which special a buyer gets, so it
is the account's `sale_priority`, free for that.)

What koppel writes: the sale price over (1 + the product's VAT rate), to four places like the price; in
the product's default customer group (the one whose `productPrices` koppel reads prices from); from and
to "0000-00-00 00:00:00" (no dates) and quantities 0 (any number), so it holds until koppel removes it.

Not verified against a live shop: that "0000-00-00 00:00:00" is taken on a write as no date (the
docs show it only in answers; their write examples carry real dates); that a POST to an OUTER_ID that
exists changes it rather than being refused (the docs: "create and modify"); that `productExtend`'s
list gives a special's OUTER_ID as its `id`; that a special the merchant deleted in the admin leaves
no OUTER_ID behind that would block koppel's next POST (the docs warn that admin deletions do not
clear outer ids of products); how the shop picks among several specials (the lowest priority number
first, as the product-of-the-day example's -1 implies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from koppel.connectors.shoprenter.client import SubAnswer, SubRequest, decimal, items_of
from koppel.connectors.shoprenter.orders import decoded, text

SALE_ID = "koppel-sale-{}"
OPEN_DATE = "0000-00-00 00:00:00"  # the shop's own word for a special without a start or an end
READ_LIMIT = 200  # specials of one product in one read: the list's largest page


def sale_special_id(product: Mapping[str, Any]) -> str:
    """koppel's OUTER_ID for the product's special, from its innerId; "" when the product names none."""
    inner = text(product.get("innerId")) or decoded(str(product.get("id") or "")).rpartition("product_id=")[2]
    return SALE_ID.format(inner) if inner.isdigit() else ""


def listed_specials(product: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The specials a `productExtend` answer lists; None when it lists them as links only (read them apart)."""
    listed = product.get("productSpecials")
    if not isinstance(listed, list):
        return None
    entries = [entry for entry in listed if isinstance(entry, dict)]
    if any("price" not in entry for entry in entries):
        return None
    return entries


def specials_read(product_refs: Sequence[str]) -> list[SubRequest]:
    """One list request per product, for products whose answer did not list their specials."""
    return [
        SubRequest("GET", "productSpecials?" + urlencode({"productId": ref, "full": 1, "limit": READ_LIMIT}))
        for ref in product_refs
    ]


def specials_answered(answer: SubAnswer) -> list[dict[str, Any]]:
    return items_of(answer.body) if isinstance(answer.body, dict) else []


def default_group(product: Mapping[str, Any]) -> str:
    """The id of the product's default customer group (its `productPrices` entry marked default)."""
    for price in product.get("productPrices") or ():
        group = (price or {}).get("customerGroup") if isinstance(price, dict) else None
        if isinstance(group, dict) and group.get("default") and group.get("id"):
            return str(group["id"])
    return ""


def koppel_special(specials: Sequence[Mapping[str, Any]], special_id: str) -> Mapping[str, Any] | None:
    for entry in specials:
        if str(entry.get("id") or "") == special_id or str(entry.get("href") or "").endswith(
            f"/productSpecials/{special_id}"
        ):
            return entry
    return None


def special_writes(
    ref: str,
    product: Mapping[str, Any],
    specials: Sequence[Mapping[str, Any]],
    net: Decimal | None,
    priority: int,
) -> tuple[list[SubRequest], str]:
    """The requests that leave the product with koppel's special at `net` (None: without one), and what
    stops them ("" when nothing does). Specials that are not koppel's are never named."""
    special_id = sale_special_id(product)
    if not special_id:
        return [], "Shoprenter did not give the product's innerId, so koppel cannot name its sale price"
    mine = koppel_special(specials, special_id)
    if net is None:
        return ([SubRequest("DELETE", f"productSpecials/{special_id}")] if mine is not None else []), ""
    group = default_group(product)
    if not group:
        return [], "Shoprenter did not name the product's default customer group, so its sale price was not set"
    body = {
        "priority": str(priority),
        "price": net,
        "dateFrom": OPEN_DATE,
        "dateTo": OPEN_DATE,
        "minQuantity": "0",
        "maxQuantity": "0",
        "product": {"id": ref},
        "customerGroup": {"id": group},
    }
    if mine is None:
        return [SubRequest("POST", f"productSpecials/{special_id}", body)], ""
    if current(mine, body, group):
        return [], ""
    return [SubRequest("PUT", f"productSpecials/{special_id}", body)], ""


def current(special: Mapping[str, Any], wanted: Mapping[str, Any], group: str) -> bool:
    """Whether koppel's special already says what it should (its group checked where the answer names it)."""
    if decimal(special.get("price")) != wanted["price"] or text(special.get("priority")) != wanted["priority"]:
        return False
    for field in ("dateFrom", "dateTo"):
        if text(special.get(field)) != OPEN_DATE:
            return False
    for field in ("minQuantity", "maxQuantity"):
        if decimal(special.get(field)) != 0:
            return False
    named = special.get("customerGroup")
    link = str((named or {}).get("id") or (named or {}).get("href") or "") if isinstance(named, dict) else ""
    return not link or link.rstrip("/").rsplit("/", 1)[-1] == group
