"""A channel's orders into StoreKeeper as administrative orders (`OrderSink`): paid, tagged with the
channel, stock booked.

Built from public facts (`FACTS-systems-2.md` §2.2 and the WooCommerce plugin's order export), not
from a specification:
- `ShopModule::newOrder(callData)` makes the order and answers its id. `shop_order_number` is the
  channel's order id; StoreKeeper keeps it unique and refuses a second order with it
  (`ShopModule::OrderDuplicateNumber`). koppel takes that refusal as "the order is there": it finds
  the order and answers it, never sending it again under another number (as the plugin does). So a
  lost answer retried, or a create sent again after a crash, makes no second order.
- The channel is named twice: `customer_reference` is `koppel:{channel}:{order id}` (what `find_order`
  checks, so another channel's order of the same number is never taken for this one) and
  `customer_comment` says which channel's order number it is, with the link's tag.
- Stock is booked by the order itself, even when short (`force_backorder_if_not_on_stock`), and a
  product inactive in the shop is still ordered (`force_order_if_product_not_active`).
- The buyer: `findShopCustomerBySubuserEmail({email})`; when StoreKeeper has none and
  `create_customer`, `newShopCustomer({relation})` first (sent once; a lost answer is looked up by
  e-mail again); without it the order is anonymous.
- Lines carry `shop_product_id` (`backoffice_variant_id`, from `find_variant`), the quantity and
  `ppu_wt` (VAT included, `calculate_from_wt`). StoreKeeper refuses prices with more than two
  decimals, so a line discount is a line of its own (`is_discount`, minus the discount) and shipping one
  more (`is_shipping`); an amount with more than two decimals waits for a person (never rounded).
- Paid: `PaymentModule::newWebPayment({amount, description})` and
  `ShopModule::attachPaymentIdsToOrder({payment_ids}, order_id)`, as the plugin attaches a payment
  made elsewhere, unless `getOrder` says `is_paid`. `find_order` pays a found order that is not paid
  yet, so an order whose payment step was cut short is paid when the flow finds it again.
Unverified: `ShopModule::listOrders(start, limit, order, filters)` with `shop_order_number__=` (the
facts name no order list; `listExternalOrders` is for another kind); that an administrative order is
what `newOrder` makes from an API key; which class `findShopCustomerBySubuserEmail` refuses an unknown
e-mail with (any refusal but the key's is taken as "no such customer"); the shape of a refusal to pay
twice ("This payment is already linked", "Order is already paid", taken as done).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel.connectors.base import BackofficeOrder, Variant
from koppel.connectors.storekeeper.client import (
    OrderDuplicateNumber,
    StoreKeeperPart,
    StoreKeeperRefusal,
    text,
)
from koppel.connectors.storekeeper.products import MODULE, PRODUCTS, mapping
from koppel.errors import AuthenticationFailed, NeedsAttention, PermanentConnectorError, TransientConnectorError
from koppel.models import Address, Order

CENT = Decimal("0.01")
ALREADY_PAID = ("already linked", "already paid")


def reference(channel: str, channel_order_id: str) -> str:
    return f"koppel:{channel}:{channel_order_id}"


class StoreKeeperOrders(StoreKeeperPart):
    """`OrderSink`: a channel's orders as paid administrative orders."""

    # --- OrderSink ------------------------------------------------------------------------------
    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        """The shop product with this SKU, else with this EAN (`flat_product/product/ean`, unverified)."""
        for field, value in (("sku", sku.strip()), ("ean", ean.strip())):
            if not value:
                continue
            wanted = [{"name": f"flat_product/product/{field}__=", "val": value}]
            found = self.storekeeper.page(MODULE, PRODUCTS, 0, 1, wanted, 0, self.settings.language or 0)
            for row in found.rows:
                product = mapping(mapping(row.get("flat_product")).get("product"))
                if text(product.get(field)) == value and row.get("id") is not None:
                    return Variant(str(row["id"]), text(product.get("sku")), text(product.get("ean")))
        return None

    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        """The order made for this channel's order, paid now if its payment was cut short."""
        found = self.order_with(channel, channel_order_id)
        if found is None:
            return None
        booked = booked_order(found)
        if self.settings.mark_paid and not found.get("is_paid"):
            self.pay(booked.backoffice_order_id, found.get("value_wt"), f"{channel} {channel_order_id}")
        return booked

    def create_order(self, order: Order, *, tag: str, create_customer: bool = True) -> BackofficeOrder:
        if order.currency != self.settings.currency:
            raise NeedsAttention(
                f"the order is in {order.currency}, the StoreKeeper shop sells in {self.settings.currency}: "
                "book it by hand"
            )
        body = self._order_body(order, tag)  # every line checked before a customer is made for it
        relation = self.find_customer(order)
        if relation is None and create_customer and order.customer.email.strip():
            relation = self.create_customer(order)
        if relation is None:
            body["is_anonymous"] = True
        else:
            body |= {"is_anonymous": False, "relation_data_id": relation}
        try:
            order_id = self.storekeeper.call(MODULE, "newOrder", body)
        except OrderDuplicateNumber:
            found = self.find_order(order.channel, order.channel_order_id)
            if found is None:
                raise NeedsAttention(
                    f"StoreKeeper already has an order numbered {order.channel_order_id} that koppel did not make "
                    f"for {order.channel}: book this one by hand"
                ) from None
            return found
        if order_id in (None, "", 0):
            raise TransientConnectorError("storekeeper answered newOrder without an order id")
        if self.settings.mark_paid:
            self.pay(str(order_id), order.total.amount, f"{order.channel} {order.name or order.channel_order_id}")
        return BackofficeOrder(str(order_id), order.channel_order_id)

    # --- the order's parts -------------------------------------------------------------------------
    def order_with(self, channel: str, channel_order_id: str) -> dict[str, Any] | None:
        wanted = reference(channel, channel_order_id)
        filters = [{"name": "shop_order_number__=", "val": channel_order_id}]
        for row in self.storekeeper.every(MODULE, "listOrders", filters):
            if text(row.get("shop_order_number")) == channel_order_id and wanted in lines_of(row):
                return row
        return None

    def find_customer(self, order: Order) -> int | None:
        email = order.customer.email.strip()
        if not email:
            return None
        try:
            found = self.storekeeper.call(MODULE, "findShopCustomerBySubuserEmail", {"email": email})
        except AuthenticationFailed:
            raise
        except StoreKeeperRefusal:
            return None  # no customer with this e-mail (or an admin's): the order is made without one
        identifier = mapping(found).get("id")
        return int(identifier) if str(identifier or "").isdigit() else None

    def create_customer(self, order: Order) -> int:
        relation: dict[str, Any] = {
            "contact_person": {"firstname": order.customer.first_name, "familyname": order.customer.last_name},
            "contact_set": contact_set(order, order.billing_address),
            "contact_address": address_of(order.shipping_address),
            "address_billing": address_of(order.billing_address),
            "subuser": {"login": order.customer.email, "email": order.customer.email},
        }
        if order.billing_address.company:
            relation["business_data"] = {
                "name": order.billing_address.company,
                "country_iso2": order.billing_address.country_code,
            }
        try:
            made = self.storekeeper.call(MODULE, "newShopCustomer", {"relation": relation}, once=True)
        except TransientConnectorError:
            again = self.find_customer(order)  # it may have been made before the answer was lost
            if again is None:
                raise
            return again
        if not str(made or "").isdigit():
            raise TransientConnectorError("storekeeper answered newShopCustomer without a customer id")
        return int(made)

    def pay(self, order_id: str, amount: object, description: str) -> None:
        """A payment of `amount` attached to the order, once."""
        current = mapping(self.storekeeper.call(MODULE, "getOrder", int(order_id), None))
        if current.get("is_paid"):
            return
        total = Decimal(str(amount if amount not in (None, "") else current.get("value_wt") or 0)).quantize(CENT)
        payment = self.storekeeper.call(
            "PaymentModule", "newWebPayment", {"amount": total, "description": f"koppel: {description}"}, once=True
        )
        try:
            self.storekeeper.call(MODULE, "attachPaymentIdsToOrder", {"payment_ids": [payment]}, int(order_id))
        except StoreKeeperRefusal as exc:
            if not any(words in exc.words.casefold() for words in ALREADY_PAID):
                raise

    def _order_body(self, order: Order, tag: str) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for line in order.lines:
            if not line.backoffice_variant_id.isdigit():
                raise NeedsAttention(f"order line {line.line_id} ({line.channel_sku}) has no StoreKeeper shop product")
            items.append(
                {
                    "sku": line.channel_sku,
                    "name": line.title or line.channel_sku,
                    "quantity": line.quantity,
                    "ppu_wt": cents(line.unit_price.amount, f"the unit price of line {line.line_id}"),
                    "shop_product_id": int(line.backoffice_variant_id),
                }
            )
            if line.discount is not None and line.discount.amount:
                discount = cents(line.discount.amount, f"the discount on line {line.line_id}")
                items.append(
                    {
                        "sku": f"discount-{line.channel_sku}",
                        "name": f"Korting {line.title or line.channel_sku}",
                        "quantity": 1,
                        "ppu_wt": -discount,
                        "is_discount": True,
                    }
                )
        if order.shipping_cost is not None and order.shipping_cost.amount:
            items.append(
                {
                    "sku": self.settings.shipping_sku,
                    "name": "Verzendkosten",
                    "quantity": 1,
                    "ppu_wt": cents(order.shipping_cost.amount, "the shipping cost"),
                    "is_shipping": True,
                }
            )
        shown = order.name or order.channel_order_id
        comment = "\n".join(
            part for part in (f"{order.channel} order {shown} ({tag})".strip(), order.note.strip()) if part
        )
        return {
            "shop_order_number": order.channel_order_id,
            "customer_reference": reference(order.channel, order.channel_order_id),
            "customer_comment": comment,
            "billing_address": party(order, order.billing_address, "address_billing"),
            "shipping_address": party(order, order.shipping_address, "contact_address"),
            "billing_address__merge": False,
            "shipping_address__merge": False,
            "force_order_if_product_not_active": True,
            "force_backorder_if_not_on_stock": True,
            "calculate_from_wt": True,
            "order_items": items,
        }


def cents(amount: Decimal, what: str) -> Decimal:
    """An amount StoreKeeper takes: two decimals at most; more waits for a person, never rounded."""
    if amount != amount.quantize(CENT):
        raise NeedsAttention(
            f"{what} ({amount}) has more than two decimals, which StoreKeeper refuses: book it by hand"
        )
    return amount.quantize(CENT)


def lines_of(row: dict[str, Any]) -> list[str]:
    return [line.strip() for line in text(row.get("customer_reference")).splitlines()]


def booked_order(row: dict[str, Any]) -> BackofficeOrder:
    identifier = row.get("id")
    if identifier in (None, ""):
        raise PermanentConnectorError("storekeeper listed an order without an id")
    return BackofficeOrder(str(identifier), text(row.get("number")) or text(row.get("shop_order_number")))


def full_name(address: Address, order: Order) -> str:
    name = f"{address.first_name} {address.last_name}".strip()
    return name or f"{order.customer.first_name} {order.customer.last_name}".strip() or order.customer.email


def address_of(address: Address) -> dict[str, str]:
    street = " ".join(part for part in (address.street, address.address_line_2) if part)
    found = {
        "street": street,
        "streetnumber": address.house_number,
        "flatnumber": address.house_number_extension,
        "city": address.city,
        "zipcode": address.postal_code,
        "country_iso2": address.country_code,
        "name": f"{address.first_name} {address.last_name}".strip() or address.company,
    }
    return {key: value for key, value in found.items() if value}


def contact_set(order: Order, address: Address) -> dict[str, str]:
    return {
        "email": address.email or order.customer.email,
        "phone": address.phone or order.customer.phone,
        "name": full_name(address, order),
    }


def party(order: Order, address: Address, kind: str) -> dict[str, Any]:
    """A billing or shipping address as newOrder takes it."""
    found: dict[str, Any] = {
        "name": address.company or full_name(address, order),
        kind: address_of(address),
        "contact_set": contact_set(order, address),
        "contact_person": {
            "firstname": address.first_name or order.customer.first_name,
            "familyname": address.last_name or order.customer.last_name,
        },
    }
    if address.company:
        found["business_data"] = {"name": address.company, "country_iso2": address.country_code}
    return found
