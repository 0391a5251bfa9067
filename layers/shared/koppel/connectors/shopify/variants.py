"""The store's variants by SKU, else by barcode: what a channel's stock and product updates link to.

A SKU (or barcode) several variants share links to none of them: data pushed to one chosen at
random would be wrong for the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from koppel.connectors.shopify.client import Operation, ShopifyGraphQL
from koppel.connectors.shopify.values import search_value
from koppel.observability import logger

# What a SKU lookup links to, read from one `productVariants` node.
RefOf: TypeAlias = Callable[[dict[str, Any]], str]
# SKUs per search: one query with `sku:A OR sku:B ...`, well inside Shopify's query length.
SKUS_PER_SEARCH = 50

VARIANTS_BY = Operation(
    name="KoppelVariantsBy",
    document="""
query KoppelVariantsBy($query: String!, $after: String) {
  productVariants(first: 100, query: $query, after: $after) {
    nodes { id sku barcode inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}""",
    mutation=False,
    estimated_cost=302,
)


def refs(graphql: ShopifyGraphQL, skus: Sequence[tuple[str, str]], kind: str, ref_of: RefOf) -> dict[str, str]:
    """(sku, ean) -> `ref_of` the one variant with that SKU, else with that barcode; shared ones left out."""
    wanted = list(dict.fromkeys((sku.strip(), ean.strip()) for sku, ean in skus if sku.strip()))
    by_sku = variants_by(graphql, "sku", [sku for sku, _ in wanted], ref_of)
    linked: dict[str, str] = {}
    for sku, _ in wanted:
        if len(by_sku.get(sku, ())) == 1:
            linked[sku] = by_sku[sku][0]
    ambiguous = {sku for sku, _ in wanted if len(by_sku.get(sku, ())) > 1}
    fallback = [(sku, ean) for sku, ean in wanted if ean and sku not in linked and sku not in ambiguous]
    by_barcode = variants_by(graphql, "barcode", [ean for _, ean in fallback], ref_of)
    for sku, ean in fallback:
        if len(by_barcode.get(ean, ())) == 1:
            linked[sku] = by_barcode[ean][0]
        elif len(by_barcode.get(ean, ())) > 1:
            ambiguous.add(sku)
    if ambiguous:
        logger.warning("shopify variants share a sku or barcode; left unlinked", kind=kind, count=len(ambiguous))
    return linked


def variants_by(graphql: ShopifyGraphQL, field: str, values: Sequence[str], ref_of: RefOf) -> dict[str, list[str]]:
    """value -> `ref_of` each variant whose `field` is exactly that value."""
    found: dict[str, list[str]] = {}
    unique = list(dict.fromkeys(value for value in values if value))
    for start in range(0, len(unique), SKUS_PER_SEARCH):
        chunk = unique[start : start + SKUS_PER_SEARCH]
        wanted = set(chunk)
        # Search matches words, so it narrows; the exact comparison below decides.
        query = " OR ".join(f"{field}:{search_value(value)}" for value in chunk)
        after: str | None = None
        while True:
            page = graphql.execute(VARIANTS_BY, {"query": query, "after": after})["productVariants"]
            for node in page.get("nodes") or []:
                value = str(node.get(field) or "").strip()
                ref = ref_of(node)
                if value in wanted and ref and ref not in found.setdefault(value, []):
                    found[value].append(ref)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
    return found
