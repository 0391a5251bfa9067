"""XML bodies checked against a documented resource shape, where the system publishes no XSD.

PrestaShop's webservice documents each resource as a field table (name, format, required, max
size) and a blank schema; `load_prestashop_shape` builds the shape from those pages at run time,
and a simulator may equally hand over its own field list. Bodies are parsed with defusedxml, so an
entity bomb or an external entity is refused rather than expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from koppel_local.reference import reference_file
from koppel_local.simulators.kit.contract import Answer, Call, CheckingContract, ReferenceMissing, Violation

# PrestaShop's Validate::is* rules for the formats its resources use most; a format not listed
# here is checked for size only.
_UNSIGNED = r"\d+"
FORMATS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "isUnsignedId": _UNSIGNED,
        "isNullOrUnsignedId": _UNSIGNED,
        "isUnsignedInt": _UNSIGNED,
        "isInt": r"[+-]?\d+",
        "isBool": r"[01]|true|false",
        "isPrice": r"\d{1,10}(\.\d{1,9})?",
        "isNegativePrice": r"[+-]?\d{1,10}(\.\d{1,9})?",
        "isFloat": r"[+-]?\d+(\.\d+)?",
        "isUnsignedFloat": r"\d+(\.\d+)?",
        "isDate": r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?",
        "isDateFormat": r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?",
        "isEan13": r"\d{0,13}",
        "isUpc": r"\d{0,12}",
        "isEmail": r"[^@\s]+@[^@\s]+\.[^@\s]+",
        "isGenericName": r"[^<>={}]*",
        "isCatalogName": r"[^<>;=#{}]*",
        "isName": r"[^0-9!<>,;?=+()@#\"°{}_$%:]*",
        "isReference": r"[^<>;={}]*",
        "isTrackingNumber": r"[~:#,%&_=\(\)\.\? \+\-@\/a-zA-Z0-9]*",
        "isColor": r"(#[0-9a-fA-F]{6}|[a-zA-Z]*)",
    }.items()
}


@dataclass(frozen=True)
class XmlField:
    name: str
    format: str = ""
    required: bool = False
    max_size: int | None = None


class XmlShape(CheckingContract):
    """One resource's XML: `<root><element>fields…</element></root>`, each field by its rule."""

    def __init__(
        self,
        element: str,
        fields: Sequence[XmlField],
        source: str,
        *,
        root: str = "prestashop",
        also_allowed: Iterable[str] = ("id", "associations"),
    ) -> None:
        self.element = element
        self.fields = {field.name: field for field in fields}
        self.source = source
        self.root = root
        self.allowed = set(self.fields) | set(also_allowed)

    def body_violations(self, body: bytes, *, complete: bool = True) -> list[Violation]:
        """What is wrong with an XML body; `complete`: a create or a full update, so required fields must be there."""
        try:
            document = fromstring(body, forbid_dtd=True)
        except (ParseError, DefusedXmlException) as exc:
            return [Violation("body", f"not safe, well-formed XML: {exc}", self.element)]
        if document.tag != self.root:
            return [Violation("body", f"the root element is <{document.tag}>, not <{self.root}>", self.element)]
        children = list(document)
        if len(children) != 1 or children[0].tag != self.element:
            tags = ", ".join(f"<{child.tag}>" for child in children) or "nothing"
            return [Violation("body", f"<{self.root}> holds {tags}, not one <{self.element}>", self.element)]
        return self._record_violations(children[0], complete=complete)

    def _record_violations(self, record: Element, *, complete: bool) -> list[Violation]:
        found: list[Violation] = []
        given = {child.tag: child for child in record}
        for tag in given:
            if tag not in self.allowed:
                found.append(Violation(f"{self.element}.{tag}", "not a field of this resource", self.element))
        for field in self.fields.values():
            where = f"{self.element}.{field.name}"
            node = given.get(field.name)
            values = _values(node) if node is not None else []
            if not any(values):
                if complete and field.required:
                    found.append(Violation(where, "required field is missing or empty", f"{self.element}/{field.name}"))
                continue
            found.extend(self._value_violations(field, where, values))
        return found

    def _value_violations(self, field: XmlField, where: str, values: list[str]) -> list[Violation]:
        found = []
        rule = FORMATS.get(field.format)
        for value in values:
            if not value:
                continue
            if rule is not None and not rule.fullmatch(value):
                found.append(Violation(where, f"'{value}' is not {field.format}", f"{self.element}/{field.name}"))
            if field.max_size is not None and len(value) > field.max_size:
                reason = f"longer than {field.max_size} characters"
                found.append(Violation(where, reason, f"{self.element}/{field.name}"))
        return found

    # --- the common contract interface --------------------------------------------------------
    def request_violations(self, call: Call) -> list[Violation]:
        if call.method not in ("POST", "PUT", "PATCH"):
            return []
        return self.body_violations(call.body, complete=call.method != "PATCH")

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        if not 200 <= answer.status < 300 or not answer.body or "xml" not in answer.content_type:
            return []
        return self.body_violations(answer.body, complete=True)


def _values(node: Element) -> list[str]:
    """A field's text; a multilingual field's text per `<language>`."""
    languages = node.findall("language")
    if languages:
        return [(language.text or "").strip() for language in languages]
    return [(node.text or "").strip()]


_ROW = re.compile(r"^\|\s*\*\*(?P<name>[^*]+)\*\*\s*\|(?P<rest>.*)$")
_BLANK_TAG = re.compile(r"^\s{4}<(?P<tag>[a-z_0-9]+)[\s>/]")


def parse_field_table(text: str, heading: str) -> tuple[list[XmlField], set[str]]:
    """The fields under `### heading` of a PrestaShop resource page, and the tags of its blank schema."""
    sections = text.split("### ")
    titles = [section.split("\n", 1)[0].strip() for section in sections]
    if heading not in titles:
        return [], set()
    at = titles.index(heading)
    # The field table, and the blank schema that follows it.
    lines = [line for section in sections[at : at + 2] for line in section.splitlines()]
    header = next((line for line in lines if line.startswith("|") and "Name" in line), "")
    columns = [column.strip().lower() for column in header.strip("|").split("|")]
    fields = []
    for line in lines:
        row = _ROW.match(line)
        if row is None:
            continue
        cells = [cell.strip() for cell in ("**" + row["name"] + "**|" + row["rest"]).strip("|").split("|")]
        cell = dict(zip(columns, cells, strict=False))
        size = cell.get("max size", "")
        fields.append(
            XmlField(
                name=row["name"].replace("\\", "").strip(),
                format=cell.get("format", ""),
                required="✔" in cell.get("required", ""),
                max_size=int(size) if size.isdigit() else None,
            )
        )
    blank = {match["tag"] for line in lines if (match := _BLANK_TAG.match(line))}
    return fields, blank


def load_prestashop_shape(resource: str, element: str, heading: str | None = None) -> XmlShape:
    """The shape of `<element>` from `resources/<resource>.md`; `ReferenceMissing` without the docs."""
    parts = ("prestashop", "webservice-docs-8.x", "resources", f"{resource}.md")
    path = reference_file(*parts)
    if path is None:
        raise ReferenceMissing(*parts)
    fields, blank = parse_field_table(path.read_text(encoding="utf-8"), heading or element.capitalize())
    if not fields:
        raise ReferenceMissing(*parts)  # the page is there but documents no such resource
    return XmlShape(element, fields, "/".join(parts), also_allowed=blank | {"id", "associations"})
