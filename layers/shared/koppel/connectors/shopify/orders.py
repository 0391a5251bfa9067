"""Shopify as a backoffice that takes orders (`OrderSink`): marketplace orders go in with `orderCreate`.

An order or customer whose answer was lost is looked for before anything is sent again: Shopify
would otherwise create it twice. Each Shopify line carries the channel's line id as a line item
property (`_koppel_line_id`), so a fulfilment can later name the channel lines it shipped.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from koppel.connectors.base import BackofficeOrder, Variant
from koppel.connectors.shopify.client import Operation, ShopifyPart, ShopifyUserError
from koppel.connectors.shopify.values import decimal_text, gid, iso, search_value
from koppel.errors import NeedsAttention, RateLimited, TransientConnectorError
from koppel.models import Address, Customer, Money, Order, OrderLine
from koppel.observability import logger

CENT = Decimal("0.01")
# The line item property that carries the channel's line id. The leading underscore is Shopify's
# convention for a property the buyer is not shown (checkout, order and shipping e-mails).
LINE_ID_PROPERTY = "_koppel_line_id"

# Claim stock for what the marketplace already sold, even past zero: the sale happened, refusing
# it here would only lose the order. No e-mails: the marketplace talks to its buyer.
ORDER_OPTIONS: dict[str, Any] = {
    "inventoryBehaviour": "DECREMENT_IGNORING_POLICY",
    "sendReceipt": False,
    "sendFulfillmentReceipt": False,
}


FIND_ORDERS = Operation(
    name="KoppelFindOrders",
    document="""
query KoppelFindOrders($query: String!) {
  orders(first: 25, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes { id name sourceIdentifier tags }
  }
}""",
    mutation=False,
    estimated_cost=27,
)

FIND_CUSTOMERS = Operation(
    name="KoppelFindCustomers",
    document="""
query KoppelFindCustomers($query: String!) {
  customers(first: 10, query: $query) {
    nodes { id defaultEmailAddress { emailAddress } }
  }
}""",
    mutation=False,
    estimated_cost=22,
)

FIND_VARIANTS = Operation(
    name="KoppelFindVariants",
    document="""
query KoppelFindVariants($query: String!) {
  productVariants(first: 10, query: $query) {
    nodes { id sku barcode }
  }
}""",
    mutation=False,
    estimated_cost=12,
)

CREATE_CUSTOMER = Operation(
    name="KoppelCreateCustomer",
    document="""
mutation KoppelCreateCustomer($input: CustomerInput!) {
  customerCreate(input: $input) {
    customer { id }
    userErrors { field message }
  }
}""",
    mutation=True,
    estimated_cost=10,
)

CREATE_ORDER = Operation(
    name="KoppelCreateOrder",
    document="""
mutation KoppelCreateOrder($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name displayFulfillmentStatus }
    userErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=10,
)


class ShopifyOrderSink(ShopifyPart):
    """`OrderSink`: find an order created earlier, create one, find the variant a SKU is."""

    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        tag = reference_tag(channel, channel_order_id)
        # Shopify's search matches words, not whole values (tag "bol-123" also finds "bol-123-2"), so
        # it only narrows the candidates; the exact comparison below decides.
        query = f"tag:{search_value(tag)} OR source_identifier:{search_value(channel_order_id)}"
        nodes = self.graphql.execute(FIND_ORDERS, {"query": query})["orders"]["nodes"]
        matches = [node for node in nodes if is_order_for(node, tag, channel_order_id)]
        if not matches:
            return None
        if len(matches) > 1:
            logger.warning("several shopify orders carry one channel reference", channel=channel, count=len(matches))
        original = matches[-1]  # newest first: the last one is the order created first
        return BackofficeOrder(backoffice_order_id=original["id"], name=original.get("name") or "")

    def create_order(self, order: Order, *, tag: str, create_customer: bool = True) -> BackofficeOrder:
        unmapped = [line.channel_sku for line in order.lines if not line.backoffice_variant_id]
        if unmapped:
            raise NeedsAttention("order lines without a Shopify variant", skus=tuple(unmapped))
        # Without an e-mail there is nothing to match a customer on: a guest order, as in a webshop.
        customer = self._customer_choice(order.customer, tag, create=create_customer) if order.customer.email else None
        variables = {"order": order_input(order, tag, customer), "options": ORDER_OPTIONS}
        try:
            data = self.graphql.execute(CREATE_ORDER, variables)
        except RateLimited:
            raise  # refused before execution: nothing was created
        except TransientConnectorError as exc:
            return self._recover_order(order, exc)
        payload = data["orderCreate"]
        if payload["userErrors"]:
            raise ShopifyUserError("orderCreate", payload["userErrors"])
        created = payload["order"]
        logger.info("order created in shopify", channel=order.channel, shopify_order=created["name"])
        return BackofficeOrder(backoffice_order_id=created["id"], name=created["name"])

    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        variant = self._variant_by("sku", sku) if sku.strip() else None
        if variant is None and ean.strip():
            variant = self._variant_by("barcode", ean)
        return variant

    # --- customers ------------------------------------------------------------------------------
    def _customer_choice(self, customer: Customer, tag: str, *, create: bool) -> dict[str, Any] | None:
        """How orderCreate gets its customer: the shop's customer with this e-mail, found, or made
        when `create` (None: a guest order, no customer record made)."""
        customer_id = self._find_customer(customer.email)
        if not create:
            return {"toAssociate": {"id": customer_id}} if customer_id else None
        customer_id = customer_id or self._create_customer(customer, tag)
        if customer_id:
            return {"toAssociate": {"id": customer_id}}
        # Shopify would not create it, yet search does not show it (its index trails new customers):
        # let orderCreate match or create the customer by e-mail itself.
        return {"toUpsert": customer_input(customer, tag)}

    def _find_customer(self, email: str) -> str | None:
        query = f"email:{search_value(email)}"
        nodes = self.graphql.execute(FIND_CUSTOMERS, {"query": query})["customers"]["nodes"]
        wanted = email.strip().casefold()
        for node in nodes:
            address = (node.get("defaultEmailAddress") or {}).get("emailAddress") or ""
            if address.strip().casefold() == wanted:
                return str(node["id"])
        return None

    def _create_customer(self, customer: Customer, tag: str) -> str | None:
        """The new customer's id; None when Shopify refused or its answer was lost and search misses it."""
        try:
            payload = self.graphql.execute(CREATE_CUSTOMER, {"input": customer_input(customer, tag)})["customerCreate"]
        except RateLimited:
            raise
        except TransientConnectorError:
            # The answer was lost, maybe not the customer: look again rather than create a second one.
            return self._find_customer(customer.email)
        if payload["userErrors"]:
            # Usually another run created this customer a moment ago ("taken"); that one will do.
            # Field paths only: the messages may quote the e-mail address.
            logger.info(
                "shopify refused to create the customer", fields=[e.get("field") for e in payload["userErrors"]]
            )
            return self._find_customer(customer.email)
        return str(payload["customer"]["id"])

    # --- orders ---------------------------------------------------------------------------------
    def _recover_order(self, order: Order, cause: TransientConnectorError) -> BackofficeOrder:
        """orderCreate's outcome is unknown: find the order, or leave the retry to a later run."""
        existing = self.find_order(order.channel, order.channel_order_id)
        if existing is not None:
            logger.info("shopify created the order although its answer was lost", channel=order.channel)
            return existing
        # Shopify's search index can lag a few seconds behind a create, so "not found" is no proof:
        # sending again now could duplicate the order. The next run looks again first.
        raise TransientConnectorError(
            "shopify orderCreate outcome unknown; not re-sent to avoid a duplicate",
            channel=order.channel,
        ) from cause

    # --- variants -------------------------------------------------------------------------------
    def _variant_by(self, field: str, value: str) -> Variant | None:
        wanted = value.strip()
        query = f"{field}:{search_value(wanted)}"
        nodes = self.graphql.execute(FIND_VARIANTS, {"query": query})["productVariants"]["nodes"]
        exact = [node for node in nodes if (node.get(field) or "").strip() == wanted]
        if len(exact) > 1:
            # Picking one would sell a product chosen at random; a person has to make the SKU unique.
            raise NeedsAttention(f"{len(exact)} Shopify variants share this {field}", field=field, value=wanted)
        if not exact:
            return None
        node = exact[0]
        return Variant(variant_id=node["id"], sku=node.get("sku") or "", barcode=node.get("barcode") or "")


def reference_tag(channel: str, channel_order_id: str) -> str:
    return f"{channel}-{channel_order_id}"


def is_order_for(node: dict[str, Any], tag: str, channel_order_id: str) -> bool:
    """Exact: the whole reference tag (tags compare case-insensitively in Shopify) and the same id."""
    tags = {str(value).strip().casefold() for value in node.get("tags") or ()}
    return tag.casefold() in tags and node.get("sourceIdentifier") == channel_order_id


def order_input(order: Order, tag: str, customer: dict[str, Any] | None) -> dict[str, Any]:
    reference = f"{order.channel} order {order.channel_order_id}"
    result: dict[str, Any] = {
        "currency": order.currency,
        "processedAt": iso(order.placed_at),
        "financialStatus": "PAID",  # marketplaces collect the payment before releasing an order
        # fulfillmentStatus left out on purpose: Shopify's default is unfulfilled, which is "not shipped".
        "taxesIncluded": True,
        "lineItems": [line_input(line) for line in order.lines],
        "billingAddress": address_input(order.billing_address),
        "shippingAddress": address_input(order.shipping_address),
        "sourceName": order.channel,
        "sourceIdentifier": order.channel_order_id,
        "tags": list(
            dict.fromkeys(value for value in (tag, reference_tag(order.channel, order.channel_order_id)) if value)
        ),
        "note": f"{reference}\n{order.note}" if order.note else reference,
        "customAttributes": [
            {"key": "channel", "value": order.channel},
            {"key": "channel_order_id", "value": order.channel_order_id},
        ],
        "transactions": [
            {
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": order.channel,
                "amountSet": money_bag(order.total),
                "processedAt": iso(order.placed_at),
            }
        ],
    }
    discount = discount_code(order)
    if discount:
        result["discountCode"] = discount
    if order.shipping_cost is not None:
        result["shippingLines"] = [
            {"title": f"{order.channel} shipping", "source": order.channel, "priceSet": money_bag(order.shipping_cost)}
        ]
    if customer:
        result["customer"] = customer
    return result


def discount_code(order: Order) -> dict[str, Any] | None:
    """The channel's line discounts as the one discount orderCreate takes, or None without any.

    orderCreate has no discount per line item, only one discount code per order. A fixed-amount
    item code for the sum of the line discounts makes Shopify's total what the buyer paid, and the
    line prices stay the list prices, so the merchant sees the price and the discount apart.
    Shopify spreads that amount over the lines itself, which can differ from the channel's split
    between lines; the order's totals are exact either way.
    """
    discounts = [line.discount.amount for line in order.lines if line.discount is not None and line.discount.amount]
    if not discounts:
        return None
    amount = Money(amount=sum(discounts, Decimal(0)), currency=order.currency)
    return {"itemFixedDiscountCode": {"code": f"{order.channel} discount", "amountSet": money_bag(amount)}}


def line_input(line: OrderLine) -> dict[str, Any]:
    item: dict[str, Any] = {
        "variantId": gid("ProductVariant", line.backoffice_variant_id),
        "quantity": line.quantity,
        # Before discounts, as Shopify's input defines it; the discount goes on the order.
        "priceSet": money_bag(line.unit_price),
        # Without it Shopify's input default (false) would leave marketplace parcels out of shipping.
        "requiresShipping": True,
        # Read back from each fulfilment, to tell the channel which of its lines shipped.
        "properties": [{"name": LINE_ID_PROPERTY, "value": line.line_id}],
    }
    if line.vat_rate is not None:
        # VAT is owed on what the buyer paid: the line less its discount (a price reduction lowers
        # the taxable amount). Shopify records tax lines given to orderCreate as they are, without
        # recomputing them for the discount, so they must already be on the discounted amount.
        item["taxLines"] = [tax_line(line.total, line.vat_rate)]
    return item


def tax_line(gross: Money, vat_rate: Decimal) -> dict[str, Any]:
    """The VAT inside a VAT-included amount, rounded to cents as on an invoice."""
    tax = (gross.amount * vat_rate / (100 + vat_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "title": f"VAT {decimal_text(vat_rate)}%",
        "rate": decimal_text(vat_rate / 100),
        "priceSet": money_bag(Money(amount=tax, currency=gross.currency)),
    }


def address_input(address: Address) -> dict[str, Any]:
    house = " ".join(part for part in (address.house_number, address.house_number_extension) if part)
    fields = {
        "firstName": address.first_name,
        "lastName": address.last_name,
        "company": address.company,
        "address1": " ".join(part for part in (address.street, house) if part),
        "address2": address.address_line_2,
        "zip": address.postal_code,
        "city": address.city,
        "countryCode": address.country_code,
        "phone": address.phone,
    }
    return {key: value for key, value in fields.items() if value}


def customer_input(customer: Customer, tag: str) -> dict[str, Any]:
    # No phone: Shopify wants it unique per customer and strictly formatted, and marketplaces hand
    # out shared relay numbers; it stays on the order's addresses instead.
    fields: dict[str, Any] = {"email": customer.email, "firstName": customer.first_name, "lastName": customer.last_name}
    result = {key: value for key, value in fields.items() if value}
    if tag:
        result["tags"] = [tag]
    return result


def money_bag(money: Money) -> dict[str, Any]:
    return {"shopMoney": {"amount": decimal_text(money.amount), "currencyCode": money.currency}}
