"""The Shopify simulator's root fields: queries resolved from its state, and the mutation table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from koppel_local.simulators.shopify.common import (
    CUSTOMER_SEARCH,
    INVENTORY_ITEM_SEARCH,
    ORDER_SEARCH,
    VARIANT_SEARCH,
    FieldError,
    connection,
)
from koppel_local.simulators.shopify.mutations import (
    resolve_customer_create,
    resolve_inventory_set_quantities,
    resolve_order_cancel,
    resolve_order_create,
    resolve_product_update,
    resolve_variants_bulk_update,
)
from koppel_local.simulators.shopify.nodes import (
    customer_node,
    fulfillment_node,
    inventory_item_node,
    location_node,
    order_node,
    price_list_node,
    variant_node,
)

if TYPE_CHECKING:
    from koppel_local.simulators.shopify.app import ShopifySimulator


def searched(
    sim: ShopifySimulator,
    records: list[dict[str, Any]],
    args: dict[str, Any],
    fields: dict[str, Callable[[dict[str, Any]], list[str]]],
    node: Callable[[ShopifySimulator, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A connection of the records matching the search `query`, last first when `reverse`."""
    found = sim.search(records, args.get("query"), fields)
    if args.get("reverse"):
        found.reverse()
    return connection([node(sim, record) for record in found], args)


# --- root fields ---------------------------------------------------------------------------------
def resolve_orders(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.orders, args, ORDER_SEARCH, order_node)


def resolve_order(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    order = sim.record_by_id(sim.orders, args.get("id"))
    return order_node(sim, order) if order is not None else None


def resolve_fulfillment(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    for order in sim.orders:
        fulfillment = sim.record_by_id(order["fulfillments"], args.get("id"))
        if fulfillment is not None:
            return fulfillment_node(sim, order, fulfillment)
    return None


def resolve_job(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    job = sim.jobs.get(str(args.get("id")))
    if job is None:
        return None
    job["done"] = True  # the simulator's background work is over by the time anyone asks
    return {"__typename": "Job", "id": job["id"], "done": True, "query": None}


def resolve_customers(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.customers, args, CUSTOMER_SEARCH, customer_node)


def resolve_variants(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.variants, args, VARIANT_SEARCH, variant_node)


def resolve_inventory_item(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    variant = next((v for v in sim.variants if v["inventory_item_id"] == args.get("id")), None)
    return inventory_item_node(sim, variant) if variant is not None else None


def resolve_inventory_items(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.variants, args, INVENTORY_ITEM_SEARCH, inventory_item_node)


def resolve_location(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    location = sim.record_by_id(sim.locations, args.get("id"))
    return location_node(location) if location is not None else None


def resolve_locations(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("query"):
        raise FieldError("The simulator does not search locations", "NOT_IMPLEMENTED")
    found = [loc for loc in sim.locations if loc["isActive"] or args.get("includeInactive")]
    if args.get("sortKey") == "NAME":
        found.sort(key=lambda loc: loc["name"].casefold())
    if args.get("reverse"):
        found.reverse()
    return connection([location_node(loc) for loc in found], args)


def resolve_price_list(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    price_list = sim.record_by_id(sim.price_lists, args.get("id"))
    return price_list_node(sim, price_list) if price_list is not None else None


def resolve_nodes(sim: ShopifySimulator, args: dict[str, Any]) -> list[dict[str, Any] | None]:
    """Variants by gid (null for an unknown one, as Shopify answers); other node types are not imitated."""
    ids = list(args.get("ids") or [])
    if len(ids) > 250:
        raise FieldError("The maximum number of ids is 250", "MAX_INPUT_SIZE_EXCEEDED")
    found = []
    for gid in ids:
        variant = sim.record_by_id(sim.variants, gid)
        found.append(variant_node(sim, variant) if variant is not None else None)
    return found


def resolve_shop(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": "gid://shopify/Shop/1",
        "name": "koppel demo",
        "currencyCode": sim.shop_currency,
    }


QUERY_ROOT: dict[str, Callable[[ShopifySimulator, dict[str, Any]], Any]] = {
    "order": resolve_order,
    "fulfillment": resolve_fulfillment,
    "job": resolve_job,
    "orders": resolve_orders,
    "customers": resolve_customers,
    "productVariants": resolve_variants,
    "inventoryItem": resolve_inventory_item,
    "inventoryItems": resolve_inventory_items,
    "location": resolve_location,
    "locations": resolve_locations,
    "priceList": resolve_price_list,
    "shop": resolve_shop,
    "nodes": resolve_nodes,
}
MUTATION_ROOT: dict[str, Callable[[ShopifySimulator, dict[str, Any]], Any]] = {
    "orderCreate": resolve_order_create,
    "orderCancel": resolve_order_cancel,
    "customerCreate": resolve_customer_create,
    "inventorySetQuantities": resolve_inventory_set_quantities,
    "productVariantsBulkUpdate": resolve_variants_bulk_update,
    "productUpdate": resolve_product_update,
}
