"""Products in a Shopify store, both ways.

As a backoffice (`ProductSource`) it gives its variants as koppel's products, with the shop's
prices or one price list's. As a sales channel (`ProductTarget`) koppel keeps price, barcode,
tracking, weight, title and image current on the variants the store already has, one
`productVariantsBulkUpdate` per product. It never creates a product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from koppel.connectors.base import ProductPage, ProductPushResult, ProductUpdate
from koppel.connectors.shopify import variants
from koppel.connectors.shopify.client import Operation, ShopifyPart
from koppel.connectors.shopify.values import decimal_text, gid
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectorError,
    PermanentConnectorError,
    TransientConnectorError,
)
from koppel.models import Money, Product
from koppel.observability import logger

# A page's requested cost stays near half the 1000-point single-query maximum.
PRODUCTS_PER_PAGE = 50
GRAMS_PER = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "OUNCES": Decimal("28.349523125"),
    "POUNDS": Decimal("453.59237"),
}


VARIANT_FRAGMENT = """
fragment KoppelProductVariant on ProductVariant {
  sku barcode title price compareAtPrice inventoryQuantity
  image { url }
  inventoryItem { tracked measurement { weight { unit value } } }
  product { title productType vendor category { name } featuredMedia { preview { image { url } } } }
}"""

PRODUCT_PAGE = Operation(
    name="KoppelProductPage",
    document=f"""
query KoppelProductPage($after: String) {{
  shop {{ currencyCode }}
  productVariants(first: {PRODUCTS_PER_PAGE}, after: $after) {{
    nodes {{ ...KoppelProductVariant }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}{VARIANT_FRAGMENT}""",
    mutation=False,
    estimated_cost=650,
)

PRICE_LIST_PAGE = Operation(
    name="KoppelPriceListPage",
    document=f"""
query KoppelPriceListPage($id: ID!, $after: String) {{
  priceList(id: $id) {{
    currency
    prices(first: {PRODUCTS_PER_PAGE}, after: $after) {{
      nodes {{
        price {{ amount currencyCode }}
        compareAtPrice {{ amount currencyCode }}
        variant {{ ...KoppelProductVariant }}
      }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}{VARIANT_FRAGMENT}""",
    mutation=False,
    estimated_cost=800,
)


# --- products on a channel store ---------------------------------------------------------------
# `nodes` takes at most 250 ids per query.
VARIANTS_PER_LOOKUP = 250

VARIANT_OWNERS = Operation(
    name="KoppelVariantOwners",
    document="""
query KoppelVariantOwners($ids: [ID!]!) {
  shop { currencyCode }
  nodes(ids: $ids) {
    ... on ProductVariant { id product { id title variantsCount { count } } }
  }
}""",
    mutation=False,
    estimated_cost=3 * VARIANTS_PER_LOOKUP + 2,
)

# Partial updates: one refused variant (a negative price) must not hold back its siblings. `media`
# adds new images to the product; a variant's `mediaSrc` names the one it shows.
UPDATE_VARIANTS = Operation(
    name="KoppelUpdateVariants",
    document="""
mutation KoppelUpdateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $media: [CreateMediaInput!]) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, media: $media, allowPartialUpdates: true) {
    productVariants { id }
    userErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=12,
)

# 2025-04: `productUpdate(product: ProductUpdateInput)`; the older `input: ProductInput` is gone.
UPDATE_PRODUCT = Operation(
    name="KoppelUpdateProduct",
    document="""
mutation KoppelUpdateProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id title }
    userErrors { field message }
  }
}""",
    mutation=True,
    estimated_cost=11,
)


@dataclass(frozen=True)
class VariantOwner:
    """The product a variant belongs to, as the channel store has it now."""

    product_id: str
    title: str
    variants: int


class ShopifyProductSource(ShopifyPart):
    """`ProductSource`: Shopify as the backoffice, its products read by koppel."""

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """Variants with a SKU as products; with `price_list`, only those it prices, at its prices."""
        if price_list.strip():
            price_list_id = gid("PriceList", price_list.strip())
            found = self.graphql.execute(PRICE_LIST_PAGE, {"id": price_list_id, "after": cursor})["priceList"]
            if found is None:
                raise ConfigurationError(
                    "the Shopify shop has no such price list", field="price_list", id=price_list_id
                )
            page = found["prices"]
            products = [
                variant_product(
                    price["variant"], price_money(price.get("price")), price_money(price.get("compareAtPrice"))
                )
                for price in page.get("nodes") or []
                if price.get("variant")
            ]
        else:
            data = self.graphql.execute(PRODUCT_PAGE, {"after": cursor})
            currency = data["shop"]["currencyCode"]
            page = data["productVariants"]
            products = [
                variant_product(
                    node, shop_money(node.get("price"), currency), shop_money(node.get("compareAtPrice"), currency)
                )
                for node in page.get("nodes") or []
            ]
        info = page.get("pageInfo") or {}
        return ProductPage(
            products=tuple(product for product in products if product is not None),
            cursor=info.get("endCursor") if info.get("hasNextPage") else None,
        )


class ShopifyProductTarget(ShopifyPart):
    """`ProductTarget`: product data kept current on a channel store's own products."""

    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) -> the variant gid of the one variant with that SKU, else that barcode.

        Only products the store already has: koppel never creates one. A SKU (or barcode) several
        variants share is left out, as for stock.
        """
        return variants.refs(self.graphql, skus, "variant", lambda node: str(node.get("id") or ""))

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Bring each variant's price, barcode, tracking, weight, title and image up to koppel's product.

        One `productVariantsBulkUpdate` per product carries all of its variants (and a changed image,
        uploaded as new media; the old image stays, as the merchant may use it elsewhere). The title
        is the product's, so it changes only on a product with this one variant: a multi-variant
        product's title is not one SKU's to change. Stock is `push_stock`'s; category and brand stay
        the merchant's. One result per update, in the same order.
        """
        results: list[ProductPushResult | None] = [None] * len(updates)
        by_variant: dict[str, list[int]] = {}
        for index, update in enumerate(updates):
            if update.channel_ref.strip():
                by_variant.setdefault(gid("ProductVariant", update.channel_ref.strip()), []).append(index)
            else:
                results[index] = ProductPushResult(
                    update.product.sku, accepted=False, error="no Shopify variant for this SKU"
                )

        def settle(variant: str, result: ProductPushResult) -> None:
            for index in by_variant[variant]:
                results[index] = replace(result, sku=updates[index].product.sku)

        try:
            currency, owners = self._variant_owners(list(by_variant))
        except AuthenticationFailed:
            raise
        except ConnectorError as exc:
            retryable = isinstance(exc, TransientConnectorError)
            for variant in by_variant:
                settle(variant, ProductPushResult("", False, str(exc), retryable=retryable))
            return [result for result in results if result is not None]
        products: dict[str, list[tuple[str, ProductUpdate]]] = {}
        for variant, indexes in by_variant.items():
            owner = owners.get(variant)
            if owner is None:
                settle(variant, ProductPushResult("", False, "the Shopify store has no such variant (any more)"))
                continue
            # The same variant twice: the last product wins, and an image changed in any of them is sent.
            last = updates[indexes[-1]]
            chosen = replace(last, image_changed=any(updates[index].image_changed for index in indexes))
            products.setdefault(owner.product_id, []).append((variant, chosen))
        for product_id, changes in products.items():
            owner = owners[changes[0][0]]
            for variant, result in self._push_product(product_id, owner, changes, currency).items():
                settle(variant, result)
        return [result for result in results if result is not None]

    def _variant_owners(self, variants: Sequence[str]) -> tuple[str, dict[str, VariantOwner]]:
        """The shop's currency, and variant gid -> its product for the variants the store has."""
        currency = ""
        owners: dict[str, VariantOwner] = {}
        for start in range(0, len(variants), VARIANTS_PER_LOOKUP):
            data = self.graphql.execute(VARIANT_OWNERS, {"ids": list(variants[start : start + VARIANTS_PER_LOOKUP])})
            currency = str(data["shop"]["currencyCode"])
            for node in data.get("nodes") or []:
                product = (node or {}).get("product") or {}
                if not product.get("id"):
                    continue  # deleted, or the gid of something that is not a variant
                owners[str(node["id"])] = VariantOwner(
                    product_id=str(product["id"]),
                    title=str(product.get("title") or ""),
                    variants=int((product.get("variantsCount") or {}).get("count") or 0),
                )
        return currency, owners

    def _push_product(
        self, product_id: str, owner: VariantOwner, changes: list[tuple[str, ProductUpdate]], currency: str
    ) -> dict[str, ProductPushResult]:
        results: dict[str, ProductPushResult] = {}
        sent: list[tuple[str, dict[str, Any]]] = []
        for variant, update in changes:
            problem = currency_problem(update.product, currency)
            if problem:
                results[variant] = ProductPushResult("", False, problem)
                continue
            sent.append((variant, variant_input(variant, update)))
        if sent:
            results |= self._update_variants(product_id, sent)
        if owner.variants == 1 and len(changes) == 1:
            variant, update = changes[0]
            title = update.product.title.strip()
            if results[variant].accepted and title and title != owner.title:
                results[variant] = self._retitle(product_id, title)
        return results

    def _update_variants(self, product_id: str, sent: list[tuple[str, dict[str, Any]]]) -> dict[str, ProductPushResult]:
        variants = [fields for _, fields in sent]
        urls = list(dict.fromkeys(url for fields in variants for url in fields.get("mediaSrc") or ()))
        variables = {
            "productId": product_id,
            "variants": variants,
            "media": [{"mediaContentType": "IMAGE", "originalSource": url} for url in urls] or None,
        }

        def everyone(result: ProductPushResult) -> dict[str, ProductPushResult]:
            return {variant: result for variant, _ in sent}

        try:
            payload = self.graphql.execute(UPDATE_VARIANTS, variables)["productVariantsBulkUpdate"]
        except AuthenticationFailed:
            raise
        except TransientConnectorError as exc:
            # Prices and barcodes can be set twice without harm; an image sent again could be
            # uploaded twice, which the merchant can delete, while a lost price cannot be seen.
            return everyone(ProductPushResult("", False, str(exc), retryable=True))
        except PermanentConnectorError as exc:
            return everyone(ProductPushResult("", False, str(exc)))
        if payload is None:
            return everyone(ProductPushResult("", False, "shopify answered without a result", retryable=True))
        refused: dict[int, list[str]] = {}
        general: list[str] = []
        for error in payload.get("userErrors") or []:
            message = str(error.get("message") or "refused by shopify")
            positions = variant_positions(error, variants, urls)
            if positions is None:
                general.append(message)
            for position in positions or ():
                refused.setdefault(position, []).append(message)
        if general:
            return everyone(ProductPushResult("", False, f"shopify refused the product update: {'; '.join(general)}"))
        if refused:
            logger.info("shopify refused some variant updates", refused=len(refused), variants=len(sent))
        return {
            variant: ProductPushResult("", False, "; ".join(refused[position]))
            if position in refused
            else ProductPushResult("", True)
            for position, (variant, _) in enumerate(sent)
        }

    def _retitle(self, product_id: str, title: str) -> ProductPushResult:
        """The product's title; the variant's own data has landed already, whatever this answers."""
        try:
            payload = self.graphql.execute(UPDATE_PRODUCT, {"product": {"id": product_id, "title": title}})[
                "productUpdate"
            ]
        except AuthenticationFailed:
            raise
        except ConnectorError as exc:
            retryable = isinstance(exc, TransientConnectorError)
            return ProductPushResult("", False, f"title not updated: {exc}", retryable=retryable)
        if payload is None:
            return ProductPushResult("", False, "title not updated: shopify answered without a result", retryable=True)
        errors = payload.get("userErrors") or []
        if errors:
            messages = "; ".join(str(error.get("message") or "") for error in errors)
            return ProductPushResult("", False, f"title not updated: {messages}")
        return ProductPushResult("", True)


def shop_money(amount: Any, currency: str) -> Money | None:
    return Money(amount=Decimal(str(amount)), currency=currency) if amount is not None else None


def price_money(money: dict[str, Any] | None) -> Money | None:
    if not money or money.get("amount") is None:
        return None
    return Money(amount=Decimal(str(money["amount"])), currency=str(money["currencyCode"]))


def shelf_prices(price: Money | None, compare_at: Money | None) -> tuple[Money | None, Money | None]:
    """(regular price, sale price): Shopify's compare-at price above the price marks a sale."""
    if price is not None and compare_at is not None and compare_at.amount > price.amount:
        return compare_at, price
    return price, None


def weight_grams(weight: dict[str, Any] | None) -> int | None:
    """Whole grams; None when unknown (Shopify shows an unset weight as 0)."""
    if not weight or weight.get("value") is None:
        return None
    factor = GRAMS_PER.get(str(weight.get("unit")))
    # Weight.value is a JSON float: its repr is what the merchant typed, its binary value is not.
    grams = Decimal(str(weight["value"])) * factor if factor is not None else None
    if not grams:
        return None
    return int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def variant_product(node: dict[str, Any], price: Money | None, compare_at: Money | None) -> Product | None:
    """A variant as koppel's Product; None without a SKU, which nothing in koppel could match.

    category: the product type (the merchant's own word), else Shopify's taxonomy category.
    group: the vendor, i.e. the brand; tags are free-form and unordered, so no tag is "the" group.
    """
    sku = str(node.get("sku") or "").strip()
    if not sku:
        return None
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    variant_title = str(node.get("title") or "").strip()
    title = str(product.get("title") or "").strip()
    if variant_title and variant_title != "Default Title":
        title = f"{title} - {variant_title}" if title else variant_title
    featured = ((product.get("featuredMedia") or {}).get("preview") or {}).get("image") or {}
    regular, sale = shelf_prices(price, compare_at)
    return Product(
        sku=sku,
        title=title or sku,
        ean=str(node.get("barcode") or "").strip(),
        price=regular,
        sale_price=sale,
        stock_managed=bool(item.get("tracked")),
        quantity=int(node.get("inventoryQuantity") or 0),
        image_url=str((node.get("image") or {}).get("url") or featured.get("url") or ""),
        weight_grams=weight_grams((item.get("measurement") or {}).get("weight")),
        category=str(product.get("productType") or "").strip()
        or str((product.get("category") or {}).get("name") or ""),
        group=str(product.get("vendor") or "").strip(),
    )


# --- products on a channel store -------------------------------------------------------------------
def shopify_prices(product: Product) -> tuple[Money | None, Money | None]:
    """(price, compare-at price) for Shopify from koppel's (regular price, sale price).

    A sale is a lower sale price: Shopify shows it as the price, struck through against the
    regular price as compare-at. Without a sale the compare-at price is cleared.
    """
    regular, sale = product.price, product.sale_price
    if regular is not None and sale is not None and sale.amount < regular.amount:
        return sale, regular
    if regular is not None:
        return regular, None
    return sale, None


def currency_problem(product: Product, currency: str) -> str:
    """Why the price cannot go to a shop selling in `currency`; "" when it can."""
    price, compare_at = shopify_prices(product)
    for money in (price, compare_at):
        if money is not None and currency and money.currency != currency:
            return f"the price is in {money.currency}, the Shopify shop sells in {currency}"
    return ""


def variant_input(variant: str, update: ProductUpdate) -> dict[str, Any]:
    """One `ProductVariantsBulkInput`: what koppel's product says about this variant."""
    product = update.product
    fields: dict[str, Any] = {"id": variant}
    price, compare_at = shopify_prices(product)
    if price is not None:
        fields["price"] = decimal_text(price.amount)
        fields["compareAtPrice"] = decimal_text(compare_at.amount) if compare_at is not None else None
    if product.ean.strip():
        fields["barcode"] = product.ean.strip()
    item: dict[str, Any] = {"tracked": product.stock_managed}
    if product.weight_grams is not None:
        item["measurement"] = {"weight": {"value": product.weight_grams, "unit": "GRAMS"}}
    fields["inventoryItem"] = item
    if update.image_changed and product.image_url.strip():
        fields["mediaSrc"] = [product.image_url.strip()]
    return fields


def variant_positions(error: dict[str, Any], variants: list[dict[str, Any]], urls: list[str]) -> list[int] | None:
    """The variants a user error of productVariantsBulkUpdate is about; None: the whole product.

    `["variants", "2", "price"]` is the third variant; `["media", "0", ...]` every variant showing
    the first new image.
    """
    path = [str(part) for part in error.get("field") or ()]
    for name, size in (("variants", len(variants)), ("media", len(urls))):
        if name in path:
            position = path.index(name) + 1
            if position < len(path) and path[position].isdigit() and int(path[position]) < size:
                index = int(path[position])
                if name == "variants":
                    return [index]
                return [i for i, fields in enumerate(variants) if urls[index] in (fields.get("mediaSrc") or ())]
    return None
