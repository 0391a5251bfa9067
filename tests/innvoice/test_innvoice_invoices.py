"""Webshop orders become InnVoice invoices or proformas: the document the merchant finds, to the forint,
its stock taken by article number, unknown SKUs invoiced as text, InnVoice's refusals in words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from innvoice.builders import line, order
from pydantic import ValidationError

from koppel.config import Account
from koppel.connectors.innvoice.settings import InnVoiceSettings
from koppel.errors import ConfigurationError, NeedsAttention, PermanentConnectorError, TransientConnectorError
from koppel_local.simulators.innvoice import Document, InnVoiceSimulator


@pytest.fixture
def catalogue(sim: InnVoiceSimulator) -> InnVoiceSimulator:
    sim.add_product("POLO-L", "Póló L", ean="5999000000011", prices=[(Decimal(6350), True)], stock={1: 10})
    sim.add_product("BOGRE", "Bögre", prices=[(Decimal(2490), True)], stock={1: 4})
    return sim


def total(document: Document) -> Decimal:
    return sum((item.unit_price * item.quantity for item in document.lines), Decimal(0))


def booked(sim: InnVoiceSimulator, techid: str) -> Document:
    return sim.document(techid)


def test_an_order_becomes_an_invoice_in_the_chosen_pad_with_its_buyer_dates_and_reference(catalogue, connect):
    innvoice = connect()
    sent = order(line("POLO-L", 2, "6350", title="Póló L"), shipping="1990", payment_method="Bankkártya")

    created = innvoice.create_order(sent, tag="koppel")

    document = booked(catalogue, created.backoffice_order_id)
    assert created.name == "WEB-2026-1"  # the pad's Sorszam
    assert document.pad == "2" and not document.proforma and not document.draft
    fields = document.fields
    assert (fields["VevoNev"], fields["VevoIrsz"], fields["VevoTelep"], fields["VevoUtcaHsz"]) == (
        "Kiss Anna",
        "1011",
        "Budapest",
        "Fő utca 12",
    )
    assert fields["VevoOrszag"] == "HU" and fields["Devizanem"] == "HUF"
    # issued today, fulfilled on the order's day in Budapest, due eight days later while unpaid
    assert (fields["SzamlaKelte"], fields["TeljesitesKelte"], fields["Hatarido"]) == (
        "2026.12.02.",
        "2026.12.01.",
        "2026.12.10.",
    )
    assert fields["FizetesiMod"] == "átutalás" and fields["Fizetve"] == "0"
    assert "koppel:shoprenter:SR-1001" in fields["Megjegyzes"].splitlines()
    assert "#1001" in fields["Megjegyzes"]


def test_lines_come_to_the_orders_total_to_the_cent_with_their_vat_keys(catalogue, connect):
    innvoice = connect()
    sent = order(
        line("POLO-L", 3, "6350.50", title="Póló L", discount="1000.01"),
        line("KONYV", 1, "3990", title="Könyv", vat=5),
        shipping="1490.99",
    )

    created = innvoice.create_order(sent, tag="koppel")

    document = booked(catalogue, created.backoffice_order_id)
    assert total(document) == sent.total.amount == Decimal("23532.48")
    assert [(item.name, item.vat_key, item.unit_price, item.quantity, item.gross) for item in document.lines] == [
        ("Póló L", "27%", Decimal("6350.50"), 3, True),
        ("Kedvezmény: Póló L", "27%", Decimal("-1000.01"), 1, True),
        ("Könyv", "5%", Decimal(3990), 1, True),
        ("Szállítás", "27%", Decimal("1490.99"), 1, True),  # shipping at the order's highest rate
    ]


def test_a_known_sku_takes_stock_and_an_unknown_one_is_invoiced_as_text(catalogue, connect):
    innvoice = connect()
    known, unknown = innvoice.find_variant("POLO-L"), innvoice.find_variant("GIFT-CARD")
    by_barcode = innvoice.find_variant("SHOP-OWN-REF", "5999000000011")
    assert (known.variant_id, known.barcode) == ("POLO-L", "5999000000011")
    assert by_barcode.variant_id == "POLO-L"
    assert unknown is not None and unknown.variant_id == ""  # a text line, not a reason to wait

    sent = order(
        line("POLO-L", 2, "6350", backoffice_variant_id=known.variant_id),
        line("GIFT-CARD", 1, "5000", vat=0, backoffice_variant_id=unknown.variant_id),
    )
    created = innvoice.create_order(sent, tag="koppel")

    document = booked(catalogue, created.backoffice_order_id)
    assert [(item.sku, item.stock_moved) for item in document.lines] == [("POLO-L", True), ("", False)]
    assert catalogue.stock("POLO-L") == 8
    assert document.lines[1].vat_key == "0% - AAM"


def test_a_product_added_in_innvoice_after_the_mapping_is_booked_with_its_article_number(catalogue, connect):
    innvoice = connect()
    assert innvoice.find_variant("SAPKA").variant_id == ""
    catalogue.add_product("SAPKA", "Sapka", stock={1: 5})

    fresh = connect()  # the next run
    created = fresh.create_order(order(line("SAPKA", 1, "2990", backoffice_variant_id="")), tag="koppel")

    assert booked(catalogue, created.backoffice_order_id).lines[0].sku == "SAPKA"
    assert catalogue.stock("SAPKA") == 4


def test_with_unknown_skus_waiting_an_unknown_sku_has_no_variant(catalogue, connect):
    innvoice = connect(unknown_skus="wait")

    assert innvoice.find_variant("GIFT-CARD") is None
    with pytest.raises(NeedsAttention, match="no product with article number GIFT-CARD"):
        innvoice.create_order(order(line("GIFT-CARD", 1, "5000")), tag="koppel")
    assert not catalogue.documents


def test_a_proforma_is_made_and_its_number_read_by_techid(catalogue, connect):
    innvoice = connect(document="proforma")

    created = innvoice.create_order(order(line("POLO-L", 1, "6350")), tag="koppel")

    document = booked(catalogue, created.backoffice_order_id)
    assert document.proforma and created.name == "D-2026-1"
    assert catalogue.stock("POLO-L") == 10  # a proforma takes no stock


def test_a_draft_is_set_aside_and_takes_no_stock(catalogue, connect):
    created = connect(draft=True).create_order(order(line("POLO-L", 1, "6350")), tag="koppel")

    assert booked(catalogue, created.backoffice_order_id).draft
    assert catalogue.stock("POLO-L") == 10


def test_the_buyer_gets_the_invoice_by_email_when_the_account_says_so(catalogue, connect):
    mailed = connect(email_buyer=True).create_order(order(line("POLO-L", 1, "6350")), tag="koppel")
    quiet = connect().create_order(order(line("POLO-L", 1, "6350"), number="1002"), tag="koppel")

    assert booked(catalogue, mailed.backoffice_order_id).emailed_to == "anna.kiss@example.hu"
    assert booked(catalogue, quiet.backoffice_order_id).emailed_to == ""


def test_email_for_a_draft_is_refused_when_the_account_is_set_up() -> None:
    with pytest.raises(ValidationError, match="email_buyer cannot be on with draft"):
        InnVoiceSettings(reg_name="bolt", pad_id="1", draft=True, email_buyer=True)
    # the account itself is refused as it is saved, with the same words
    settings = {"reg_name": "bolt", "pad_id": "1", "draft": True, "email_buyer": True}
    with pytest.raises(ValidationError, match="email_buyer cannot be on with draft"):
        Account(account_id="bolt-innvoice", system="innvoice", secret_ref="koppel/bolt", settings=settings)


def test_a_paid_order_is_marked_paid_and_due_today(catalogue, connect):
    innvoice = connect(payment_methods={"stripe": "bankkártya"})

    created = innvoice.create_order(order(line("POLO-L", 1, "6350"), payment_method="Stripe"), tag="koppel")

    fields = booked(catalogue, created.backoffice_order_id).fields
    assert (fields["FizetesiMod"], fields["Fizetve"], fields["Hatarido"]) == ("bankkártya", "1", "2026.12.02.")


def test_nested_lines_make_the_same_invoice(catalogue, connect):
    created = connect(line_format="nested").create_order(order(line("POLO-L", 2, "6350"), shipping="990"), tag="koppel")

    document = booked(catalogue, created.backoffice_order_id)
    assert [(item.sku, item.quantity) for item in document.lines] == [("POLO-L", 2), ("", 1)]
    assert catalogue.stock("POLO-L") == 8


def test_a_lost_answer_is_an_unknown_outcome_never_a_second_invoice(catalogue, connect):
    innvoice = connect()
    catalogue.fail_next(1, 504, group="invoice", after_execution=True)

    with pytest.raises(TransientConnectorError, match="outcome is unknown"):
        innvoice.create_order(order(line("POLO-L", 1, "6350")), tag="koppel")

    # the document was made once, koppel sent it once, and cannot find it again by reference
    assert len(catalogue.documents) == 1 and len(catalogue.calls("invoice")) == 1
    assert innvoice.find_order("shoprenter", "SR-1001") is None


def test_a_rate_limited_invoice_is_waited_out_and_made_once(catalogue, connect, fake_time):
    innvoice = connect()
    catalogue.fail_next(1, 429, group="invoice")

    created = innvoice.create_order(order(line("POLO-L", 1, "6350")), tag="koppel")

    assert list(catalogue.documents) == [created.backoffice_order_id]
    assert fake_time.sleeps == [1.0]


def test_innvoices_refusals_in_words(catalogue, connect):
    with pytest.raises(ConfigurationError, match="check `user` and `password`") as wrong:
        connect(password="not-it").create_order(order(line("POLO-L", 1, "6350")), tag="koppel")
    assert wrong.value.field == "user"

    with pytest.raises(ConfigurationError, match="reg_name") as company:
        connect(reg_name="other-company").find_variant("POLO-L")
    assert company.value.field == "settings.reg_name"

    with pytest.raises(PermanentConnectorError, match="Nem létező számlatömb: 7"):
        connect(pad_id="7").create_order(order(line("POLO-L", 1, "6350")), tag="koppel")

    with pytest.raises(ConfigurationError, match="pad_id"):
        connect(pad_id="").create_order(order(line("POLO-L", 1, "6350")), tag="koppel")


def test_what_koppel_cannot_invoice_waits_for_a_person(catalogue, connect):
    innvoice = connect()

    with pytest.raises(NeedsAttention, match="VAT 21%"):
        innvoice.create_order(order(line("POLO-L", 1, "6350", vat=21)), tag="koppel")
    eur = order(line("POLO-L", 1, "6350")).model_copy(update={"currency": "EUR"})
    with pytest.raises(NeedsAttention, match="in EUR"):
        innvoice.create_order(eur, tag="koppel")
    assert not catalogue.documents


def test_the_pads_are_listed_with_their_names(sim, connect):
    assert connect().pads() == [("1", "Számlák"), ("2", "Webshop")]


def test_a_paid_proforma_becomes_an_invoice_that_takes_the_stock(catalogue, connect):
    innvoice = connect(document="proforma")
    proforma = innvoice.create_order(order(line("POLO-L", 2, "6350")), tag="koppel")

    invoice = innvoice.invoice_from_proforma(proforma.backoffice_order_id)

    assert invoice.name == "WEB-2026-1"
    made = booked(catalogue, invoice.backoffice_order_id)
    assert not made.proforma and made.fields["SzamlaKelte"] == made.fields["Hatarido"] == "2026.12.02."
    assert booked(catalogue, proforma.backoffice_order_id).converted_to == invoice.backoffice_order_id
    assert catalogue.stock("POLO-L") == 8
    with pytest.raises(PermanentConnectorError, match="már készült számla"):
        innvoice.invoice_from_proforma(proforma.backoffice_order_id)
