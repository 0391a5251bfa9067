"""Webshop orders into InnVoice as invoices or proformas (`OrderSink`).

Built from the public facts koppel keeps on InnVoice (`FACTS-systems-2.md` §1.3, §2.1), not from a
specification. One order is one `POST /{reg}/invoice` (`<invoices><invoice>…`):

- the buyer from the billing address (`VevoNev`: the company, else the person; `VevoIrsz`,
  `VevoOrszag`, `VevoTelep`, `VevoUtcaHsz`); no tax number, koppel's orders carry none;
- the pad (`SzamlatombID`, the account's `pad_id`), dates as `YYYY.MM.DD.` in Hungarian time: issued
  today, fulfilled on the order's date, due `due_days` later (today when paid); the currency
  (`Devizanem`: the account's, orders in another currency wait for a person); the payment method
  (`FizetesiMod`: the link's, else the account's `payment_methods` for the gateway, else its
  default); `Fizetve` 1 for the account's `paid_methods`; `Eszamla`, `Felretett` (draft), `Proforma`;
- lines numbered `TetelNev1..N` (or one `<tetel>` block each, `line_format = nested`): the title, the
  VAT key (`AfaSzoveg`, from the account's `vat_keys`), the unit price with VAT (`Brutto` 1), the
  quantity and unit. A line discount is a line of its own at minus the discount with the line's VAT
  key ("Kedvezmény: …"), so the document comes to the order's total to the cent whatever the quantity;
  shipping is a line at the highest VAT rate of the order's lines;
- stock by article number: a line whose SKU InnVoice's product list holds carries it as `CikkSzam`, so
  InnVoice can take the units out of stock; a line whose SKU it does not know is invoiced as text,
  without stock — never a failure (`unknown_skus = wait` makes such an order wait instead). The SKU is
  checked against the product list when the document is made, so a product added in InnVoice since
  the line was mapped is booked with its article number;
- the channel's reference `koppel:{channel}:{order id}`, the order's name and note and the link's tag
  go in the comment (`Megjegyzes`), where the merchant can search for it;
- with `email_buyer` the buyer's address goes along (`VevoEmail`) with `EmailKuldes` 1 (never for a
  draft: the settings refuse that combination).

Not verified: `CikkSzam` on a line, `Megjegyzes`, `VevoEmail` and `EmailKuldes` are not in the facts
(names of koppel's choosing); whether InnVoice moves stock for an API document; which line form the
real API takes (the facts conflict: numbered fields are the best evidenced); how it rounds.

Never twice: InnVoice documents no search of its documents by a reference, only the read of one by its
techid. So `find_order` cannot find anything and answers None, and a document whose answer is lost
(a timeout, a 5xx) is raised as `TransientConnectorError` saying its outcome is unknown, so the flow
holds the order's claim rather than send it again. koppel keeps the techid as the order's
`backoffice_order_id` and `Sorszam` as its name; a proforma has no number in its answer, and its
`SorszamFormatted` is read once by techid (left empty when that read fails).

`invoice_from_proforma(techid)` turns a paid proforma into its invoice (`POST /{reg}/proforma_invoice`
with the proforma's `TABLE_ID`, read by techid, and today's dates), sent once like any document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement
from zoneinfo import ZoneInfo

from koppel.connectors.base import BackofficeOrder, Variant
from koppel.connectors.innvoice.client import InnVoiceRefusal, value
from koppel.connectors.innvoice.products import InnVoiceProducts, Listed
from koppel.errors import ConfigurationError, NeedsAttention, TransientConnectorError
from koppel.models import Address, Order, OrderLine

HUNGARY = ZoneInfo("Europe/Budapest")
TEXT_LINE = ""  # the variant id of a SKU InnVoice does not know: the line is invoiced as text
LINE_TEXT = 200  # a line's name, cut to a length any invoice prints (InnVoice's limit is not published)


def reference(channel: str, channel_order_id: str) -> str:
    return f"koppel:{channel}:{channel_order_id}"


def day(moment: date) -> str:
    return moment.strftime("%Y.%m.%d.")


def amount(value_: Decimal) -> str:
    return format(value_.normalize(), "f") if value_ == value_.to_integral() else format(value_, "f")


class InnVoiceInvoices(InnVoiceProducts):
    """`OrderSink`: an invoice or a proforma per webshop order; `pads()` for the CLI and flows."""

    today: Callable[[], date] | None = None  # the day in Hungary; the connector sets it (tests pin it)

    # --- OrderSink --------------------------------------------------------------------------------
    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        """The product with article number `sku` (or EAN `ean`); its variant id is the article number.

        A SKU InnVoice does not know is a text line: a Variant whose id is empty (`TEXT_LINE`), which
        `create_order` invoices without stock. With `unknown_skus = wait`, None (the order waits).
        Without `stock_by_article_number` every SKU is a text line: nothing is looked up."""
        if not self.settings.stock_by_article_number:
            return Variant(variant_id=TEXT_LINE, sku=sku, barcode=ean)
        found = self._known(sku, ean)
        if found is not None:
            return Variant(variant_id=found.sku, sku=found.sku, barcode=found.ean)
        if self.settings.unknown_skus == "wait":
            return None
        return Variant(variant_id=TEXT_LINE, sku=sku, barcode=ean)

    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        """Always None: InnVoice documents no search by reference (see the module's docstring)."""
        return None

    def create_order(self, order: Order, *, tag: str, create_customer: bool = True) -> BackofficeOrder:
        """Post the order as one document, once; `create_customer` has nothing to do (the buyer is on it)."""
        body = self.document_body(order, tag)
        answer = self.innvoice.post("/invoice", body)
        techid = value(answer, "techid")
        if not techid:
            raise NeedsAttention(
                f"InnVoice answered order {order.name or order.channel_order_id} without a techid: look it up "
                f"in InnVoice by {reference(order.channel, order.channel_order_id)} in the comment"
            )
        number = value(answer, "Sorszam")
        if not number and answer.tag == "proforma_invoice":
            number = self._number_of(techid)
        return BackofficeOrder(backoffice_order_id=techid, name=number)

    def invoice_from_proforma(self, techid: str) -> BackofficeOrder:
        """The invoice made from the proforma `techid` (`POST /{reg}/proforma_invoice`), dated today and
        due today: the buyer has paid. Sent once, like a new document; the proforma's `TABLE_ID` is read
        by techid first. Not verified: whether InnVoice moves stock at this point."""
        proforma = self.innvoice.get(f"/invoice/techid/{techid}")
        table_id = value(proforma, "TABLE_ID")
        if not table_id:
            raise NeedsAttention(f"InnVoice answered proforma {techid} without its TABLE_ID: make the invoice by hand")
        today = day(self._today())
        root = Element("proforma_invoices")
        node = SubElement(root, "proforma_invoice")
        for name in ("SzamlaKelte", "TeljesitesKelte", "Hatarido"):
            SubElement(node, name).text = today
        SubElement(node, "TABLE_ID").text = table_id
        answer = self.innvoice.post("/proforma_invoice", root)
        return BackofficeOrder(backoffice_order_id=value(answer, "techid"), name=value(answer, "Sorszam"))

    # --- pads --------------------------------------------------------------------------------------
    def pads(self) -> list[tuple[str, str]]:
        """(TABLE_ID, name) of every invoice pad, for choosing the account's `pad_id`."""
        document = self.innvoice.get("/tomb_invoice")
        return [
            (value(pad, "TABLE_ID"), value(pad, "name") or value(pad, "Nev"))
            for pad in document.findall("invoice")
            if value(pad, "TABLE_ID")
        ]

    # --- the document -------------------------------------------------------------------------------
    def document_body(self, order: Order, tag: str) -> Element:
        settings = self.settings
        if not settings.pad_id:
            raise ConfigurationError(
                "InnVoice needs an invoice pad to make documents in: set the account's pad_id to a pad's TABLE_ID "
                "(koppel lists the pads with their names)",
                field="settings.pad_id",
            )
        if order.currency != settings.currency:
            raise NeedsAttention(
                f"the order is in {order.currency}, the InnVoice account invoices in {settings.currency}: "
                "invoice it by hand or set the account's currency"
            )
        method = self._payment_method(order)
        paid = method.casefold() in {name.casefold() for name in settings.paid_methods}
        today = self._today()
        placed = order.placed_at.astimezone(HUNGARY).date()
        invoice = Element("invoice")
        header: dict[str, str] = buyer(order.billing_address, order) | {
            "SzamlatombID": settings.pad_id,
            "SzamlaKelte": day(today),
            "TeljesitesKelte": day(placed),
            "Hatarido": day(today if paid else today + timedelta(days=settings.due_days)),
            "Devizanem": order.currency,
            "FizetesiMod": method,
            "Fizetve": "1" if paid else "0",
            "Eszamla": "1" if settings.e_invoice else "0",
            "Felretett": "1" if settings.draft else "0",
            "Proforma": "1" if settings.document == "proforma" else "0",
            "Megjegyzes": self._comment(order, tag),
        }
        if settings.email_buyer and not settings.draft and order.customer.email:
            header |= {"VevoEmail": order.customer.email, "EmailKuldes": "1"}
        for name, text in header.items():
            if text:
                SubElement(invoice, name).text = text
        lines = list(self._lines(order))
        if settings.line_format == "nested":
            for line in lines:
                block = SubElement(invoice, "tetel")
                for name, text in line.items():
                    SubElement(block, name).text = text
        else:
            for number, line in enumerate(lines, 1):
                for name, text in line.items():
                    SubElement(invoice, f"{name}{number}").text = text
        root = Element("invoices")
        root.append(invoice)
        return root

    def _lines(self, order: Order) -> Iterator[dict[str, str]]:
        for line in order.lines:
            key = self._vat_key(line.vat_rate, f"order line {line.line_id} ({line.channel_sku})")
            title = (line.title or line.channel_sku)[:LINE_TEXT]
            found = self._article(line)
            yield self._line(title, key, line.unit_price.amount, Decimal(line.quantity), found.sku if found else "")
            discount = line.discount.amount if line.discount is not None else Decimal(0)
            if discount > 0:
                yield self._line(f"Kedvezmény: {title}"[:LINE_TEXT], key, -discount, Decimal(1), "")
        shipping = order.shipping_cost.amount if order.shipping_cost is not None else Decimal(0)
        if shipping > 0:
            rate = max((line.vat_rate for line in order.lines if line.vat_rate is not None), default=None)
            key = self._vat_key(rate, "the shipping")
            yield self._line(self.settings.shipping_text, key, shipping, Decimal(1), "")

    def _line(self, title: str, key: str, price: Decimal, quantity: Decimal, article: str) -> dict[str, str]:
        line = {
            "TetelNev": title,
            "AfaSzoveg": key,
            "Brutto": "1",
            "EgysegAr": amount(price),
            "Mennyiseg": amount(quantity),
            "MennyisegEgyseg": self.settings.unit,
        }
        if article:
            line["CikkSzam"] = article
        return line

    def _article(self, line: OrderLine) -> Listed | None:
        """The product the line is stock of, when InnVoice knows it now; None: a text line."""
        if not self.settings.stock_by_article_number:
            return None
        found = self._known(line.backoffice_variant_id or line.channel_sku, line.ean)
        if found is None and self.settings.unknown_skus == "wait":
            raise NeedsAttention(
                f"InnVoice has no product with article number {line.channel_sku}: add it in InnVoice, or let the "
                "account invoice unknown SKUs as text (unknown_skus = text)"
            )
        return found

    def _known(self, sku: str, ean: str) -> Listed | None:
        catalogue = self.catalogue()
        if sku:
            for item in catalogue:
                if item.sku == sku:
                    return item
        if ean:
            for item in catalogue:
                if item.ean == ean:
                    return item
        return None

    def _vat_key(self, rate: Decimal | None, what: str) -> str:
        if rate is None:
            raise NeedsAttention(f"{what} has no VAT rate: set the link's orders.default_vat_rate")
        key = self.settings.vat_key(rate)
        if key is None:
            raise NeedsAttention(
                f"{what} has VAT {amount(rate)}%, which the InnVoice account's vat_keys do not name: add the rate "
                "with its InnVoice VAT key (AfaSzoveg)"
            )
        return key

    def _payment_method(self, order: Order) -> str:
        if order.backoffice_payment_method:
            return order.backoffice_payment_method
        mapped = {name.casefold(): method for name, method in self.settings.payment_methods.items()}
        return mapped.get(order.payment_method.casefold(), self.settings.default_payment_method)

    def _comment(self, order: Order, tag: str) -> str:
        shown = (
            f"Webshop rendelés {order.name} ({order.channel})" if order.name else f"Webshop rendelés ({order.channel})"
        )
        parts = (shown, reference(order.channel, order.channel_order_id), order.note.strip(), tag.strip())
        return "\n".join(part for part in parts if part)

    def _today(self) -> date:
        return self.today() if self.today is not None else datetime.now(HUNGARY).date()

    def _number_of(self, techid: str) -> str:
        try:
            return value(self.innvoice.get(f"/invoice/techid/{techid}"), "SorszamFormatted")
        except (TransientConnectorError, InnVoiceRefusal):
            return ""  # the document is made; its number shows in InnVoice


def buyer(address: Address, order: Order) -> dict[str, str]:
    person = " ".join(part for part in (address.first_name, address.last_name) if part).strip()
    person = person or " ".join(part for part in (order.customer.first_name, order.customer.last_name) if part)
    street = " ".join(part for part in (address.street, address.house_number, address.house_number_extension) if part)
    return {
        "VevoNev": (address.company or order.customer.company or person or order.customer.email).strip(),
        "VevoIrsz": address.postal_code,
        "VevoOrszag": address.country_code,
        "VevoTelep": address.city,
        "VevoUtcaHsz": street.strip(),
    }
