"""An InnVoice simulator on the kit: invoice pads, products with price groups and stock per warehouse,
invoices and proformas.

InnVoice publishes no API specification. This simulator is built from the public facts koppel keeps
on it (`FACTS-systems-2.md` §1.3 and §2.1: a third-party client with its README and tests, and two
apps that read the product list), not from a spec; every request and every 2xx answer is checked
against the field list in `contract.py`, and a request off it is refused with InnVoice's error shape
(`<response><error>code</error><message>…</message></response>`) and fails the test that sent it.

What it serves, under `/{reg}/` (the company's registration name): `GET tomb_invoice` (the pads),
`POST invoice` (an invoice, or a proforma with `Proforma=1`), `GET invoice/techid/{techid}` (one
document), `POST proforma_invoice` (a proforma turned into an invoice) and `GET product` (every
product, no paging). Auth is HTTP Basic.

Not verified against the real API (beyond what `contract.py` lists):
- the HTTP statuses: the facts give only the error body (its tests put `500` in `<error>`); this
  simulator answers 401 to bad credentials, 404 to an unknown company or document, 400 to a refused
  document, 429 past `rate_limit` (InnVoice documents no limit; `Retry-After` is this simulator's);
- stock: a final invoice (neither draft nor proforma) takes each line's quantity out of the first
  warehouse of the product whose article number (`CikkSzam`) the line carries; a line without one,
  or with one InnVoice does not know, is text and moves nothing. Whether and where the real InnVoice
  books stock from an API invoice is not documented (its own Shoprenter connector does it "by
  cikkszám", per the merchant settings);
- e-mail: `EmailKuldes=1` with a `VevoEmail` records the document as sent, never for a draft
  (the merchant settings say so for InnVoice's own connector);
- numbering (`Sorszam` per pad, `SorszamFormatted` of a proforma), `PrintUrl`s and techids are made up;
- the product list's fields beyond `Nev`, `CikkSzam`, `EAN`, `Arak/Arcsoport_Ar`, `Arcsoport_Brutto` and
  `Keszletek/Keszlet/Raktar_Keszlet`: none are served. A product lists one `Arak` per price group up to
  its last priced one and one `Keszlet` per warehouse up to its last stocked one (an empty `Arak` for a
  group it has no price in, 0 for a warehouse it has no stock in).
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.innvoice.contract import InnVoiceContract, invoice_lines, parse, text
from koppel_local.simulators.kit import (
    BasicAuth,
    ClaimedViolations,
    Contract,
    ContractViolation,
    Fault,
    FixedWindows,
    PlannedFaults,
    RateLimit,
    WsgiSimulator,
    route,
)

DEMO_REG = "koppel-demo"
DEMO_USER = "koppel-api"
DEMO_PASSWORD = "innvoice-demo-password"  # noqa: S105 - the simulator's made-up password

_REG = r"/(?P<reg>[^/]+)"
ROUTES = (
    route("GET", rf"{_REG}/tomb_invoice", "pads", "_list_pads"),
    route("POST", rf"{_REG}/invoice", "invoice", "_create_invoice"),
    route("GET", rf"{_REG}/invoice/techid/(?P<techid>[^/]+)", "invoice-read", "_read_invoice"),
    route("POST", rf"{_REG}/proforma_invoice", "proforma-invoice", "_convert_proforma"),
    route("GET", rf"{_REG}/product", "products", "_list_products"),
)


@dataclass
class Product:
    sku: str
    name: str
    ean: str = ""
    prices: list[tuple[Decimal, bool] | None] = field(default_factory=list)  # per price group: (price, gross)
    group: str = ""  # the product group (served as TermekCsoport, a field name of koppel's guessing)
    stock: list[Decimal] = field(default_factory=list)  # per warehouse


@dataclass
class Line:
    name: str
    vat_key: str
    gross: bool
    unit_price: Decimal
    quantity: Decimal
    unit: str = ""
    sku: str = ""  # the article number the line carried ("" : a text line)
    stock_moved: bool = False


@dataclass
class Document:
    techid: str
    table_id: str
    pad: str
    proforma: bool
    draft: bool
    fields: dict[str, str]
    lines: list[Line]
    number: str = ""  # Sorszam; a proforma's is its SorszamFormatted
    emailed_to: str = ""  # "" : no e-mail was sent
    converted_to: str = ""  # a proforma turned into an invoice: that invoice's techid

    @property
    def print_url(self) -> str:
        return f"https://www.innvoice.hu/print/{self.techid}.pdf"


def xml_answer(status: int, root: Element) -> Response:
    return Response(tostring(root, encoding="utf-8", xml_declaration=True), status, content_type="text/xml")


def element(tag: str, values: Mapping[str, object]) -> Element:
    node = Element(tag)
    for name, value in values.items():
        SubElement(node, name).text = str(value)
    return node


def error(status: int, code: str, message: str) -> Response:
    return xml_answer(status, element("response", {"error": code, "message": message}))


class InnVoiceSimulator(ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One InnVoice company, reached through its API user."""

    system = "InnVoice simulator"
    routes = ROUTES

    def __init__(
        self,
        *,
        contract: Contract | None = None,
        reg_name: str = DEMO_REG,
        user: str = DEMO_USER,
        password: str = DEMO_PASSWORD,
        rate_limit: RateLimit | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        today: Callable[[], date] = date.today,
    ) -> None:
        """`contract`: None serves the field list of `contract.py` (there is no reference file to miss)."""
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.contract = contract if contract is not None else InnVoiceContract()
        self.reg_name = reg_name
        self.basic = BasicAuth(user, password)
        self.rate_limit = rate_limit
        self.windows = FixedWindows()
        self.today = today
        self.pads: dict[str, dict[str, Any]] = {}  # TABLE_ID -> {name, prefix, proforma}
        self.products: list[Product] = []
        self.warehouses: list[str] = ["Központi raktár"]
        self.documents: dict[str, Document] = {}  # techid -> document
        self._table_ids = count(1001)
        self._numbers: dict[str, count[int]] = {}

    # --- state API for tests and the demo -------------------------------------------------------
    def add_pad(self, name: str, *, prefix: str = "", proforma: bool = False) -> str:
        """An invoice pad (számlatömb); its TABLE_ID."""
        with self._lock:
            pad_id = str(len(self.pads) + 1)
            self.pads[pad_id] = {"name": name, "prefix": prefix or f"P{pad_id}", "proforma": proforma}
        return pad_id

    def add_warehouse(self, name: str) -> int:
        """A warehouse; its index (from 1), the position of its `Keszlet` in every product."""
        with self._lock:
            self.warehouses.append(name)
            return len(self.warehouses)

    def add_product(
        self,
        sku: str,
        name: str,
        *,
        ean: str = "",
        prices: Iterable[tuple[Decimal | str, bool] | None] = (),
        stock: Mapping[int, Decimal | int] | None = None,
        group: str = "",
    ) -> Product:
        """A product; `prices` one (price, gross) per price group in order; `stock` warehouse index -> units."""
        product = Product(
            sku, name, ean, [None if p is None else (Decimal(str(p[0])), p[1]) for p in prices], group=group
        )
        with self._lock:
            self.products.append(product)
            for warehouse, units in (stock or {}).items():
                self.set_stock(sku, warehouse, units)
        return product

    def product(self, sku: str) -> Product:
        with self._lock:
            return next(product for product in self.products if product.sku == sku)

    def set_price(self, sku: str, group: int, price: Decimal | str, *, gross: bool = True) -> None:
        with self._lock:
            prices = self.product(sku).prices
            prices.extend([None] * (group - len(prices)))
            prices[group - 1] = (Decimal(str(price)), gross)

    def set_stock(self, sku: str, warehouse: int, units: Decimal | int) -> None:
        with self._lock:
            stock = self.product(sku).stock
            stock.extend([Decimal(0)] * (warehouse - len(stock)))
            stock[warehouse - 1] = Decimal(units)

    def stock(self, sku: str, warehouse: int = 1) -> Decimal:
        with self._lock:
            stock = self.product(sku).stock
            return stock[warehouse - 1] if warehouse <= len(stock) else Decimal(0)

    def document(self, techid: str) -> Document:
        with self._lock:
            return copy.deepcopy(self.documents[techid])

    def documents_mentioning(self, words: str) -> list[Document]:
        """Every document whose comment holds `words`, oldest first (what the merchant finds by searching)."""
        with self._lock:
            return [copy.deepcopy(d) for d in self.documents.values() if words in d.fields.get("Megjegyzes", "")]

    # --- the kit's hooks, in InnVoice's words ----------------------------------------------------
    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        return self.contract, request.path

    def authenticate(self, request: Request) -> Response | None:
        if self.basic.check(request) is None:
            return None
        refusal = error(401, "401", "Hibás felhasználónév vagy jelszó")
        refusal.headers["WWW-Authenticate"] = 'Basic realm="InnVoice API"'
        return refusal

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        if self.rate_limit is None:
            return None, {}
        admission = self.windows.admit("api", self.rate_limit, self._clock())
        if admission.admitted:
            return None, {}
        refusal = error(429, "429", "Túl sok kérés")
        refusal.headers["Retry-After"] = str(admission.reset_seconds)
        return refusal, {}

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status == 429:
            refusal = error(429, "429", "Túl sok kérés")
            refusal.headers["Retry-After"] = str(fault.retry_after or 1)
            return refusal
        if fault.status >= 500:
            return Response(HTTP_STATUS_CODES.get(fault.status, "Error"), fault.status, content_type="text/plain")
        return error(fault.status, str(fault.status), HTTP_STATUS_CODES.get(fault.status, "Error"))

    def refuse(self, request: Request, error_: ContractViolation) -> Response:
        reasons = "; ".join(f"{v.name}: {v.reason}" for v in error_.violations)
        return error(400, "400", f"Hibás adatok: {reasons}"[:1000])

    def not_served(self, request: Request) -> Response:
        return error(501, "501", f"the simulator does not serve {request.method} {request.path}")

    # --- endpoints ------------------------------------------------------------------------------
    def _company(self, reg: str) -> Response | None:
        return None if reg == self.reg_name else error(404, "404", "Nem létező cég")

    def _list_pads(self, request: Request, reg: str) -> Response:
        refused = self._company(reg)
        if refused is not None:
            return refused
        root = Element("tomb_invoice")
        for pad_id, pad in self.pads.items():
            root.append(element("invoice", {"TABLE_ID": pad_id, "name": pad["name"]}))
        return xml_answer(200, root)

    def _list_products(self, request: Request, reg: str) -> Response:
        refused = self._company(reg)
        if refused is not None:
            return refused
        root = Element("response")
        for product in self.products:
            node = element("product", {"Nev": product.name, "CikkSzam": product.sku, "EAN": product.ean})
            if product.group:
                SubElement(node, "TermekCsoport").text = product.group
            for price in product.prices:
                prices = SubElement(node, "Arak")
                if price is not None:
                    SubElement(prices, "Arcsoport_Ar").text = format(price[0], "f")
                    SubElement(prices, "Arcsoport_Brutto").text = "1" if price[1] else "0"
            stocks = SubElement(node, "Keszletek")
            for units in product.stock:
                SubElement(SubElement(stocks, "Keszlet"), "Raktar_Keszlet").text = format(units, "f")
            root.append(node)
        return xml_answer(200, root)

    def _create_invoice(self, request: Request, reg: str) -> Response:
        refused = self._company(reg)
        if refused is not None:
            return refused
        invoice = parse(request.get_data())[0]
        fields = {child.tag: text(child) for child in invoice if child.tag != "tetel" and len(child) == 0}
        lines, _ = invoice_lines(invoice)
        pad = fields["SzamlatombID"]
        if pad not in self.pads:
            return error(400, "400", f"Nem létező számlatömb: {pad}")
        proforma, draft = fields.get("Proforma") == "1", fields.get("Felretett") == "1"
        document = Document(
            techid=secrets.token_hex(8),
            table_id=str(next(self._table_ids)),
            pad=pad,
            proforma=proforma,
            draft=draft,
            fields=fields,
            lines=[
                Line(
                    name=line["TetelNev"],
                    vat_key=line["AfaSzoveg"],
                    gross=line.get("Brutto") == "1",
                    unit_price=Decimal(line["EgysegAr"]),
                    quantity=Decimal(line["Mennyiseg"]),
                    unit=line.get("MennyisegEgyseg", ""),
                    sku=line.get("CikkSzam", ""),
                )
                for line in lines
            ],
        )
        document.number = self._next_number(pad, proforma=proforma)
        if not proforma and not draft:
            self._move_stock(document)
        if fields.get("EmailKuldes") == "1" and fields.get("VevoEmail") and not draft:
            document.emailed_to = fields["VevoEmail"]
        self.documents[document.techid] = document
        if proforma:
            return xml_answer(200, self._answer("proforma_invoice", document))
        return xml_answer(200, self._answer("invoice", document))

    def _read_invoice(self, request: Request, reg: str, techid: str) -> Response:
        refused = self._company(reg)
        if refused is not None:
            return refused
        document = self.documents.get(techid)
        if document is None:
            return error(404, "404", "Nem létező számla")
        root = self._answer("invoice", document)
        SubElement(root, "SorszamFormatted").text = document.number
        SubElement(root, "Proforma").text = "1" if document.proforma else "0"
        return xml_answer(200, root)

    def _convert_proforma(self, request: Request, reg: str) -> Response:
        refused = self._company(reg)
        if refused is not None:
            return refused
        given = {child.tag: text(child) for child in parse(request.get_data())[0]}
        proforma = next((d for d in self.documents.values() if d.proforma and d.table_id == given["TABLE_ID"]), None)
        if proforma is None:
            return error(404, "404", "Nem létező díjbekérő")
        if proforma.converted_to:
            return error(400, "400", "A díjbekérőből már készült számla")
        fields = proforma.fields | {name: given[name] for name in ("SzamlaKelte", "TeljesitesKelte", "Hatarido")}
        invoice = Document(
            techid=secrets.token_hex(8),
            table_id=str(next(self._table_ids)),
            pad=proforma.pad,
            proforma=False,
            draft=False,
            fields=fields | {"Proforma": "0", "Felretett": "0"},
            lines=copy.deepcopy(proforma.lines),
        )
        invoice.number = self._next_number(invoice.pad, proforma=False)
        self._move_stock(invoice)
        proforma.converted_to = invoice.techid
        self.documents[invoice.techid] = invoice
        return xml_answer(200, self._answer("invoice", invoice))

    # --- bookkeeping ----------------------------------------------------------------------------
    def _answer(self, tag: str, document: Document) -> Element:
        values: dict[str, object] = {"techid": document.techid}
        if tag == "invoice":
            values["Sorszam"] = document.number
        values |= {"PrintUrl": document.print_url, "TABLE_ID": document.table_id}
        return element(tag, values)

    def _next_number(self, pad: str, *, proforma: bool) -> str:
        kind = "D" if proforma else self.pads[pad]["prefix"]
        sequence = next(self._numbers.setdefault(kind, count(1)))
        return f"{kind}-{self.today().year}-{sequence}"

    def _move_stock(self, document: Document) -> None:
        known = {product.sku: product for product in self.products}
        for line in document.lines:
            product = known.get(line.sku) if line.sku else None
            if product is None:
                continue  # a text line: InnVoice keeps no stock for it
            if not product.stock:
                product.stock.append(Decimal(0))
            product.stock[0] -= line.quantity
            line.stock_moved = True
