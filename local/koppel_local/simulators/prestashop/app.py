"""A PrestaShop 8 webservice simulator on the kit: orders, customers, addresses, countries, currencies,
order states, products, combinations, stock and tax rules, in PrestaShop's XML.

It follows `../shared/reference/prestashop/webservice-docs-8.x/` (the field table of each resource under
`resources/`, the list parameters of `tutorials/advanced-use/additional-list-parameters.md` and
`getting-started.md`), with `../shared/reference/FACTS-systems-2.md` §1.7 for what the pages leave out.
Every request body and every 2xx answer is checked against the resource's documented fields (`kit.xml_shape`:
required fields, formats, sizes; a field the table marks not writable refused on a write), and every
list query against the documented parameters (`display`, `filter[...]`, `sort`, `limit`, and `date=1`,
without which a filter or sort on a date is refused). A body with a DTD (an entity bomb, an external
entity) is refused unread. A request off the pages is answered 400 in PrestaShop's error shape and fails
the test that sent it.

What it serves, under `/api`: `GET /api/{resource}` (a list), `GET /api/{resource}/{id}`,
`POST /api/{resource}` (a create), `PUT /api/{resource}/{id}` and `PUT /api/{resource}` with the id in
the body (an update that replaces the whole resource), for the resources of `RESOURCES`. A POST with
`ps_method=PUT` (the cheat sheet's method override) is taken as the PUT it names.

Auth: the webservice key as the Basic user (any password), with per-resource permissions
(`permissions`); a key without the right for a resource and method is refused 401. The shop's clock
(`freeze`, `advance`) stamps `date_add`/`date_upd` in the shop's own time zone, as PrestaShop stores
them, in whole seconds. Faults (`fail_next`, a lost answer after execution), latency, and 429s with a
configurable limit (`limit_per_second`: PrestaShop core has no rate limit; a host or a proxy in front may
have one), and `put_blocked` for a host whose firewall answers every PUT 405 (as shared hosts' mod_security
rules do, FACTS §1.7 (e)).

Not verified against a real shop: the error codes and their wording (the pages document no error
list); that an interval filter `[a,b]` takes `a` and leaves out `b` (getting-started says so; the
webservice's SQL may take both ends); that a create without `link_rewrite` in the default language is
refused; that a product's `reference` is not unique (PrestaShop does not enforce it, so a second create
makes a second product — which is why koppel looks before it creates); the default ids of the order
states, countries and currency (those of a fresh 8.x install, as far as known: Payment accepted 2,
Shipped 4, Canceled 6, the Netherlands 13); the 401 for a missing permission (a shop may answer 403).
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from werkzeug.wrappers import Request, Response

from koppel_local.reference import reference_file
from koppel_local.simulators.kit import (
    Answer,
    Call,
    CheckingContract,
    ClaimedViolations,
    ContractViolation,
    PlannedFaults,
    ReferenceMissing,
    Route,
    ShopClock,
    ShopThrottle,
    Violation,
    WsgiSimulator,
    XmlShape,
    load_prestashop_shape,
    route,
)

DOCS = ("prestashop", "webservice-docs-8.x", "resources")
DEMO_WS_KEY = "KOPPELDEMOKEY0000000000000000000"  # the simulator's made-up webservice key
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
# resource -> its element, as the pages name them
RESOURCES: dict[str, str] = {
    "orders": "order",
    "customers": "customer",
    "addresses": "address",
    "countries": "country",
    "currencies": "currency",
    "order_states": "order_state",
    "products": "product",
    "combinations": "combination",
    "stock_availables": "stock_available",
    "tax_rules": "tax_rule",
    "taxes": "tax",
}
# Order states of a fresh install: (name, paid, shipped)
ORDER_STATES: dict[int, tuple[str, bool, bool]] = {
    1: ("Awaiting check payment", False, False),
    2: ("Payment accepted", True, False),
    3: ("Processing in progress", True, False),
    4: ("Shipped", True, True),
    5: ("Delivered", True, True),
    6: ("Canceled", False, False),
    7: ("Refunded", True, False),
    8: ("Payment error", False, False),
    9: ("On backorder (paid)", True, False),
    10: ("Awaiting bank wire payment", False, False),
    11: ("Remote payment accepted", True, False),
    12: ("On backorder (not paid)", False, False),
    13: ("Awaiting Cash On Delivery validation", False, False),
}
COUNTRIES = {13: ("NL", "Netherlands"), 3: ("BE", "Belgium"), 1: ("DE", "Germany")}
TAX_GROUPS = {1: Decimal("21"), 2: Decimal("9")}  # tax rules group -> its rate in the Netherlands

_PATH = re.compile(r"^/api/(?P<resource>[a-z_]+)(?:/(?P<rid>\d+))?/?$")
_SORT = re.compile(r"^\[(?P<keys>[a-z_0-9]+_(?:ASC|DESC)(?:,[a-z_0-9]+_(?:ASC|DESC))*)\]$")
_DISPLAY = re.compile(r"^(full|\[[a-z_0-9]+(?:,[a-z_0-9]+)*\])$")
_LIMIT = re.compile(r"^\d+(,\d+)?$")
_FILTER = re.compile(r"^filter\[(?P<field>[a-z_0-9]+)\]$")
_KNOWN_PARAMS = frozenset(
    {"display", "sort", "limit", "date", "output_format", "io_format", "language", "id_shop", "id_group_shop"}
    | {"ws_key", "schema", "ps_method", "sendemail"}
)


# --- the documented tables ----------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """What the field-table columns `kit.xml_shape` does not keep say: not writable, not filterable."""

    read_only: frozenset[str]
    not_filterable: frozenset[str]
    dates: frozenset[str]


def load_table(resource: str, element: str) -> Table:
    path = reference_file(*DOCS, f"{resource}.md")
    if path is None:
        raise ReferenceMissing(*DOCS, f"{resource}.md")
    lines = path.read_text(encoding="utf-8").splitlines()
    heading = f"### {element.capitalize()}"
    start = lines.index(heading) if heading in lines else 0
    columns: list[str] = []
    read_only, not_filterable, dates = set(), set(), set()
    for line in lines[start:]:
        if line.startswith("### ") and line != heading:
            break
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not columns and "Name" in cells:
            columns = [cell.lower() for cell in cells]
            continue
        if not columns or not cells[0].startswith("**"):
            continue
        cell = dict(zip(columns, cells, strict=False))
        name = cells[0].strip("*").replace("\\", "")
        if "❌" in cell.get("writable", ""):
            read_only.add(name)
        if "true" in cell.get("not filterable", ""):
            not_filterable.add(name)
        if cell.get("format", "") in ("isDate", "isDateFormat") or name.startswith("date_"):
            dates.add(name)
    return Table(frozenset(read_only), frozenset(not_filterable), frozenset(dates))


class PrestaShopContract(CheckingContract):
    """Every resource's XML shape and table, and the documented list parameters."""

    def __init__(self, shapes: Mapping[str, XmlShape], tables: Mapping[str, Table]) -> None:
        self.shapes = dict(shapes)
        self.tables = dict(tables)
        self.source = "/".join(DOCS[:2])

    def _resource(self, call: Call) -> tuple[str, str | None] | None:
        found = _PATH.match(call.path)
        if found is None or found["resource"] not in self.shapes:
            return None
        return found["resource"], found["rid"]

    def request_violations(self, call: Call) -> list[Violation]:
        found = self._resource(call)
        if found is None:
            return []
        resource, rid = found
        shape, table = self.shapes[resource], self.tables[resource]
        where = f"resources/{resource}.md"
        if call.method == "GET":
            return self._query_violations(resource, call, list_call=rid is None)
        if call.method not in ("POST", "PUT", "PATCH"):
            return []
        violations = [replace(v, location=f"{where}#{v.location}") for v in shape.request_violations(call)]
        if violations:
            return violations
        record = fromstring(call.body, forbid_dtd=True)[0]
        for child in record:
            if child.tag in table.read_only:
                violations.append(
                    Violation(f"{shape.element}.{child.tag}", "not writable: refused on a write", f"{where}#Writable")
                )
        return violations

    def _query_violations(self, resource: str, call: Call, *, list_call: bool) -> list[Violation]:
        shape, table = self.shapes[resource], self.tables[resource]
        fields = set(shape.fields) | {"id"}
        doc = "tutorials/advanced-use/additional-list-parameters.md"
        found: list[Violation] = []
        dated = call.query.get("date") == "1"
        for key, value in call.query.items(multi=True):
            matched = _FILTER.match(key)
            if matched is not None:
                field = matched["field"]
                if field not in fields or field in table.not_filterable:
                    found.append(
                        Violation(key, f"{resource} cannot be filtered by {field}", f"resources/{resource}.md#Name")
                    )
                elif field in table.dates and not dated:
                    found.append(Violation(key, "a filter on a date needs date=1", f"{doc}#Sort parameter"))
                continue
            if key == "sort":
                sorted_by = _SORT.match(value)
                if sorted_by is None:
                    found.append(Violation(key, f"'{value}' is not [field_ASC|DESC,...]", f"{doc}#Sort parameter"))
                    continue
                for part in sorted_by["keys"].split(","):
                    field = part.rsplit("_", 1)[0]
                    if field not in fields:
                        found.append(Violation(key, f"{resource} cannot be sorted by {field}", f"{doc}#Sort parameter"))
                    elif field in table.dates and not dated:
                        found.append(Violation(key, "a sort on a date needs date=1", f"{doc}#Sort parameter"))
            elif key == "display":
                if _DISPLAY.match(value) is None:
                    found.append(Violation(key, f"'{value}' is not full or [field,...]", f"{doc}#Display parameter"))
                elif value != "full" and not set(value.strip("[]").split(",")) <= fields:
                    found.append(Violation(key, f"'{value}' names a field {resource} has not", f"{doc}#Display"))
                elif not list_call:
                    found.append(Violation(key, "display is for lists only", "getting-started.md#display"))
            elif key == "limit" and _LIMIT.match(value) is None:
                found.append(Violation(key, f"'{value}' is not [offset,]limit", f"{doc}#Limit parameter"))
            elif key == "date" and value not in ("0", "1"):
                found.append(Violation(key, "date takes 1", f"{doc}#Sort parameter"))
            elif key not in _KNOWN_PARAMS and _FILTER.match(key) is None:
                found.append(Violation(key, "not a parameter of the webservice", "cheat-sheet.md"))
        return found

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        found = self._resource(call)
        if found is None or not 200 <= answer.status < 300 or "xml" not in answer.content_type or not answer.body:
            return []
        resource, _ = found
        shape = self.shapes[resource]
        document = fromstring(answer.body, forbid_dtd=True)
        children = list(document)
        if len(children) == 1 and children[0].tag == resource:  # a list
            display = call.query.get("display")
            if display is None:
                return []
            violations: list[Violation] = []
            for record in children[0]:
                body = tostring(_wrapped(record))
                violations.extend(shape.body_violations(body, complete=display == "full"))
            return violations
        return shape.body_violations(answer.body, complete=True)


def _wrapped(record: Element) -> Element:
    root = Element("prestashop")
    root.append(record)
    return root


def load_contract() -> PrestaShopContract:
    """The shapes of every resource served; raises `ReferenceMissing` when the pages are absent."""
    shapes = {resource: load_prestashop_shape(resource, element) for resource, element in RESOURCES.items()}
    tables = {resource: load_table(resource, element) for resource, element in RESOURCES.items()}
    return PrestaShopContract(shapes, tables)


# --- what tests describe ------------------------------------------------------------------------
def row(
    reference: str,
    quantity: int,
    unit_price_tax_incl: Decimal | str,
    *,
    name: str = "",
    rate: Decimal | str = "21",
    product_id: int = 0,
    attribute_id: int = 0,
    ean13: str = "",
) -> dict[str, Any]:
    """One order row as a test describes it: the SKU (`product_reference`), units, the unit price with VAT."""
    return {
        "reference": reference,
        "quantity": quantity,
        "price": Decimal(str(unit_price_tax_incl)),
        "name": name or reference,
        "rate": Decimal(str(rate)),
        "product_id": product_id,
        "attribute_id": attribute_id,
        "ean13": ean13,
    }


def record(element: str, fields: Mapping[str, Any]) -> Element:
    """A resource's element from plain values; a mapping value is a multilingual field by language id."""
    node = Element(element)
    for name, value in fields.items():
        child = SubElement(node, name)
        if isinstance(value, Mapping):
            for language, text in value.items():
                SubElement(child, "language", id=str(language)).text = str(text)
        elif value is not None:
            child.text = str(value)
    return node


def text(node: Element, field: str, language: int = 1) -> str:
    found = node.find(field)
    if found is None:
        return ""
    languages = found.findall("language")
    if languages:
        return next(((entry.text or "") for entry in languages if entry.get("id") == str(language)), "")
    return (found.text or "").strip()


class PrestaShopSimulator(ShopClock, ShopThrottle, ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One PrestaShop 8 shop, through its webservice."""

    system = "PrestaShop simulator"
    routes = (
        route("GET", r"/api/(?P<resource>[a-z_]+)/?", "list", "_list"),
        route("GET", r"/api/(?P<resource>[a-z_]+)/(?P<rid>\d+)/?", "get", "_get"),
        route("POST", r"/api/(?P<resource>[a-z_]+)/?", "create", "_create"),
        route("PUT", r"/api/(?P<resource>[a-z_]+)/(?P<rid>\d+)/?", "update", "_update"),
        route("PUT", r"/api/(?P<resource>[a-z_]+)/?", "update", "_update"),
    )

    def __init__(
        self,
        *,
        contract: PrestaShopContract | None,
        keys: Mapping[str, Mapping[str, Iterable[str]] | None] | None = None,
        time_zone: str = "Europe/Amsterdam",
        languages: Sequence[int] = (1, 2),
        put_blocked: bool = False,
        limit_per_second: int | None = None,
        now: datetime | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`keys`: ws key -> {resource: methods} (None: every right); `contract`: `load_contract()`, or None."""
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.contract = contract
        self.permissions = (
            {key: (None if rights is None else {r: set(m) for r, m in rights.items()}) for key, rights in keys.items()}
            if keys is not None
            else {DEMO_WS_KEY: None}
        )
        self.zone = ZoneInfo(time_zone)
        self.languages = tuple(languages)
        self.put_blocked = put_blocked
        self.setup_throttle(limit_per_second)
        self.start_clock(now)
        self.data: dict[str, dict[int, Element]] = {resource: {} for resource in RESOURCES}
        self.refusals: dict[tuple[str, int], str] = {}
        self._ids = {resource: count(1) for resource in RESOURCES}
        self._references = count(1)
        self._row_ids = count(1)
        self._seed()

    # --- the shop's clock ----------------------------------------------------------------------
    def now(self) -> str:
        """The shop's clock as PrestaShop stores it: shop-local time, no zone."""
        return self._now.astimezone(self.zone).strftime(TIME_FORMAT)

    # --- state API for tests and the demo ------------------------------------------------------
    def _seed(self) -> None:
        for state, (name, paid, shipped) in ORDER_STATES.items():
            self._put(
                "order_states",
                state,
                {
                    "paid": int(paid),
                    "shipped": int(shipped),
                    "delivery": int(shipped),
                    "logable": int(paid),
                    "name": self._languages(name),
                },
            )
        for country, (iso, name) in COUNTRIES.items():
            self._put(
                "countries",
                country,
                {
                    "id_zone": 1,
                    "iso_code": iso,
                    "active": 1,
                    "contains_states": 0,
                    "need_identification_number": 0,
                    "display_tax_label": 1,
                    "name": self._languages(name),
                },
            )
        self._put("currencies", 1, {"name": "Euro", "iso_code": "EUR", "conversion_rate": "1.000000"})
        self._put("currencies", 2, {"name": "US Dollar", "iso_code": "USD", "conversion_rate": "1.080000"})
        for group, rate in TAX_GROUPS.items():
            self._put("taxes", group, {"rate": f"{rate:.3f}", "active": 1, "deleted": 0, "name": f"BTW NL {rate}%"})
            self._put(
                "tax_rules", group, {"id_tax_rules_group": group, "id_country": 13, "id_tax": group, "behavior": 0}
            )

    def _languages(self, value: str) -> dict[int, str]:
        return dict.fromkeys(self.languages, value)

    def _put(self, resource: str, rid: int, fields: Mapping[str, Any]) -> Element:
        node = record(RESOURCES[resource], {"id": rid, **fields})
        self.data[resource][rid] = node
        counter = self._ids[resource]
        while True:  # the next new id comes after the seeded ones
            peeked = next(counter)
            if peeked >= rid:
                break
        return node

    def _new(self, resource: str, fields: Mapping[str, Any]) -> Element:
        rid = next(self._ids[resource])
        node = record(RESOURCES[resource], {"id": rid, **fields})
        self.data[resource][rid] = node
        return node

    def add_customer(self, email: str = "jan@example.nl", firstname: str = "Jan", lastname: str = "Jansen") -> int:
        with self._lock:
            return int(
                self._new(
                    "customers",
                    {
                        "id_default_group": 3,
                        "id_lang": 1,
                        "passwd": "$2y$10$koppelsimulatorhashedpassword000000000000000000000",
                        "lastname": lastname,
                        "firstname": firstname,
                        "email": email,
                        "active": 1,
                        "is_guest": 0,
                        "id_shop": 1,
                        "id_shop_group": 1,
                        "date_add": self.now(),
                        "date_upd": self.now(),
                    },
                ).findtext("id")
                or 0
            )

    def add_address(
        self,
        customer_id: int,
        *,
        address1: str = "Kerkstraat 12",
        address2: str = "",
        postcode: str = "1234 AB",
        city: str = "Utrecht",
        country_id: int = 13,
        firstname: str = "Jan",
        lastname: str = "Jansen",
        company: str = "",
        phone: str = "0612345678",
    ) -> int:
        with self._lock:
            node = self._new(
                "addresses",
                {
                    "id_customer": customer_id,
                    "id_country": country_id,
                    "alias": "Mijn adres",
                    "company": company,
                    "lastname": lastname,
                    "firstname": firstname,
                    "address1": address1,
                    "address2": address2,
                    "postcode": postcode,
                    "city": city,
                    "phone": phone,
                    "deleted": 0,
                    "date_add": self.now(),
                    "date_upd": self.now(),
                },
            )
            return int(node.findtext("id") or 0)

    def add_product(
        self,
        reference: str,
        name: str = "",
        *,
        price: Decimal | str = "8.256198",
        ean13: str = "",
        tax_group: int = 1,
        quantity: int | None = None,
        weight: Decimal | str = "0.000000",
    ) -> int:
        """A simple product; `price` without tax, as PrestaShop keeps it. It holds `quantity` units (None: 0)."""
        with self._lock:
            node = self._new("products", self._product_fields(reference, name or reference, price, ean13, tax_group))
            node.find("weight").text = str(weight)  # type: ignore[union-attr]
            product_id = int(node.findtext("id") or 0)
            self._stock_row(product_id, 0, quantity or 0)
            return product_id

    def _product_fields(self, reference: str, name: str, price: Any, ean13: str, tax_group: int) -> dict[str, Any]:
        return {
            "id_manufacturer": 0,
            "id_supplier": 0,
            "id_category_default": 2,
            "new": "",
            "cache_default_attribute": 0,
            "id_default_image": "",
            "id_default_combination": 0,
            "id_tax_rules_group": tax_group,
            "position_in_category": 0,
            "manufacturer_name": "",
            "quantity": 0,
            "type": "simple",
            "id_shop_default": 1,
            "reference": reference,
            "supplier_reference": "",
            "ean13": ean13,
            "weight": "0.000000",
            "price": str(price),
            "active": 1,
            "state": 1,
            "minimal_quantity": 1,
            "available_for_order": 1,
            "show_price": 1,
            "visibility": "both",
            "date_add": self.now(),
            "date_upd": self.now(),
            "link_rewrite": self._languages(slug(name)),
            "name": self._languages(name),
        }

    def add_combination(self, product_id: int, reference: str, *, quantity: int = 0, ean13: str = "") -> int:
        """A combination (a size, a colour) of a product, with stock of its own."""
        with self._lock:
            node = self._new(
                "combinations",
                {
                    "id_product": product_id,
                    "reference": reference,
                    "ean13": ean13,
                    "quantity": quantity,
                    "price": "0.000000",
                    "minimal_quantity": 1,
                    "default_on": "",
                },
            )
            attribute_id = int(node.findtext("id") or 0)
            self._stock_row(product_id, attribute_id, quantity)
            return attribute_id

    def _stock_row(self, product_id: int, attribute_id: int, quantity: int) -> None:
        self._new(
            "stock_availables",
            {
                "id_product": product_id,
                "id_product_attribute": attribute_id,
                "id_shop": 1,
                "id_shop_group": 0,
                "quantity": quantity,
                "depends_on_stock": 0,
                "out_of_stock": 2,
                "location": "",
            },
        )

    def products_with(self, reference: str) -> list[Element]:
        return [node for node in self.data["products"].values() if text(node, "reference") == reference]

    def product(self, reference: str) -> Element | None:
        found = self.products_with(reference)
        return found[0] if found else None

    def remove_product(self, reference: str) -> None:
        with self._lock:
            for node in self.products_with(reference):
                product_id = int(node.findtext("id") or 0)
                del self.data["products"][product_id]
                for rid, stock in list(self.data["stock_availables"].items()):
                    if text(stock, "id_product") == str(product_id):
                        del self.data["stock_availables"][rid]

    def stock_row(self, reference: str) -> Element | None:
        """The stock row of a product's or a combination's reference."""
        product_id, attribute_id = None, 0
        combination = next((n for n in self.data["combinations"].values() if text(n, "reference") == reference), None)
        if combination is not None:
            product_id, attribute_id = int(text(combination, "id_product")), int(text(combination, "id"))
        elif (product := self.product(reference)) is not None:
            product_id = int(text(product, "id"))
        if product_id is None:
            return None
        return next(
            (
                node
                for node in self.data["stock_availables"].values()
                if text(node, "id_product") == str(product_id)
                and text(node, "id_product_attribute") == str(attribute_id)
            ),
            None,
        )

    def quantity(self, reference: str) -> int | None:
        found = self.stock_row(reference)
        return int(text(found, "quantity")) if found is not None else None

    def refuse_next_write(self, resource: str, rid: int, message: str) -> None:
        """The next PUT of this record is refused 400 with PrestaShop's error body and `message`."""
        self.refusals[(resource, rid)] = message

    def add_order(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        state: int = 2,
        shipping_tax_incl: Decimal | str = "4.95",
        discounts_tax_incl: Decimal | str = "0",
        payment: str = "Bank transfer",
        module: str = "ps_wirepayment",
        email: str = "jan@example.nl",
        currency_id: int = 1,
        delivery: Mapping[str, Any] | None = None,
        invoice: Mapping[str, Any] | None = None,
    ) -> Element:
        """An order placed now on the shop's clock, in `state` (2: payment accepted)."""
        with self._lock:
            customer = self.add_customer(email)
            delivery_id = self.add_address(customer, **(delivery or {}))
            invoice_id = self.add_address(customer, **(invoice or delivery or {}))
            order_rows = Element("order_rows")
            products_incl, products_excl = Decimal(0), Decimal(0)
            for given in rows:
                incl = given["price"]
                excl = (incl / (1 + given["rate"] / 100)).quantize(Decimal("0.000001"), ROUND_HALF_UP)
                products_incl += incl * given["quantity"]
                products_excl += excl * given["quantity"]
                entry = SubElement(order_rows, "order_row")
                for name, value in (
                    ("id", next(self._row_ids)),
                    ("product_id", given["product_id"]),
                    ("product_attribute_id", given["attribute_id"]),
                    ("product_quantity", given["quantity"]),
                    ("product_name", given["name"]),
                    ("product_reference", given["reference"]),
                    ("product_ean13", given["ean13"]),
                    ("product_price", excl),
                    ("unit_price_tax_incl", f"{incl:.6f}"),
                    ("unit_price_tax_excl", excl),
                ):
                    SubElement(entry, name).text = str(value)
            shipping = Decimal(str(shipping_tax_incl))
            discounts = Decimal(str(discounts_tax_incl))
            paid = (products_incl + shipping - discounts).quantize(CENT)
            reference = self._reference()
            node = self._new(
                "orders",
                {
                    "id_address_delivery": delivery_id,
                    "id_address_invoice": invoice_id,
                    "id_cart": next(self._references) + 100,
                    "id_currency": currency_id,
                    "id_lang": 1,
                    "id_customer": customer,
                    "id_carrier": 2,
                    "current_state": state,
                    "module": module,
                    "valid": int(ORDER_STATES.get(state, ("", False, False))[1]),
                    "date_add": self.now(),
                    "date_upd": self.now(),
                    "id_shop_group": 1,
                    "id_shop": 1,
                    "payment": payment,
                    "total_discounts": f"{discounts:.6f}",
                    "total_discounts_tax_incl": f"{discounts:.6f}",
                    "total_discounts_tax_excl": f"{(discounts / Decimal('1.21')):.6f}",
                    "total_paid": f"{paid:.6f}",
                    "total_paid_tax_incl": f"{paid:.6f}",
                    "total_paid_tax_excl": f"{(paid / Decimal('1.21')):.6f}",
                    "total_paid_real": "0.000000",
                    "total_products": f"{products_excl:.6f}",
                    "total_products_wt": f"{products_incl:.6f}",
                    "total_shipping": f"{shipping:.6f}",
                    "total_shipping_tax_incl": f"{shipping:.6f}",
                    "total_shipping_tax_excl": f"{(shipping / Decimal('1.21')):.6f}",
                    "carrier_tax_rate": "21.000",
                    "round_mode": 2,
                    "round_type": 2,
                    "conversion_rate": "1.000000",
                    "reference": reference,
                },
            )
            associations = SubElement(node, "associations")
            associations.append(order_rows)
            return node

    def _reference(self) -> str:
        number = next(self._references)
        letters = ""
        for _ in range(9):
            number, digit = divmod(number, 26)
            letters = chr(ord("A") + digit) + letters
        return letters

    def order(self, reference: str) -> Element:
        return next(node for node in self.data["orders"].values() if text(node, "reference") == reference)

    def set_state(self, reference: str, state: int) -> None:
        """The merchant moves the order to another state in the back office: `date_upd` becomes now."""
        with self._lock:
            node = self.order(reference)
            node.find("current_state").text = str(state)  # type: ignore[union-attr]
            node.find("date_upd").text = self.now()  # type: ignore[union-attr]

    # --- the kit's hooks, in PrestaShop's words ------------------------------------------------
    def match(self, request: Request) -> tuple[Route | None, dict[str, str]]:
        method = request.method
        if method == "POST" and request.args.get("ps_method", "").upper() in ("PUT", "PATCH", "DELETE", "GET"):
            method = request.args["ps_method"].upper()
        for candidate in self.routes:
            matched = candidate.pattern.fullmatch(request.path)
            if matched is not None and method == candidate.method:
                return replace(candidate, group=f"{candidate.group}:{matched['resource']}"), matched.groupdict()
        return None, {}

    def contract_for(self, request: Request) -> tuple[Any, str]:
        return self.contract, request.path

    def authenticate(self, request: Request) -> Response | None:
        auth = request.authorization
        key = (auth.username or "") if auth is not None and auth.type == "basic" else request.args.get("ws_key", "")
        if not key:
            return ps_error(401, 17, "Authentication key is empty", headers={"WWW-Authenticate": 'Basic realm="ws"'})
        if key not in self.permissions:
            return ps_error(
                401, 18, "Authentication key does not exist", headers={"WWW-Authenticate": 'Basic realm="ws"'}
            )
        rights = self.permissions[key]
        found = _PATH.match(request.path)
        if rights is None or found is None:
            return None
        method = request.method
        if method == "POST" and request.args.get("ps_method"):
            method = request.args["ps_method"].upper()
        if method not in rights.get(found["resource"], set()):
            return ps_error(401, 26, f"No permission for this authentication key: {method} {found['resource']}")
        return None

    def too_many(self, headers: Mapping[str, str]) -> Response:
        return Response("Too Many Requests", 429, headers=headers, content_type="text/html")

    def shop_error(self, status: int, words: str) -> Response:
        return ps_error(status, 0, words)

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        return ps_errors(400, [(0, f"{v.name}: {v.reason}") for v in error.violations])

    def not_served(self, request: Request) -> Response:
        return ps_error(400, 22, f'Resource of type "{request.path.split("/")[-1]}" does not exists')

    def checked_answer(self, request: Request, found: Route | None, params: dict[str, str]) -> Response:
        if self.put_blocked and request.method == "PUT":
            # The host's firewall, before PrestaShop: no XML, the request never reaches the shop.
            return Response("<html><body>405 Method Not Allowed</body></html>", 405, content_type="text/html")
        return super().checked_answer(request, found, params)

    # --- endpoints ------------------------------------------------------------------------------
    def _list(self, request: Request, resource: str) -> Response:
        if resource not in RESOURCES:
            return self.not_served(request)
        rows = list(self.data[resource].values())
        for key, value in request.args.items():
            matched = _FILTER.match(key)
            if matched is not None:
                rows = [node for node in rows if filter_matches(text(node, matched["field"]), value)]
        sort = request.args.get("sort")
        if sort:
            for part in reversed(sort.strip("[]").split(",")):
                field, direction = part.rsplit("_", 1)
                rows.sort(key=lambda node, field=field: sort_key(text(node, field)), reverse=direction == "DESC")
        else:
            rows.sort(key=lambda node: int(text(node, "id")))
        limit = request.args.get("limit")
        if limit:
            offset, _, size = limit.partition(",")
            start, number = (int(offset), int(size)) if size else (0, int(offset))
            rows = rows[start : start + number]
        display = request.args.get("display")
        root = Element("prestashop")
        listed = SubElement(root, resource)
        for node in rows:
            if display == "full":
                listed.append(copy.deepcopy(node))
            elif display:
                wanted = display.strip("[]").split(",")
                shown = SubElement(listed, RESOURCES[resource])
                for field in wanted:
                    found = node.find(field)
                    if found is not None:
                        shown.append(copy.deepcopy(found))
            else:
                SubElement(listed, RESOURCES[resource], id=text(node, "id"))
        return xml_answer(200, root)

    def _get(self, request: Request, resource: str, rid: str) -> Response:
        node = self.data.get(resource, {}).get(int(rid))
        if node is None:
            return ps_error(404, 87, f"The {RESOURCES.get(resource, resource)} with id {rid} does not exist")
        return xml_answer(200, _wrapped(copy.deepcopy(node)))

    def _create(self, request: Request, resource: str) -> Response:
        given = fromstring(request.get_data(), forbid_dtd=True)[0]
        if resource == "products" and not text(given, "link_rewrite", 1):
            return ps_error(400, 85, 'Validation error: "link_rewrite" is empty for the default language')
        rid = next(self._ids[resource])
        node = copy.deepcopy(given)
        _set(node, "id", str(rid))
        for field in ("date_add", "date_upd"):
            if resource in ("products", "orders", "customers", "addresses"):
                _set(node, field, self.now())
        if resource == "products":
            for field, value in (("manufacturer_name", ""), ("quantity", "0")):
                _set(node, field, value)
        self.data[resource][rid] = node
        if resource == "products":
            self._stock_row(rid, 0, 0)
        return xml_answer(201, _wrapped(copy.deepcopy(node)))

    def _update(self, request: Request, resource: str, rid: str | None = None) -> Response:
        given = fromstring(request.get_data(), forbid_dtd=True)[0]
        body_id = text(given, "id")
        if rid is not None and body_id and body_id != rid:
            return ps_error(400, 89, f"The id in the body ({body_id}) is not the id in the address ({rid})")
        number = int(rid or body_id or 0)
        held = self.data.get(resource, {}).get(number)
        if held is None:
            return ps_error(404, 87, f"The {RESOURCES.get(resource, resource)} with id {number} does not exist")
        refused = self.refusals.pop((resource, number), None)
        if refused is not None:
            return ps_error(400, 85, refused)
        node = copy.deepcopy(given)
        _set(node, "id", str(number))
        if self.contract is not None:
            for field in self.contract.tables[resource].read_only:  # kept as the shop has them
                kept = held.find(field)
                if kept is not None:
                    node.append(copy.deepcopy(kept))
        if held.find("date_add") is not None:
            _set(node, "date_add", text(held, "date_add"))
        if held.find("date_upd") is not None:
            _set(node, "date_upd", self.now())
        if held.find("associations") is not None and node.find("associations") is None:
            node.append(copy.deepcopy(held.find("associations")))  # type: ignore[arg-type]
        self.data[resource][number] = node
        return xml_answer(200, _wrapped(copy.deepcopy(node)))


def _set(node: Element, field: str, value: str) -> None:
    found = node.find(field)
    if found is None:
        found = SubElement(node, field)
    found.text = value


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "product"


def filter_matches(value: str, condition: str) -> bool:
    """One `filter[field]` value as the list-parameter tutorial describes it."""
    negate = condition.startswith("!")
    if negate:
        condition = condition[1:]
    if condition.startswith(">[") or condition.startswith("<["):
        other = condition[2:].rstrip("]")
        left, right = sort_key(value), sort_key(other)
        return left > right if condition[0] == ">" else left < right
    if condition.startswith("%[") or condition.endswith("]%"):
        inner = condition.strip("%").strip("[]").casefold()
        folded = value.casefold()
        if condition.startswith("%[") and condition.endswith("]%"):
            found = inner in folded
        elif condition.startswith("%["):
            found = folded.endswith(inner)
        else:
            found = folded.startswith(inner)
        return found != negate
    if condition.startswith("[") and condition.endswith("]"):
        inner = condition[1:-1]
        if "," in inner and "|" not in inner:
            low, high = inner.split(",", 1)
            found = sort_key(low) <= sort_key(value) < sort_key(high)
        else:
            found = value.casefold() in {part.casefold() for part in inner.split("|")}
        return found != negate
    return (value.casefold() == condition.casefold()) != negate


def sort_key(value: str) -> tuple[int, Any]:
    try:
        return (1, Decimal(value))
    except ArithmeticError:
        return (2, value.casefold())


def xml_answer(status: int, root: Element, *, headers: Mapping[str, str] | None = None) -> Response:
    body = tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status, content_type="text/xml;charset=utf-8", headers=dict(headers or {}))


def ps_errors(status: int, errors: Sequence[tuple[int, str]], *, headers: Mapping[str, str] | None = None) -> Response:
    root = Element("prestashop")
    listed = SubElement(root, "errors")
    for code, message in errors:
        entry = SubElement(listed, "error")
        SubElement(entry, "code").text = str(code)
        SubElement(entry, "message").text = message
    return xml_answer(status, root, headers=headers)


def ps_error(status: int, code: int, message: str, *, headers: Mapping[str, str] | None = None) -> Response:
    return ps_errors(status, [(code, message)], headers=headers)


def parse_body(body: bytes) -> Element | None:
    try:
        return fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException):
        return None
