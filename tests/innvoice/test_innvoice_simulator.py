"""The InnVoice simulator takes what the public facts describe and refuses the rest in InnVoice's error shape."""

from __future__ import annotations

from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, tostring

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from koppel_local.simulators.innvoice import DEMO_PASSWORD, DEMO_REG, DEMO_USER, InnVoiceContract, InnVoiceSimulator
from koppel_local.simulators.kit import Answer, Call, RateLimit

AUTH = (DEMO_USER, DEMO_PASSWORD)
HEADER = {
    "VevoNev": "Minta Kft.",
    "VevoIrsz": "1119",
    "VevoOrszag": "HU",
    "VevoTelep": "Budapest",
    "VevoUtcaHsz": "Fő u. 1.",
    "SzamlatombID": "1",
    "SzamlaKelte": "2026.12.02.",
    "TeljesitesKelte": "2026.12.02.",
    "Hatarido": "2026.12.10.",
    "Devizanem": "HUF",
    "FizetesiMod": "átutalás",
    "Fizetve": "0",
    "Eszamla": "1",
    "Felretett": "0",
    "Proforma": "0",
}
SHIRT = {"TetelNev": "Póló L", "AfaSzoveg": "27%", "Brutto": "1", "EgysegAr": "6350", "Mennyiseg": "2"}
POSTAGE = {"TetelNev": "Szállítás", "AfaSzoveg": "27%", "Brutto": "1", "EgysegAr": "1990", "Mennyiseg": "1"}


def invoice_xml(header: dict[str, str], flat: dict[str, str] | None = None, nested: list[dict[str, str]] = ()) -> bytes:
    root = Element("invoices")
    invoice = SubElement(root, "invoice")
    for name, value in {**header, **(flat or {})}.items():
        SubElement(invoice, name).text = value
    for block in nested:
        tetel = SubElement(invoice, "tetel")
        for name, value in block.items():
            SubElement(tetel, name).text = value
    return tostring(root, encoding="utf-8")


def numbered(*lines: dict[str, str], first: int = 1) -> dict[str, str]:
    return {f"{name}{number}": value for number, line in enumerate(lines, first) for name, value in line.items()}


@pytest.fixture
def sim() -> InnVoiceSimulator:
    shop = InnVoiceSimulator()
    shop.add_pad("Webshop")
    shop.add_product("POLO-L", "Póló L", prices=[(Decimal(6350), True)], stock={1: 10})
    return shop


@pytest.fixture
def http(sim: InnVoiceSimulator) -> httpx.Client:
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url=f"https://innvoice.test/{DEMO_REG}") as client:
        yield client


def post(http: httpx.Client, body: bytes, *, auth: tuple[str, str] = AUTH) -> httpx.Response:
    return http.post("/invoice", content=body, headers={"Content-Type": "text/xml"}, auth=auth)


@pytest.mark.parametrize(
    ("flat", "nested"),
    [
        (SHIRT, []),  # one unsuffixed line
        (numbered(SHIRT, POSTAGE), []),  # TetelNev1..N
        (SHIRT | numbered(POSTAGE, first=2), []),  # TetelNev, then TetelNev2
        (None, [SHIRT, POSTAGE]),  # <tetel> blocks
    ],
    ids=["unsuffixed", "suffixed", "unsuffixed-then-2", "nested"],
)
def test_each_documented_line_form_becomes_the_same_invoice(sim: InnVoiceSimulator, http: httpx.Client, flat, nested):
    response = post(http, invoice_xml(HEADER, flat, nested))

    assert response.status_code == 200, response.text
    answer = fromstring(response.content)
    assert answer.tag == "invoice" and answer.findtext("Sorszam") == "P1-" + str(sim.today().year) + "-1"
    document = sim.document(answer.findtext("techid"))
    assert document.lines[0].name == "Póló L" and document.lines[0].unit_price == Decimal(6350)
    assert len(document.lines) == (1 if flat is SHIRT else 2)


def test_an_unknown_field_or_a_missing_required_one_is_refused_in_innvoices_words(
    sim: InnVoiceSimulator, http: httpx.Client
) -> None:
    header = {name: value for name, value in HEADER.items() if name != "SzamlatombID"} | {"Kedvezmeny": "5"}

    response = post(http, invoice_xml(header, numbered(SHIRT)))

    assert response.status_code == 400
    refusal = fromstring(response.content)
    assert refusal.tag == "response" and refusal.findtext("error") == "400"
    assert "Kedvezmeny" in refusal.findtext("message") and "SzamlatombID" in refusal.findtext("message")
    assert {violation.name for violation in sim.violations} == {"invoice.Kedvezmeny", "invoice.SzamlatombID"}
    assert not sim.documents


@pytest.mark.parametrize(
    ("flat", "nested", "wrong"),
    [
        (numbered(SHIRT, first=2), [], "invoice.TetelNev"),  # numbering must start at 1
        (numbered(SHIRT | {"AfaSzoveg": "21%"}), [], "invoice.line[1].AfaSzoveg"),  # not a Hungarian VAT key
        (SHIRT, [POSTAGE], "invoice.tetel"),  # the two forms mixed
        (numbered({k: v for k, v in SHIRT.items() if k != "EgysegAr"}), [], "invoice.line[1].EgysegAr"),
    ],
    ids=["numbering", "vat-key", "mixed", "no-price"],
)
def test_malformed_lines_are_refused(sim: InnVoiceSimulator, http: httpx.Client, flat, nested, wrong) -> None:
    response = post(http, invoice_xml(HEADER, flat, nested))

    assert response.status_code == 400
    assert wrong in {violation.name for violation in sim.violations}


def test_a_final_invoice_moves_the_stock_of_lines_with_a_known_article_number(
    sim: InnVoiceSimulator, http: httpx.Client
) -> None:
    lines = numbered(SHIRT | {"CikkSzam": "POLO-L"}, POSTAGE | {"CikkSzam": "NOT-IN-INNVOICE"})
    assert post(http, invoice_xml(HEADER, lines)).status_code == 200
    assert post(http, invoice_xml(HEADER | {"Felretett": "1"}, lines)).status_code == 200  # a draft
    assert post(http, invoice_xml(HEADER | {"Proforma": "1"}, lines)).status_code == 200  # a proforma

    assert sim.stock("POLO-L") == Decimal(8)  # only the final invoice took its 2 units


def test_a_proforma_answers_without_a_number_and_becomes_an_invoice_later(
    sim: InnVoiceSimulator, http: httpx.Client
) -> None:
    answer = fromstring(post(http, invoice_xml(HEADER | {"Proforma": "1"}, numbered(SHIRT))).content)
    assert answer.tag == "proforma_invoice" and answer.find("Sorszam") is None

    read = fromstring(http.get(f"/invoice/techid/{answer.findtext('techid')}", auth=AUTH).content)
    assert read.findtext("SorszamFormatted").startswith("D-")

    conversion = Element("proforma_invoices")
    node = SubElement(conversion, "proforma_invoice")
    when = {"SzamlaKelte": "2026.12.03.", "TeljesitesKelte": "2026.12.03.", "Hatarido": "2026.12.03."}
    for name, value in ({"TABLE_ID": answer.findtext("TABLE_ID")} | when).items():
        SubElement(node, name).text = value
    converted = http.post(
        "/proforma_invoice", content=tostring(conversion), headers={"Content-Type": "text/xml"}, auth=AUTH
    )
    assert converted.status_code == 200, converted.text
    assert fromstring(converted.content).findtext("Sorszam").startswith("P1-")


def test_email_is_recorded_as_sent_but_never_for_a_draft(sim: InnVoiceSimulator, http: httpx.Client) -> None:
    mail = {"VevoEmail": "vevo@example.hu", "EmailKuldes": "1"}
    sent = fromstring(post(http, invoice_xml(HEADER | mail, numbered(SHIRT))).content).findtext("techid")
    draft = fromstring(post(http, invoice_xml(HEADER | mail | {"Felretett": "1"}, numbered(SHIRT))).content)

    assert sim.document(sent).emailed_to == "vevo@example.hu"
    assert sim.document(draft.findtext("techid")).emailed_to == ""


def test_wrong_credentials_an_unknown_company_and_an_unknown_pad(sim: InnVoiceSimulator, http: httpx.Client) -> None:
    refused = post(http, invoice_xml(HEADER, SHIRT), auth=(DEMO_USER, "wrong"))
    assert refused.status_code == 401 and fromstring(refused.content).findtext("error") == "401"

    assert http.get("https://innvoice.test/other-company/product", auth=AUTH).status_code == 404

    unknown_pad = post(http, invoice_xml(HEADER | {"SzamlatombID": "99"}, SHIRT))
    assert unknown_pad.status_code == 400 and "számlatömb" in fromstring(unknown_pad.content).findtext("message")


def test_lists_pads_and_products_with_price_groups_and_warehouses(sim: InnVoiceSimulator, http: httpx.Client) -> None:
    sim.add_warehouse("Bolt")
    sim.set_stock("POLO-L", 2, 3)
    sim.set_price("POLO-L", 3, Decimal(5000), gross=False)

    pads = fromstring(http.get("/tomb_invoice", auth=AUTH).content)
    products = fromstring(http.get("/product", auth=AUTH).content)

    assert [(pad.findtext("TABLE_ID"), pad.findtext("name")) for pad in pads] == [("1", "Webshop")]
    product = products.find("product")
    assert product.findtext("CikkSzam") == "POLO-L"
    assert [group.findtext("Arcsoport_Ar") for group in product.findall("Arak")] == ["6350", None, "5000"]
    assert [group.findtext("Arcsoport_Brutto") for group in product.findall("Arak")] == ["1", None, "0"]
    assert [entry.findtext("Raktar_Keszlet") for entry in product.findall("Keszletek/Keszlet")] == ["10", "3"]


def test_faults_latency_and_the_rate_limit(http: httpx.Client, sim: InnVoiceSimulator) -> None:
    sim.fail_next(1, 502, group="invoice", after_execution=True)
    lost = post(http, invoice_xml(HEADER, SHIRT))
    assert lost.status_code == 502 and len(sim.documents) == 1  # made, its answer lost

    sim.fail_next(1, 503, group="products")
    assert http.get("/product", auth=AUTH).status_code == 503
    assert http.get("/product", auth=AUTH).status_code == 200

    now = [0.0]
    limited = InnVoiceSimulator(rate_limit=RateLimit(calls=2, window_seconds=1), clock=lambda: now[0])
    with httpx.Client(transport=httpx.WSGITransport(app=limited)) as client:
        answers = [client.get(f"https://x/{DEMO_REG}/product", auth=AUTH) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "1"

    waits: list[float] = []
    slow = InnVoiceSimulator(latency_seconds=0.25, sleep=waits.append)
    with httpx.Client(transport=httpx.WSGITransport(app=slow)) as client:
        client.get(f"https://x/{DEMO_REG}/product", auth=AUTH)
    assert waits == [0.25]


def test_the_simulators_own_answers_are_held_to_the_shapes_the_facts_show() -> None:
    contract = InnVoiceContract()
    listed = b"<response><product><CikkSzam>A</CikkSzam><Ar>1</Ar></product></response>"
    invoice = b"<invoice><techid>1</techid><PrintUrl>u</PrintUrl><TABLE_ID>2</TABLE_ID></invoice>"

    wrong_list = contract.response_violations(Call("GET", "/r/product"), Answer(200, "text/xml", listed))
    no_number = contract.response_violations(Call("POST", "/r/invoice"), Answer(200, "text/xml", invoice))

    assert [violation.name for violation in wrong_list] == ["response.product[1].Ar"]
    assert [violation.name for violation in no_number] == ["invoice.Sorszam"]
