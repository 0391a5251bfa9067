"""The mutations the Shopify simulator imitates, each refused with Shopify's user errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from koppel_local.simulators.shopify.common import (
    CANCEL_REASONS,
    IMAGE_URL,
    INVENTORY_REASONS,
    MAX_INVENTORY_QUANTITY,
    SETTABLE_QUANTITIES,
    URI,
    user_error,
)
from koppel_local.simulators.shopify.nodes import (
    available,
    customer_node,
    fulfilled_quantity,
    inventory_item_node,
    location_node,
    move_stock,
    order_node,
    product_node,
    variant_node,
)

if TYPE_CHECKING:
    from koppel_local.simulators.shopify.app import ShopifySimulator


def resolve_inventory_set_quantities(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("input") or {}
    problems = inventory_problems(sim, given)
    if problems:
        # All or nothing: Shopify sets none of the quantities when one is refused.
        return {"inventoryAdjustmentGroup": None, "userErrors": problems}
    name = given["name"]
    now = datetime.now(UTC).isoformat()
    changes: list[dict[str, Any]] = []
    for quantity in given["quantities"]:
        variant = next(v for v in sim.variants if v["inventory_item_id"] == quantity["inventoryItemId"])
        level = variant["levels"][quantity["locationId"]]
        before = level["available"] + (level["committed"] if name == "on_hand" else 0)
        target = int(quantity["quantity"])
        level["available"] = target if name == "available" else target - level["committed"]
        level["updatedAt"] = now
        changes.append(
            {
                "__typename": "InventoryChange",
                "name": name,
                "delta": target - before,
                "quantityAfterChange": target,
                "item": inventory_item_node(sim, variant),
                "location": location_node(sim.location(quantity["locationId"])),
                "sku": variant["sku"],
            }
        )
    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": sim.new_id("InventoryAdjustmentGroup"),
        "createdAt": now,
        "reason": given["reason"],
        "referenceDocumentUri": given.get("referenceDocumentUri"),
        "changes": lambda change_args: [
            change for change in changes if change["name"] in (change_args.get("quantityNames") or [name])
        ],
    }
    sim.adjustments.append({**group, "changes": changes})
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


def inventory_problems(sim: ShopifySimulator, given: dict[str, Any]) -> list[dict[str, Any]]:
    if given.get("name") not in SETTABLE_QUANTITIES:
        return [
            user_error(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
        ]
    if given.get("reason") not in INVENTORY_REASONS:
        return [user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")]
    uri = given.get("referenceDocumentUri")
    if uri is not None and not URI.match(str(uri)):
        return [
            user_error(
                ["input", "referenceDocumentUri"],
                "The specified reference document is invalid.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        ]
    problems: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, quantity in enumerate(given.get("quantities") or []):
        where = ["input", "quantities", str(index)]
        variant = next((v for v in sim.variants if v["inventory_item_id"] == quantity["inventoryItemId"]), None)
        location = sim.record_by_id(sim.locations, quantity["locationId"])
        units = int(quantity["quantity"])
        pair = (quantity["inventoryItemId"], quantity["locationId"])
        if variant is None:
            problems.append(
                user_error(
                    [*where, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
        elif location is None:
            problems.append(
                user_error([*where, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
            )
        elif location["id"] not in variant["levels"]:
            problems.append(
                user_error(
                    [*where, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
        elif pair in seen:
            problems.append(
                user_error(
                    [*where, "inventoryItemId"],
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
        elif units < 0:
            problems.append(
                user_error([*where, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
            )
        elif units > MAX_INVENTORY_QUANTITY:
            problems.append(
                user_error(
                    [*where, "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        elif not given.get("ignoreCompareQuantity"):
            problems.extend(compare_problems(variant, location["id"], given["name"], quantity, where))
        seen.add(pair)
    return problems


def compare_problems(
    variant: dict[str, Any], location_id: str, name: str, quantity: dict[str, Any], where: list[str]
) -> list[dict[str, Any]]:
    if quantity.get("compareQuantity") is None:
        return [
            user_error(
                [*where, "compareQuantity"],
                "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        ]
    level = variant["levels"][location_id]
    current = level["available"] + (level["committed"] if name == "on_hand" else 0)
    if int(quantity["compareQuantity"]) != current:
        return [
            user_error(
                [*where, "compareQuantity"],
                "The compareQuantity value does not match persisted value.",
                "COMPARE_QUANTITY_STALE",
            )
        ]
    return []


def resolve_customer_create(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    fields = args.get("input") or {}
    email = str(fields.get("email") or "").strip()
    if not email and not fields.get("phone"):
        return {"customer": None, "userErrors": [user_error(["input"], "A customer needs an email or a phone")]}
    if email and sim.customer_by_email(email) is not None:
        return {"customer": None, "userErrors": [user_error(["email"], "Email has already been taken")]}
    return {"customer": customer_node(sim, sim.new_customer(fields)), "userErrors": []}


def resolve_order_create(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    order_in = args.get("order") or {}
    options = args.get("options") or {}
    problems = order_problems(sim, order_in, options)
    if problems:
        return {"order": None, "userErrors": problems}
    customer, problems = order_customer(sim, order_in)
    if problems:
        return {"order": None, "userErrors": problems}
    lines = [order_line(sim, item) for item in order_in.get("lineItems") or []]
    claim_inventory(sim, lines, options.get("inventoryBehaviour") or "BYPASS")
    record = order_record(sim, order_in, lines, customer)
    record["inventoryClaimed"] = (options.get("inventoryBehaviour") or "BYPASS") != "BYPASS"
    sim.orders.append(record)
    sim.index(record)
    return {"order": order_node(sim, record), "userErrors": []}


def resolve_order_cancel(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    order = sim.record_by_id(sim.orders, args.get("orderId"))
    if order is None:
        return cancel_payload(None, [user_error(["orderId"], "Order does not exist", "NOT_FOUND")])
    problems = cancel_problems(order, str(args.get("reason")))
    if problems:
        return cancel_payload(None, problems)
    cancel_order(
        sim,
        order,
        str(args["reason"]),
        restock=bool(args.get("restock")),
        refund=bool(args.get("refund")),
        staff_note=args.get("staffNote"),
    )
    # Shopify cancels in a background job and answers before it has run.
    job = {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": False}
    sim.jobs[job["id"]] = job
    return cancel_payload({"__typename": "Job", **job, "query": None}, [])


# --- productVariantsBulkUpdate and productUpdate -------------------------------------------------
def resolve_variants_bulk_update(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    """Each variant's changes, checked one by one; with `allowPartialUpdates` the valid ones land."""
    product_id = args.get("productId")
    variants = sim.product_variants(str(product_id))
    if not variants:
        error_ = user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": [error_]}
    media_in = list(args.get("media") or [])
    problems = media_problems(media_in)
    bad_urls = {str(media_in[int(problem["field"][1])].get("originalSource")) for problem in problems}
    new_urls = [str(media.get("originalSource")) for media in media_in]
    changes: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for position, given in enumerate(args.get("variants") or []):
        found = variant_problems(sim, str(product_id), position, given, new_urls, bad_urls)
        problems.extend(found)
        if not found:
            changes.append((sim.record_by_id(variants, given["id"]) or {}, given))
    if problems and not args.get("allowPartialUpdates"):
        return {"product": None, "productVariants": None, "userErrors": problems}
    for url in new_urls:
        if url not in bad_urls:
            sim.add_media(
                str(product_id), url, str(next(m for m in media_in if m["originalSource"] == url).get("alt") or "")
            )
    for variant, given in changes:
        apply_variant_changes(variant, given)
    return {
        "product": product_node(sim, variants[0]),
        "productVariants": [variant_node(sim, variant) for variant, _ in changes],
        "userErrors": problems,
    }


def media_problems(media_in: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems = []
    for position, media in enumerate(media_in):
        if media.get("mediaContentType") != "IMAGE":
            problems.append(
                user_error(["media", str(position), "mediaContentType"], "Only images are imitated", "INVALID_INPUT")
            )
        elif not IMAGE_URL.match(str(media.get("originalSource") or "")):
            problems.append(
                user_error(["media", str(position), "originalSource"], "Image URL is invalid", "INVALID_INPUT")
            )
    return problems


def variant_problems(
    sim: ShopifySimulator,
    product_id: str,
    position: int,
    given: dict[str, Any],
    new_urls: list[str],
    bad_urls: set[str],
) -> list[dict[str, Any]]:
    where = ["variants", str(position)]
    if not given.get("id"):
        return [user_error([*where, "id"], "Product variant id is missing", "PRODUCT_VARIANT_ID_MISSING")]
    variant = sim.record_by_id(sim.product_variants(product_id), given["id"])
    if variant is None:
        return [user_error([*where, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")]
    problems = []
    for name in ("price", "compareAtPrice"):
        if given.get(name) is None:
            continue
        try:
            amount = Decimal(str(given[name]))
        except ArithmeticError:
            problems.append(user_error([*where, name], f"{name} is not a valid amount", "INVALID_INPUT"))
            continue
        if amount < 0:
            label = "Price" if name == "price" else "Compare at price"
            problems.append(
                user_error([*where, name], f"{label} must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO")
            )
    for url in given.get("mediaSrc") or ():
        if url not in new_urls:
            problems.append(
                user_error([*where, "mediaSrc"], "Media src must be one of the media being added", "INVALID_INPUT")
            )
        elif url in bad_urls:
            problems.append(user_error([*where, "mediaSrc"], "Image URL is invalid", "INVALID_INPUT"))
    weight = ((given.get("inventoryItem") or {}).get("measurement") or {}).get("weight")
    if weight is not None and float(weight["value"]) < 0:
        problems.append(
            user_error([*where, "inventoryItem", "measurement", "weight"], "Weight must be positive", "INVALID_INPUT")
        )
    return problems


def apply_variant_changes(variant: dict[str, Any], given: dict[str, Any]) -> None:
    """What Shopify stores: a field left out stays, a field sent as null (compare-at) is cleared."""
    if "price" in given and given["price"] is not None:
        variant["price"] = Decimal(str(given["price"]))
    if "compareAtPrice" in given:
        compare_at = given["compareAtPrice"]
        variant["compare_at_price"] = Decimal(str(compare_at)) if compare_at is not None else None
    if "barcode" in given:
        variant["barcode"] = str(given["barcode"] or "")
    item = given.get("inventoryItem") or {}
    if item.get("tracked") is not None:
        variant["tracked"] = bool(item["tracked"])
    weight = (item.get("measurement") or {}).get("weight")
    if weight is not None:
        # Weight.value is a Float: keep what the client typed, not its binary value.
        variant["weight"] = (
            Decimal(repr(weight["value"])) if isinstance(weight["value"], float) else Decimal(weight["value"])
        )
        variant["weight_unit"] = weight["unit"]
    for url in given.get("mediaSrc") or ():
        variant["image_url"] = url


def resolve_product_update(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("product") or {}
    variants = sim.product_variants(str(given.get("id")))
    if not variants:
        return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}
    if "title" in given and not str(given.get("title") or "").strip():
        return {"product": None, "userErrors": [user_error(["title"], "Title can't be blank")]}
    media_in = list(args.get("media") or [])
    problems = media_problems(media_in)
    if problems:
        return {"product": None, "userErrors": problems}
    for variant in variants:
        for key, name in (("title", "title"), ("productType", "product_type"), ("vendor", "vendor")):
            if given.get(key) is not None:
                variant[name] = str(given[key])
    for media in media_in:
        sim.add_media(str(given["id"]), str(media["originalSource"]), str(media.get("alt") or ""))
    return {"product": product_node(sim, variants[0]), "userErrors": []}


# --- orderCancel ---------------------------------------------------------------------------------
def cancel_problems(order: dict[str, Any], reason: str) -> list[dict[str, Any]]:
    if reason not in CANCEL_REASONS:
        return [user_error(["reason"], f"Reason {reason} is not a cancel reason", "INVALID")]
    if order["cancelledAt"] is not None:
        return [user_error(["orderId"], "Order has already been cancelled", "INVALID")]
    if any(fulfillment["status"] == "SUCCESS" for fulfillment in order["fulfillments"]):
        # Shopify: an order with fulfilments cannot be cancelled; the fulfilments go first.
        return [user_error(["orderId"], "Cannot cancel an order with fulfillments", "INVALID")]
    return []


def cancel_order(
    sim: ShopifySimulator,
    order: dict[str, Any],
    reason: str,
    *,
    restock: bool,
    refund: bool,
    staff_note: str | None = None,
) -> None:
    now = datetime.now(UTC).isoformat()
    order.update(cancelledAt=now, cancelReason=reason, staffNote=staff_note, closed=True, closedAt=now)
    if restock and order["inventoryClaimed"]:
        for line in order["lines"]:
            variant = sim.record_by_id(sim.variants, line["variantId"])
            if variant is not None:
                move_stock(variant, line["quantity"] - fulfilled_quantity(order, line["id"]))
    if refund and order["financialStatus"] in ("PAID", "PARTIALLY_PAID"):
        money = {"amount": order["total"], "currencyCode": order["currency"]}
        order["transactions"].append({"kind": "REFUND", "status": "SUCCESS", "amountSet": {"shopMoney": money}})
        order["financialStatus"] = "REFUNDED"


def cancel_payload(job: dict[str, Any] | None, problems: list[dict[str, Any]]) -> dict[str, Any]:
    # The deprecated `userErrors` carries the same errors without their codes.
    plain = [{key: value for key, value in problem.items() if key != "code"} for problem in problems]
    return {"job": job, "orderCancelUserErrors": problems, "userErrors": plain}


# --- orderCreate ---------------------------------------------------------------------------------
def order_problems(sim: ShopifySimulator, order_in: dict[str, Any], options: dict[str, Any]) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    items = order_in.get("lineItems") or []
    if not items:
        problems.append(user_error(["order", "lineItems"], "An order needs line items", "INVALID"))
    for index, item in enumerate(items):
        where = ["order", "lineItems", str(index)]
        if item.get("variantId") and sim.record_by_id(sim.variants, item["variantId"]) is None:
            problems.append(user_error([*where, "variantId"], "Product variant does not exist", "INVALID"))
        if int(item.get("quantity") or 0) <= 0:
            problems.append(user_error([*where, "quantity"], "Quantity must be greater than 0", "INVALID"))
        if item.get("taxLines") and order_in.get("taxLines"):
            problems.append(user_error([*where, "taxLines"], "Tax lines go on the order or its lines", "INVALID"))
        for tax in item.get("taxLines") or []:
            if tax.get("rate") is None:
                problems.append(user_error([*where, "taxLines"], "Tax line rate is missing", "TAX_LINE_RATE_MISSING"))
    problems.extend(discount_problems(order_in.get("discountCode")))
    if options.get("inventoryBehaviour") == "DECREMENT_OBEYING_POLICY":
        for index, item in enumerate(items):
            variant = sim.record_by_id(sim.variants, item.get("variantId"))
            if variant is not None and available(variant) < int(item.get("quantity") or 0):
                where = ["order", "lineItems", str(index)]
                problems.append(user_error(where, "Not enough inventory", "INVENTORY_CLAIM_FAILED"))
    return problems


DISCOUNT_KINDS = ("itemFixedDiscountCode", "itemPercentageDiscountCode", "freeShippingDiscountCode")


def discount_problems(discount_in: dict[str, Any] | None) -> list[dict[str, Any]]:
    where = ["order", "discountCode"]
    given = {kind: attributes for kind in DISCOUNT_KINDS if (attributes := (discount_in or {}).get(kind))}
    if len(given) > 1:
        return [user_error(where, "Only one type of discount can be applied to an order", "INVALID")]
    if not given:
        return []
    [(kind, attributes)] = given.items()
    if not str(attributes.get("code") or "").strip():
        return [user_error([*where, kind, "code"], "Discount code can't be blank", "INVALID")]
    amount = (attributes.get("amountSet") or {}).get("shopMoney", {}).get("amount")
    if amount is not None and Decimal(str(amount)) < 0:
        return [user_error([*where, kind, "amountSet"], "Discount amount must not be negative", "INVALID")]
    percentage = attributes.get("percentage")
    if percentage is not None and not 0 <= Decimal(str(percentage)) <= 100:
        return [user_error([*where, kind, "percentage"], "Percentage must be between 0 and 100", "INVALID")]
    return []


def discount_record(discount_in: dict[str, Any] | None, subtotal: Decimal, shipping: Decimal) -> dict[str, Any] | None:
    """The one discount code of an order and what it takes off; None when the order has none."""
    found = next(((kind, value) for kind in DISCOUNT_KINDS if (value := (discount_in or {}).get(kind))), None)
    if found is None:
        return None
    kind, attributes = found
    if kind == "itemFixedDiscountCode":
        money = (attributes.get("amountSet") or {}).get("shopMoney") or {}
        amount = Decimal(str(money.get("amount", 0)))
    elif kind == "itemPercentageDiscountCode":
        percentage = Decimal(str(attributes.get("percentage") or 0))
        amount = (subtotal * percentage / 100).quantize(Decimal("0.01"))
    else:
        amount = shipping
    # A discount takes the discounted part to zero at most, never below.
    amount = min(amount, shipping if kind == "freeShippingDiscountCode" else subtotal)
    return {"code": str(attributes["code"]), "kind": kind, "amount": amount}


def order_customer(
    sim: ShopifySimulator, order_in: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    choice = order_in.get("customer") or {}
    associate, upsert = choice.get("toAssociate"), choice.get("toUpsert")
    if associate and upsert:
        return None, [user_error(["order", "customer"], "Give toAssociate or toUpsert", "REDUNDANT_CUSTOMER_FIELDS")]
    if associate:
        found = (
            sim.record_by_id(sim.customers, associate["id"])
            if associate.get("id")
            else sim.customer_by_email(str(associate.get("email") or ""))
        )
        if found is None:
            return None, [user_error(["order", "customer", "toAssociate"], "Customer does not exist", "INVALID")]
        return found, []
    email = str((upsert or {}).get("email") or order_in.get("email") or "")
    if not email:
        return None, []
    # toUpsert's e-mail identifies the customer (documented); a bare order e-mail is treated alike here.
    return sim.customer_by_email(email) or sim.new_customer({**(upsert or {}), "email": email}), []


def order_line(sim: ShopifySimulator, item: dict[str, Any]) -> dict[str, Any]:
    variant = sim.record_by_id(sim.variants, item.get("variantId")) or {}
    # Line item properties given to orderCreate come back as the line's customAttributes.
    properties = [{"key": prop["name"], "value": prop["value"]} for prop in item.get("properties") or []]
    price = item.get("priceSet") or {"shopMoney": {"amount": variant.get("price", Decimal(0)), "currencyCode": ""}}
    return {
        "id": sim.new_id("LineItem"),
        "variantId": variant.get("id"),
        "sku": item.get("sku") or variant.get("sku", ""),
        "title": item.get("title") or variant.get("title", ""),
        "quantity": int(item["quantity"]),
        "price": Decimal(str(price["shopMoney"]["amount"])),
        "currency": price["shopMoney"]["currencyCode"] or sim.shop_currency,
        "requiresShipping": bool(item.get("requiresShipping", False)),
        "taxLines": [tax_record(tax) for tax in item.get("taxLines") or []],
        "customAttributes": properties,
    }


def tax_record(tax: dict[str, Any]) -> dict[str, Any]:
    amount = (tax.get("priceSet") or {}).get("shopMoney", {}).get("amount", 0)
    return {"title": tax.get("title", ""), "rate": Decimal(str(tax["rate"])), "amount": Decimal(str(amount))}


def claim_inventory(sim: ShopifySimulator, lines: list[dict[str, Any]], behaviour: str) -> None:
    if behaviour == "BYPASS":
        return
    for line in lines:
        variant = sim.record_by_id(sim.variants, line["variantId"])
        if variant is not None:
            move_stock(variant, -line["quantity"])


def order_record(
    sim: ShopifySimulator,
    order_in: dict[str, Any],
    lines: list[dict[str, Any]],
    customer: dict[str, Any] | None,
) -> dict[str, Any]:
    shipping = [
        {
            "title": line.get("title", ""),
            "code": line.get("code"),
            "source": line.get("source"),
            "price": Decimal(str(line["priceSet"]["shopMoney"]["amount"])),
            "currency": line["priceSet"]["shopMoney"]["currencyCode"],
        }
        for line in order_in.get("shippingLines") or []
    ]
    line_total = sum((line["price"] * line["quantity"] for line in lines), Decimal(0))
    shipping_total = sum((line["price"] for line in shipping), Decimal(0))
    discount = discount_record(order_in.get("discountCode"), line_total, shipping_total)
    discounts = discount["amount"] if discount else Decimal(0)
    item_discounts = discounts if discount and discount["kind"] != "freeShippingDiscountCode" else Decimal(0)
    now = datetime.now(UTC).isoformat()
    return {
        "id": sim.new_id("Order"),
        "name": f"#{1001 + len(sim.orders)}",
        "createdAt": now,
        "processedAt": order_in.get("processedAt") or now,
        "currency": order_in.get("currency") or sim.shop_currency,
        "financialStatus": order_in.get("financialStatus") or "PENDING",
        # OrderCreateFulfillmentStatus has no "unfulfilled": leaving it out is how an order stays open.
        "fulfillmentStatus": order_in.get("fulfillmentStatus") or "UNFULFILLED",
        "taxesIncluded": bool(order_in.get("taxesIncluded", False)),
        "sourceName": order_in.get("sourceName"),
        "sourceIdentifier": order_in.get("sourceIdentifier"),
        "tags": [str(tag).strip() for tag in order_in.get("tags") or []],
        "note": order_in.get("note"),
        "customAttributes": {a["key"]: a["value"] for a in order_in.get("customAttributes") or []},
        "email": order_in.get("email") or (customer or {}).get("email"),
        "customer": customer,
        "lines": lines,
        "shippingLines": shipping,
        "billingAddress": order_in.get("billingAddress"),
        "shippingAddress": order_in.get("shippingAddress"),
        "transactions": list(order_in.get("transactions") or []),
        "discountCode": discount,
        "totalDiscounts": discounts,
        # Shopify's subtotal is the line items after their discounts, before shipping.
        "subtotal": line_total - item_discounts,
        "total": line_total + shipping_total - discounts,
        "inventoryClaimed": False,
        "closed": False,
        "closedAt": None,
        "cancelledAt": None,
        "cancelReason": None,
        "staffNote": None,
        "fulfillments": [],
    }
