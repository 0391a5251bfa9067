"""What the InnVoice simulator takes as InnVoice's contract: a field list, since InnVoice publishes no spec.

Built from the public facts koppel keeps on InnVoice (`FACTS-systems-2.md` §1.3 and §2.1: a third-party
client, its README and tests, and two apps reading the product list), not from a specification.
Everything here is **unverified** against the real API. In particular:

- which header fields are required (here: the buyer's name, the pad, the three dates, the currency
  and the payment method) and which line fields (name, VAT key, unit price, quantity);
- the three line forms: one unsuffixed line (`TetelNev`, ...), lines numbered `1..N` (`TetelNev1`, ...;
  a first unsuffixed line followed by `TetelNev2`... is taken as well, as one test of that client
  writes it) and nested `<tetel>` blocks. The real API may take only one of them;
- four fields koppel needs that the facts do not name, accepted here under names of koppel's
  choosing: the buyer's e-mail (`VevoEmail`), sending the document to it (`EmailKuldes`), a comment
  (`Megjegyzes`) and a line's article number (`CikkSzam`, the product list's name for the SKU);
- the answer shapes beyond the ones the facts show (the read of one document, the pad list's names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from koppel_local.simulators.kit.contract import Answer, Call, CheckingContract, Violation, media_type

SOURCE = "FACTS-systems-2.md#2.1"

DATE = re.compile(r"\d{4}\.\d{2}\.\d{2}\.")
FLAG = re.compile(r"[01]")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
ID = re.compile(r"\d+")
COUNTRY = re.compile(r"[A-Z]{2}")
ANY = re.compile(r".*", re.DOTALL)

VAT_KEYS = frozenset(
    {"27%", "18%", "5%"}
    | {
        f"0% - {code}"
        for code in (
            "AAM",
            "TAM",
            "KBA",
            "KBAUK",
            "EAM",
            "NAM",
            "ÁTK",
            "EUFAD37",
            "EUFADE",
            "EUE",
            "HO",
            "FOA",
            "K.AFA",
            "AFAMENTES",
            "NONREFUNDABLE_VAT",
            "REFUNDABLE_VAT",
        )
    }
)


@dataclass(frozen=True)
class Field:
    name: str
    rule: re.Pattern[str] = ANY
    required: bool = False
    choices: frozenset[str] = frozenset()


HEADER = {
    field.name: field
    for field in (
        Field("VevoNev", required=True),
        Field("VevoIrsz"),
        Field("VevoOrszag", COUNTRY),
        Field("VevoTelep"),
        Field("VevoUtcaHsz"),
        Field("VevoAdoszam"),
        Field("VevoCim"),
        Field("SzamlatombID", ID, required=True),
        Field("SzamlaKelte", DATE, required=True),
        Field("TeljesitesKelte", DATE, required=True),
        Field("Hatarido", DATE, required=True),
        Field("Devizanem", required=True),
        Field("FizetesiMod", required=True),
        Field("Fizetve", FLAG),
        Field("Eszamla", FLAG),
        Field("Felretett", FLAG),
        Field("Proforma", FLAG),
        # koppel's additions, not in the facts (unverified names)
        Field("VevoEmail"),
        Field("EmailKuldes", FLAG),
        Field("Megjegyzes"),
    )
}
LINE = {
    field.name: field
    for field in (
        Field("TetelNev", required=True),
        Field("AfaSzoveg", required=True, choices=VAT_KEYS),
        Field("Brutto", FLAG),
        Field("EgysegAr", NUMBER, required=True),
        Field("Mennyiseg", NUMBER, required=True),
        Field("MennyisegEgyseg"),
        Field("CikkSzam"),  # koppel's addition (unverified)
    )
}
SUFFIXED = re.compile(rf"(?P<name>{'|'.join(LINE)})(?P<number>\d+)")
CONVERSION = {"TABLE_ID": Field("TABLE_ID", ID, required=True)} | {
    name: Field(name, DATE, required=True) for name in ("SzamlaKelte", "TeljesitesKelte", "Hatarido")
}

# The answers' children, by root: which each must hold and which it may.
ANSWERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "invoice": (frozenset({"techid", "Sorszam", "PrintUrl", "TABLE_ID"}), frozenset({"SorszamFormatted", "Proforma"})),
    "proforma_invoice": (frozenset({"techid", "PrintUrl", "TABLE_ID"}), frozenset()),
}


# The product list as the two apps read it: what each element may hold.
PRODUCT_LIST = {
    # TermekCsoport (the product group) is koppel's guess at a field name: no source shows one.
    "product": frozenset({"Nev", "CikkSzam", "EAN", "TermekCsoport", "Arak", "Keszletek"}),
    "Arak": frozenset({"Arcsoport_Ar", "Arcsoport_Brutto"}),
    "Keszletek": frozenset({"Keszlet"}),
    "Keszlet": frozenset({"Raktar_Keszlet"}),
}


def product_list_violations(document: Element) -> list[Violation]:
    found = []
    for number, product in enumerate(document, 1):
        where = f"response.product[{number}]"
        if product.tag != "product":
            found.append(Violation(where, f"<{product.tag}> in the product list", "products"))
            continue
        for node in product.iter():
            allowed = PRODUCT_LIST.get(node.tag, frozenset())
            found.extend(
                Violation(f"{where}.{child.tag}", f"not a field of <{node.tag}>", "products")
                for child in node
                if child.tag not in allowed
            )
        for price in product.findall("Arak"):
            if text(price.find("Arcsoport_Ar")) and not NUMBER.fullmatch(text(price.find("Arcsoport_Ar"))):
                found.append(Violation(f"{where}.Arak", "a price that is not a number", "products"))
    return found


def parse(body: bytes) -> Element:
    """The document, parsed safely (no DTD, no entities); ValueError when it is not safe, well-formed XML."""
    try:
        return fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise ValueError(f"not safe, well-formed XML: {exc}") from exc


def text(node: Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def invoice_lines(invoice: Element) -> tuple[list[dict[str, str]], list[Violation]]:
    """The invoice's lines (field name -> value) in whichever documented form they came, and what is
    wrong with the form."""
    nested = invoice.findall("tetel")
    flat: dict[int, dict[str, str]] = {}
    unsuffixed: dict[str, str] = {}
    found: list[Violation] = []
    for child in invoice:
        if child.tag in LINE:
            unsuffixed[child.tag] = text(child)
        elif (matched := SUFFIXED.fullmatch(child.tag)) is not None:
            flat.setdefault(int(matched["number"]), {})[matched["name"]] = text(child)
    if nested:
        if flat or unsuffixed:
            found.append(Violation("invoice.tetel", "<tetel> blocks and flat line fields are mixed", "lines"))
        lines = []
        for number, block in enumerate(nested, 1):
            fields = {child.tag: text(child) for child in block}
            for tag in fields:
                if tag not in LINE:
                    found.append(Violation(f"invoice.tetel[{number}].{tag}", "not a line field", "lines"))
            lines.append(fields)
        return lines, found
    if unsuffixed:
        if 1 in flat:
            found.append(Violation("invoice.TetelNev", "an unsuffixed line and a line numbered 1 both given", "lines"))
        flat[1] = unsuffixed | flat.get(1, {})
    numbers = sorted(flat)
    if numbers != list(range(1, len(numbers) + 1)):
        found.append(Violation("invoice.TetelNev", f"lines are not numbered 1..N: {numbers}", "lines"))
    return [flat[number] for number in numbers], found


def field_violations(fields: dict[str, str], rules: dict[str, Field], where: str) -> list[Violation]:
    found = []
    for rule in rules.values():
        value = fields.get(rule.name, "")
        if not value:
            if rule.required:
                found.append(Violation(f"{where}.{rule.name}", "required field is missing or empty", rule.name))
            continue
        if not rule.rule.fullmatch(value) or (rule.choices and value not in rule.choices):
            found.append(Violation(f"{where}.{rule.name}", f"{value!r} is not a valid value", rule.name))
    return found


class InnVoiceContract(CheckingContract):
    """Requests and answers of the InnVoice API as far as the facts describe them."""

    source = SOURCE

    def request_violations(self, call: Call) -> list[Violation]:
        if call.method != "POST":
            return []
        if media_type(call.headers.get("Content-Type", "")) not in ("text/xml", "application/xml"):
            return [Violation("Content-Type", "the body must be sent as text/xml", "transport")]
        try:
            document = parse(call.body)
        except ValueError as exc:
            return [Violation("body", str(exc), "transport")]
        if call.path.endswith("/proforma_invoice"):
            return self._conversion(document)
        return self._invoice(document)

    def _invoice(self, document: Element) -> list[Violation]:
        children = list(document)
        if document.tag != "invoices" or len(children) != 1 or children[0].tag != "invoice":
            return [Violation("body", "the body is not <invoices> holding one <invoice>", "invoice")]
        invoice = children[0]
        found = []
        header: dict[str, str] = {}
        for child in invoice:
            if child.tag in HEADER:
                if child.tag in header:
                    found.append(Violation(f"invoice.{child.tag}", "given twice", child.tag))
                header[child.tag] = text(child)
            elif child.tag != "tetel" and child.tag not in LINE and not SUFFIXED.fullmatch(child.tag):
                found.append(Violation(f"invoice.{child.tag}", "not a field of an invoice", "invoice"))
        found.extend(field_violations(header, HEADER, "invoice"))
        lines, wrong = invoice_lines(invoice)
        found.extend(wrong)
        if not lines:
            found.append(Violation("invoice.TetelNev", "an invoice needs at least one line", "lines"))
        for number, line in enumerate(lines, 1):
            found.extend(field_violations(line, LINE, f"invoice.line[{number}]"))
        return found

    def _conversion(self, document: Element) -> list[Violation]:
        children = list(document)
        if document.tag != "proforma_invoices" or len(children) != 1 or children[0].tag != "proforma_invoice":
            return [Violation("body", "the body is not <proforma_invoices> holding one <proforma_invoice>", "proforma")]
        fields = {child.tag: text(child) for child in children[0]}
        found = [
            Violation(f"proforma_invoice.{tag}", "not a field of a conversion", "proforma")
            for tag in fields
            if tag not in CONVERSION
        ]
        return found + field_violations(fields, CONVERSION, "proforma_invoice")

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        if not 200 <= answer.status < 300:
            return []
        if "xml" not in answer.content_type:
            return [Violation("Content-Type", "InnVoice answers XML", "transport")]
        try:
            document = parse(answer.body)
        except ValueError as exc:
            return [Violation("body", str(exc), "transport")]
        if document.tag == "tomb_invoice":
            return [
                Violation(f"tomb_invoice.invoice[{number}]", "a pad without its TABLE_ID", "pads")
                for number, pad in enumerate(document, 1)
                if pad.tag != "invoice" or not text(pad.find("TABLE_ID"))
            ]
        if document.tag == "response" and document.find("error") is None:
            return product_list_violations(document)
        if document.tag not in ANSWERS:
            return [Violation("body", f"<{document.tag}> is no answer the facts show", "answers")]
        required, optional = ANSWERS[document.tag]
        tags = [child.tag for child in document]
        missing = sorted(required - set(tags))
        extra = sorted(set(tags) - required - optional)
        found = [Violation(f"{document.tag}.{tag}", "missing from the answer", document.tag) for tag in missing]
        return found + [Violation(f"{document.tag}.{tag}", "not in a documented answer", document.tag) for tag in extra]


def load_contract() -> InnVoiceContract:
    """The field list: InnVoice has no reference file, so there is nothing to be missing."""
    return InnVoiceContract()
