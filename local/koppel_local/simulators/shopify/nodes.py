"""GraphQL views of the Shopify simulator's state, and how stock moves between its quantities."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from koppel_local.simulators.shopify.common import QUANTITY_NAMES, FieldError, connection, limited

if TYPE_CHECKING:
    from koppel_local.simulators.shopify.app import ShopifySimulator


def available(variant: dict[str, Any]) -> int:
    return sum(level["available"] for level in variant["levels"].values())


def move_stock(variant: dict[str, Any], units: int, *, shipped: bool = False) -> None:
    """Units back to available (positive) or claimed by an order (negative), at the first location.

    `shipped`: the claimed units leave the shop, so they leave committed (and so on hand) instead.
    """
    if not variant["levels"]:
        return  # not stocked anywhere: Shopify tracks no quantity to claim from
    level = next(iter(variant["levels"].values()))
    if shipped:
        level["committed"] -= units
    else:
        level["available"] += units
        level["committed"] -= units
    level["updatedAt"] = datetime.now(UTC).isoformat()


# --- GraphQL views of the state --------------------------------------------------------------------
def order_node(sim: ShopifySimulator, order: dict[str, Any]) -> dict[str, Any]:
    currency = order["currency"]
    lines = [line_node(sim, line, order) for line in order["lines"]]
    return {
        "__typename": "Order",
        "id": order["id"],
        "legacyResourceId": order["id"].rsplit("/", 1)[-1],
        "name": order["name"],
        "createdAt": order["createdAt"],
        "processedAt": order["processedAt"],
        "currencyCode": currency,
        "displayFinancialStatus": order["financialStatus"],
        "displayFulfillmentStatus": order["fulfillmentStatus"],
        "taxesIncluded": order["taxesIncluded"],
        "sourceName": order["sourceName"],
        "sourceIdentifier": order["sourceIdentifier"],
        "tags": order["tags"],
        "note": order["note"],
        "email": order["email"],
        "test": False,
        "customAttributes": [{"key": k, "value": v} for k, v in order["customAttributes"].items()],
        "customer": customer_node(sim, order["customer"]) if order["customer"] else None,
        "billingAddress": address_node(order["billingAddress"]),
        "shippingAddress": address_node(order["shippingAddress"]),
        "totalPriceSet": money_bag(order["total"], currency),
        "subtotalPriceSet": money_bag(order["subtotal"], currency),
        "totalDiscountsSet": money_bag(order["totalDiscounts"], currency),
        "discountCode": order["discountCode"]["code"] if order["discountCode"] else None,
        "discountCodes": [order["discountCode"]["code"]] if order["discountCode"] else [],
        "lineItems": lambda args: connection(lines, args),
        "closed": order["closed"],
        "closedAt": order["closedAt"],
        "cancelledAt": order["cancelledAt"],
        "cancelReason": order["cancelReason"],
        "fulfillments": lambda args: limited(
            [fulfillment_node(sim, order, fulfillment) for fulfillment in order["fulfillments"]], args
        ),
        "fulfillmentsCount": {"__typename": "Count", "count": len(order["fulfillments"]), "precision": "EXACT"},
    }


def line_node(sim: ShopifySimulator, line: dict[str, Any], order: dict[str, Any] | None = None) -> dict[str, Any]:
    variant = sim.record_by_id(sim.variants, line["variantId"])
    order = order or next((o for o in sim.orders if any(item is line for item in o["lines"])), None)
    shipped = fulfilled_quantity(order, line["id"]) if order else 0
    return {
        "__typename": "LineItem",
        "id": line["id"],
        "sku": line["sku"],
        "title": line["title"],
        "name": line["title"],
        "quantity": line["quantity"],
        "requiresShipping": line["requiresShipping"],
        "variant": variant_node(sim, variant) if variant else None,
        "originalUnitPriceSet": money_bag(line["price"], line["currency"]),
        "taxLines": [
            {"title": tax["title"], "rate": tax["rate"], "priceSet": money_bag(tax["amount"], line["currency"])}
            for tax in line["taxLines"]
        ],
        "customAttributes": [{"__typename": "Attribute", **attribute} for attribute in line["customAttributes"]],
        "fulfillableQuantity": line["quantity"] - shipped,
        "unfulfilledQuantity": line["quantity"] - shipped,
        "currentQuantity": line["quantity"],
    }


def fulfillment_node(sim: ShopifySimulator, order: dict[str, Any], fulfillment: dict[str, Any]) -> dict[str, Any]:
    items = [
        {
            "__typename": "FulfillmentLineItem",
            "id": item["id"],
            "quantity": item["quantity"],
            "lineItem": line_node(sim, next(line for line in order["lines"] if line["id"] == item["lineId"]), order),
        }
        for item in fulfillment["lines"]
    ]
    tracking = [{"__typename": "FulfillmentTrackingInfo", **info} for info in fulfillment["trackingInfo"]]
    return {
        "__typename": "Fulfillment",
        "id": fulfillment["id"],
        "legacyResourceId": fulfillment["id"].rsplit("/", 1)[-1],
        "name": fulfillment["name"],
        "status": fulfillment["status"],
        "createdAt": fulfillment["createdAt"],
        "updatedAt": fulfillment["createdAt"],
        "requiresShipping": True,
        "totalQuantity": sum(item["quantity"] for item in fulfillment["lines"]),
        "trackingInfo": lambda args: limited(tracking, args),
        "fulfillmentLineItems": lambda args: connection(items, args),
    }


def fulfilled_quantity(order: dict[str, Any], line_id: str) -> int:
    """Units of a line in fulfilments that still stand (a cancelled fulfilment gives them back)."""
    return sum(
        item["quantity"]
        for fulfillment in order["fulfillments"]
        if fulfillment["status"] == "SUCCESS"
        for item in fulfillment["lines"]
        if item["lineId"] == line_id
    )


def customer_node(sim: ShopifySimulator, customer: dict[str, Any]) -> dict[str, Any]:
    count = sum(1 for order in sim.orders if order["customer"] is customer)
    name = " ".join(part for part in (customer["firstName"], customer["lastName"]) if part)
    return {
        "__typename": "Customer",
        "id": customer["id"],
        "email": customer["email"],
        "defaultEmailAddress": {"emailAddress": customer["email"]} if customer["email"] else None,
        "firstName": customer["firstName"],
        "lastName": customer["lastName"],
        "displayName": name or customer["email"],
        "phone": customer["phone"] or None,
        "tags": customer["tags"],
        "numberOfOrders": str(count),
    }


def variant_node(sim: ShopifySimulator, variant: dict[str, Any]) -> dict[str, Any]:
    own_title = variant["variant_title"]
    display = variant["title"] if own_title == "Default Title" else f"{variant['title']} - {own_title}"
    return {
        "__typename": "ProductVariant",
        "id": variant["id"],
        "legacyResourceId": variant["id"].rsplit("/", 1)[-1],
        "sku": variant["sku"],
        "barcode": variant["barcode"] or None,
        "title": own_title,
        "displayName": display,
        "price": variant["price"],
        "compareAtPrice": variant["compare_at_price"],
        "inventoryQuantity": available(variant) if variant["tracked"] else 0,
        "image": image_node(variant["image_url"]),
        "createdAt": variant["createdAt"],
        "updatedAt": variant["createdAt"],
        "inventoryItem": inventory_item_node(sim, variant),
        "product": product_node(sim, variant),
    }


def product_node(sim: ShopifySimulator, variant: dict[str, Any]) -> dict[str, Any]:
    image = image_node(variant["product_image_url"])
    media = {"__typename": "MediaImage", "id": variant["product_id"] + "/media", "mediaContentType": "IMAGE"}
    product_id = variant["product_id"]
    return {
        "__typename": "Product",
        "id": product_id,
        "title": variant["title"],
        "variantsCount": {"__typename": "Count", "count": len(sim.product_variants(product_id)), "precision": "EXACT"},
        "media": lambda args: connection([media_node(m) for m in sim.media.get(product_id, [])], args),
        "productType": variant["product_type"],
        "vendor": variant["vendor"],
        "tags": variant["tags"],
        "status": "ACTIVE",
        "category": {"__typename": "TaxonomyCategory", "name": variant["category"], "fullName": variant["category"]}
        if variant["category"]
        else None,
        "featuredImage": image,
        "featuredMedia": {**media, "preview": {"__typename": "MediaPreviewImage", "image": image, "status": "READY"}}
        if image
        else None,
    }


def media_node(media: dict[str, Any]) -> dict[str, Any]:
    image = image_node(media["url"])
    return {
        "__typename": "MediaImage",
        "id": media["id"],
        "alt": media["alt"] or None,
        "mediaContentType": media["mediaContentType"],
        "status": "READY",
        "image": image,
        "preview": {"__typename": "MediaPreviewImage", "image": image, "status": "READY"},
    }


def image_node(url: str) -> dict[str, Any] | None:
    return {"__typename": "Image", "url": url, "src": url, "originalSrc": url} if url else None


def inventory_item_node(sim: ShopifySimulator, variant: dict[str, Any]) -> dict[str, Any]:
    weight = variant["weight"]
    levels = [level_node(sim, variant, location) for location in variant["levels"]]
    return {
        "__typename": "InventoryItem",
        "id": variant["inventory_item_id"],
        "legacyResourceId": variant["inventory_item_id"].rsplit("/", 1)[-1],
        "sku": variant["sku"] or None,
        "tracked": variant["tracked"],
        "requiresShipping": True,
        "measurement": {
            "__typename": "InventoryItemMeasurement",
            "id": variant["inventory_item_id"].replace("InventoryItem", "InventoryItemMeasurement"),
            # Weight.value is a Float in the schema: a JSON number, as Shopify sends it.
            "weight": {"unit": variant["weight_unit"], "value": float(weight)} if weight is not None else None,
        },
        "variant": lambda args: variant_node(sim, variant),
        "inventoryLevels": lambda args: connection(levels, args),
        "inventoryLevel": lambda args: next(
            (level for level in levels if level["location"]["id"] == args.get("locationId")), None
        ),
    }


def level_node(sim: ShopifySimulator, variant: dict[str, Any], location_id: str) -> dict[str, Any]:
    level = variant["levels"][location_id]
    item_number = variant["inventory_item_id"].rsplit("/", 1)[-1]
    counts = {"available": level["available"], "committed": level["committed"]}
    counts["on_hand"] = level["available"] + level["committed"]

    def quantities(args: dict[str, Any]) -> list[dict[str, Any]]:
        names = list(args.get("names") or [])
        unknown = [name for name in names if name not in QUANTITY_NAMES]
        if unknown:
            raise FieldError(f"Invalid quantity names: {', '.join(unknown)}", "BAD_REQUEST")
        return [
            {
                "__typename": "InventoryQuantity",
                "name": name,
                "quantity": counts.get(name, 0),
                "updatedAt": level["updatedAt"],
            }
            for name in names
        ]

    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{location_id.rsplit('/', 1)[-1]}?inventory_item_id={item_number}",
        "createdAt": variant["createdAt"],
        "updatedAt": level["updatedAt"],
        "canDeactivate": True,
        "location": location_node(sim.record_by_id(sim.locations, location_id) or {"id": location_id}),
        "item": lambda args: inventory_item_node(sim, variant),
        "quantities": quantities,
    }


def location_node(location: dict[str, Any]) -> dict[str, Any]:
    return {
        "__typename": "Location",
        "id": location["id"],
        "legacyResourceId": location["id"].rsplit("/", 1)[-1],
        "name": location.get("name", ""),
        "isActive": location.get("isActive", True),
        "fulfillsOnlineOrders": location.get("fulfillsOnlineOrders", True),
        "shipsInventory": location.get("fulfillsOnlineOrders", True),
        "activatable": True,
    }


def price_list_node(sim: ShopifySimulator, price_list: dict[str, Any]) -> dict[str, Any]:
    currency = price_list["currency"]

    def money(amount: Decimal | None) -> dict[str, Any] | None:
        return {"__typename": "MoneyV2", "amount": amount, "currencyCode": currency} if amount is not None else None

    # In the shop's variant order, as Shopify lists a price list's prices.
    prices = [
        {
            "__typename": "PriceListPrice",
            "price": money(price_list["prices"][variant["id"]]["price"]),
            "compareAtPrice": money(price_list["prices"][variant["id"]]["compareAtPrice"]),
            "originType": "FIXED",
            "variant": variant_node(sim, variant),
        }
        for variant in sim.variants
        if variant["id"] in price_list["prices"]
    ]
    return {
        "__typename": "PriceList",
        "id": price_list["id"],
        "name": price_list["name"],
        "currency": currency,
        "fixedPricesCount": len(prices),
        "prices": lambda args: connection(prices, args),
    }


def address_node(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if not address:
        return None
    node = {"__typename": "MailingAddress", **address}
    node["countryCodeV2"] = address.get("countryCode")
    node["name"] = " ".join(part for part in (address.get("firstName"), address.get("lastName")) if part)
    return node


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}
