"""Webshop orders into SnelStart as verkooporders (`OrderSink`), each for its customer (a relatie).

- The channel's reference is the order's `orderreferentie`, `koppel:{channel}:{order id}`: the spec
  lets a list be filtered on it, SnelStart prints it on the invoice, and `find_order` asks
  `$filter=orderreferentie eq '…'` and keeps only an exact match. The order's name (#1001) and the
  channel are its `omschrijving`, what the merchant sees in the order list.
- The customer: the relatie with the buyer's e-mail (`$filter=email eq '…'`), else the one with the
  billing name and postcode, else one made for it (`POST /relaties`, kind Klant) when
  `create_customer` — without it, a buyer SnelStart does not know waits for a person
  (`NeedsAttention`): a verkooporder cannot be made without a relatie.
- Lines: one per order line, its artikel by id (`backoffice_variant_id`, from `find_variant`), the
  quantity and the unit price with VAT (`verkooporderBtwIngaveModel = Inclusief`: koppel's prices
  include VAT; SnelStart applies the article's own VAT rate). A line discount becomes the line's
  `kortingsPercentage` when a percentage with two decimals gives it to the cent (10 % off); any
  other amount (2.00 off 3 x 19.95) is booked exactly as a negative line of the account's
  `discount_article`, or, without one, as the line's net unit price when that comes out in whole
  cents — else the order waits for a person rather than booking another total. How SnelStart rounds
  a percentage line is not published; koppel sends only percentages that give whole cents.
- Shipping is one line of the account's `shipping_article` at the shipping cost with VAT.
- The verkooporder is posted once: a lost answer means SnelStart may have made it, so the flow
  looks it up by reference before it posts again. The same goes for a new relatie (found again by
  its e-mail address).
- Addresses go without a country: SnelStart names a country by the id of its `/landen` list, which
  koppel does not map yet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel.connectors.base import BackofficeOrder, Variant
from koppel.connectors.snelstart.client import ARTICLE_PAGE, SnelStartPart, odata_text
from koppel.errors import NeedsAttention
from koppel.models import Address, Order, OrderLine

CENT = Decimal("0.01")
CURRENCY = "EUR"
NAME_LENGTH = 50  # RelatieWriteModel.naam
LINE_TEXT = 250  # VerkooporderRegelModel.omschrijving


def reference(channel: str, channel_order_id: str) -> str:
    return f"koppel:{channel}:{channel_order_id}"


class SnelStartOrders(SnelStartPart):
    """`OrderSink`: verkooporders for the webshop's buyers."""

    _barcodes: dict[str, Variant] | None = None
    _special: dict[str, Variant] | None = None

    # --- OrderSink ------------------------------------------------------------------------------
    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        """The active article with artikelcode `sku`; else, with a `barcode_field`, the one whose extra
        field holds `ean` (SnelStart cannot filter on extra fields: they are read once per connector)."""
        if sku:
            found = self.snelstart.page("/artikelen", top=ARTICLE_PAGE, filter=f"artikelcode eq {odata_text(sku)}")
            for article in found.rows:
                if (
                    str(article.get("artikelcode") or "") == sku
                    and not article.get("isNonActief")
                    and article.get("id")
                ):
                    return self._variant(article)
        if ean and self.settings.barcode_field.strip():
            return self._by_barcode().get(ean)
        return None

    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        wanted = reference(channel, channel_order_id)
        for order in self.snelstart.every("/verkooporders", filter=f"orderreferentie eq {odata_text(wanted)}"):
            if order.get("orderreferentie") == wanted and order.get("id"):
                return booked(order)
        return None

    def create_order(self, order: Order, *, tag: str, create_customer: bool = True) -> BackofficeOrder:
        if order.currency != CURRENCY:
            raise NeedsAttention(f"the order is in {order.currency}, SnelStart books in euro: book it by hand")
        body = self._order_body(order, tag)  # every line is checked before a relatie is made for it
        relatie = self.find_customer(order)
        if relatie is None:
            if not create_customer:
                raise NeedsAttention(
                    f"SnelStart has no relatie for {describe(order)}: make the customer in SnelStart, or let "
                    "the link create customers"
                )
            relatie = self.create_customer(order)
        body["relatie"] = {"id": relatie}
        return booked(self.snelstart.create("/verkooporders", body))

    # --- the customer, step by step (the flow may serialise these) -----------------------------------
    def find_customer(self, order: Order) -> str | None:
        """The relatie id of the buyer: by e-mail, else by the billing name and postcode."""
        email = (order.customer.email or "").strip()
        if email:
            for relatie in self.snelstart.every("/relaties", filter=f"email eq {odata_text(email)}"):
                if str(relatie.get("email") or "").strip().casefold() == email.casefold() and active(relatie):
                    return str(relatie["id"])
        name, postcode = customer_name(order), folded_postcode(order.billing_address.postal_code)
        if name and postcode:
            for relatie in self.snelstart.every("/relaties", filter=f"naam eq {odata_text(name)}"):
                address = relatie.get("vestigingsAdres") or {}
                if folded_postcode(str(address.get("postcode") or "")) == postcode and active(relatie):
                    return str(relatie["id"])
        return None

    def create_customer(self, order: Order) -> str:
        """A new relatie (kind Klant) for the buyer; its id. Sent once (see the module's docstring)."""
        address = adres(order.billing_address, order)
        body: dict[str, Any] = {
            "relatiesoort": ["Klant"],
            "naam": customer_name(order),
            "email": order.customer.email,
            "vestigingsAdres": address,
            "correspondentieAdres": address,
        }
        phone = order.customer.phone or order.billing_address.phone
        if phone:
            body["telefoon"] = phone
        created = self.snelstart.create("/relaties", body)
        if not created.get("id"):
            raise NeedsAttention(f"SnelStart made no relatie for {describe(order)}: it answered without an id")
        return str(created["id"])

    # --- the verkooporder -------------------------------------------------------------------------
    def _order_body(self, order: Order, tag: str) -> dict[str, Any]:
        regels: list[dict[str, Any]] = []
        for line in order.lines:
            regels.extend(self._lines(line))
        shipping = order.shipping_cost.amount if order.shipping_cost is not None else Decimal(0)
        if shipping > 0:
            article = self._special_article(self.settings.shipping_article, "shipping_article", "shipping costs")
            regels.append(
                {
                    "artikel": {"id": article.variant_id},
                    "omschrijving": "Verzendkosten",
                    "aantal": 1,
                    "stuksprijs": shipping,
                }
            )
        shown = order.name or order.channel_order_id
        memo = "\n".join(part for part in (order.note.strip(), f"koppel {tag}".strip()) if part)
        return {
            "procesStatus": self.settings.proces_status,
            "datum": order.placed_at.isoformat(timespec="seconds"),
            "omschrijving": f"Webshoporder {shown} ({order.channel})",
            "orderreferentie": reference(order.channel, order.channel_order_id),
            "memo": memo,
            "verkooporderBtwIngaveModel": "Inclusief",
            "factuuradres": adres(order.billing_address, order),
            "afleveradres": adres(order.shipping_address, order),
            "regels": regels,
        }

    def _lines(self, line: OrderLine) -> list[dict[str, Any]]:
        if not line.backoffice_variant_id:
            raise NeedsAttention(f"order line {line.line_id} ({line.channel_sku}) has no SnelStart article")
        price = line.unit_price.amount
        regel: dict[str, Any] = {
            "artikel": {"id": line.backoffice_variant_id},
            "omschrijving": (line.title or line.channel_sku)[:LINE_TEXT],
            "aantal": line.quantity,
            "stuksprijs": price,
        }
        discount = line.discount.amount if line.discount is not None else Decimal(0)
        if discount == 0:
            return [regel]
        gross = price * line.quantity
        percentage = discount * 100 / gross
        if percentage == percentage.quantize(CENT):
            return [regel | {"kortingsPercentage": percentage.quantize(CENT)}]
        if self.settings.discount_article:
            article = self._special_article(self.settings.discount_article, "discount_article", "a line discount")
            text = f"Korting {line.title or line.channel_sku}"[:LINE_TEXT]
            return [
                regel,
                {"artikel": {"id": article.variant_id}, "omschrijving": text, "aantal": 1, "stuksprijs": -discount},
            ]
        net = (gross - discount) / line.quantity
        if net == net.quantize(CENT):
            return [regel | {"stuksprijs": net.quantize(CENT)}]
        raise NeedsAttention(
            f"the discount of {discount} on order line {line.line_id} gives no exact SnelStart line: set the "
            "account's discount_article to book it as a line of its own"
        )

    def _special_article(self, code: str, field: str, purpose: str) -> Variant:
        """The article shipping or a discount is booked as (read once per connector)."""
        if self._special is None:
            self._special = {}
        if code not in self._special:
            found = self.find_variant(code) if code else None
            if found is None:
                raise NeedsAttention(
                    f"the order has {purpose} and the SnelStart account has no article for it"
                    + (f" (no article {code!r})" if code else f": set {field} to an artikelcode")
                )
            self._special[code] = found
        return self._special[code]

    def _by_barcode(self) -> dict[str, Variant]:
        if self._barcodes is None:
            found: dict[str, Variant] = {}
            for article in self.snelstart.every("/artikelen", top=ARTICLE_PAGE):
                if article.get("isNonActief") or not article.get("id"):
                    continue
                variant = self._variant(article)
                if variant.barcode:
                    found.setdefault(variant.barcode, variant)
            self._barcodes = found
        return self._barcodes

    def _variant(self, article: dict[str, Any]) -> Variant:
        return Variant(
            variant_id=str(article["id"]), sku=str(article.get("artikelcode") or ""), barcode=self._barcode(article)
        )

    def _barcode(self, article: dict[str, Any]) -> str:
        name = self.settings.barcode_field.strip().casefold()
        if not name:
            return ""
        for entry in article.get("extraVelden") or ():
            if isinstance(entry, dict) and str(entry.get("naam") or "").strip().casefold() == name:
                return str(entry.get("waarde") or "").strip()
        return ""


def booked(order: dict[str, Any]) -> BackofficeOrder:
    number = order.get("nummer")
    return BackofficeOrder(
        backoffice_order_id=str(order.get("id") or ""), name=str(number) if number is not None else ""
    )


def active(relatie: dict[str, Any]) -> bool:
    return bool(relatie.get("id")) and not relatie.get("nonactief")


def customer_name(order: Order) -> str:
    """The relatie's name: the billing company, else the buyer's name."""
    billing = order.billing_address
    person = " ".join(part for part in (billing.first_name, billing.last_name) if part).strip()
    person = person or " ".join(part for part in (order.customer.first_name, order.customer.last_name) if part).strip()
    name = billing.company or order.customer.company or person or order.customer.email
    return name.strip()[:NAME_LENGTH]


def describe(order: Order) -> str:
    return (
        f"{customer_name(order) or 'the buyer'} <{order.customer.email}>"
        if order.customer.email
        else customer_name(order)
    )


def folded_postcode(value: str) -> str:
    return "".join(value.split()).upper()


def adres(address: Address, order: Order) -> dict[str, Any]:
    person = " ".join(part for part in (address.first_name, address.last_name) if part).strip()
    street = " ".join(
        part for part in (address.street, address.house_number, address.house_number_extension) if part
    ).strip()
    found = {
        "contactpersoon": person or customer_name(order),
        "straat": street,
        "postcode": address.postal_code,
        "plaats": address.city,
    }
    return {key: value for key, value in found.items() if value}
