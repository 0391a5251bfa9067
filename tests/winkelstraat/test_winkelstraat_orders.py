"""A Winkelstraat.nl order as Copernicus posts it: read into koppel's order, or refused with the field and
what is wrong before anything is queued; only a delivery signed with koppel's scheme is taken."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from helpers import ROOT

from koppel.config import Account
from koppel.connectors import registry
from koppel.connectors.winkelstraat.orders import order, partner_order, verify
from koppel.errors import BadRequest, Unauthorized
from koppel.queue import Envelope
from koppel.webhooks import Delivery, Ignored, VerifyContext
from koppel.webhooks import verify as verify_delivery
from koppel_local.signing import koppel_headers
from koppel_local.simulators.copernicus import sample_order

SECRET = "copernicus-webhook-secret"  # made up for the tests
ACCOUNT = Account(account_id="winkelstraat", system="winkelstraat", secret_ref="koppel/winkelstraat")


def winkelstraat_order() -> dict[str, Any]:
    """Stock Hub's order as Copernicus forwards it, with fields koppel does not read left in."""
    return {
        "increment_id": "100004711",
        "created_at": "2026-11-21 12:05:00",
        "updated_at": "2026-11-21 12:06:00",
        "status": "processing",
        "po_number": "PO-88",
        "currency": "EUR",
        "customer_email": "anna.devries@example.nl",
        "subtotal": "44.85",
        "items": [
            {
                "sku": "MUG-BLUE-350",
                "mpn": "MB350",
                "size": "",
                "name": "Stoneware mug, blue",
                "ean": "8712345000017",
                "qty_ordered": "2.0000",
                "item_price_inc_tax": 14.95,
                "row_total_inc_tax": "29.90",
            },
            {
                "sku": "TEA-ROOIBOS",
                "qty_ordered": 3,
                "item_price_inc_tax": "6.00",
                "row_total_inc_tax": "15.00",
                "discount_inc_tax": "3.00",
            },
        ],
        "billing_address": {
            "firstname": "Anna",
            "lastname": "de Vries",
            "company": "De Vries Thee",
            "street": ["Kerkstraat", "12", "A"],
            "postcode": "1017 GC",
            "city": "Amsterdam",
            "country_id": "nl",
            "telephone": "+31201234567",
        },
        "shipping_address": {
            "firstname": "Bram",
            "lastname": "de Vries",
            "street": ["Dorpsweg 3-bis"],
            "postcode": "3411 AB",
            "city": "Lopik",
            "country_id": "NL",
        },
        "shipping_price": "4.95",
        "grand_total": "49.85",
    }


def delivered(payload: dict[str, Any]) -> Envelope:
    return Envelope(
        account_id="winkelstraat",
        system="winkelstraat",
        topic="order.created",
        event_id="evt-1",
        dedupe_key="winkelstraat:koppel:evt-1",
        received_at=datetime(2026, 11, 21, 12, 7, tzinfo=UTC),
        sent_at=datetime(2026, 11, 21, 12, 7, tzinfo=UTC),
        body=json.dumps(payload),
    )


def signed(payload: Any, *, topic: str = "order.created", secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    return {name.lower(): value for name, value in koppel_headers(body, secret, topic=topic).items()}, body


def context() -> VerifyContext:
    return VerifyContext(now=datetime.now(UTC), tolerance=timedelta(minutes=5), stale_after=timedelta(hours=48))


# --- the order koppel books ----------------------------------------------------------------------
def test_a_winkelstraat_order_becomes_a_paid_order_of_the_channel_with_its_lines_and_totals():
    payload = winkelstraat_order()
    got = order(delivered(payload), payload)

    assert (got.channel, got.channel_order_id, got.name) == ("winkelstraat", "100004711", "100004711")
    assert got.payment_method == "winkelstraat"  # paid at Winkelstraat before Copernicus sends it
    assert got.placed_at == datetime(2026, 11, 21, 12, 5, tzinfo=UTC)  # Stock Hub's time without offset: UTC
    assert got.updated_at == datetime(2026, 11, 21, 12, 6, tzinfo=UTC)
    assert [
        (line.line_id, line.channel_sku, line.ean, line.title, line.quantity, line.unit_price.amount, line.total.amount)
        for line in got.lines
    ] == [
        ("1", "MUG-BLUE-350", "8712345000017", "Stoneware mug, blue", 2, Decimal("14.95"), Decimal("29.90")),
        ("2", "TEA-ROOIBOS", "", "", 3, Decimal("6.00"), Decimal("15.00")),
    ]
    assert got.lines[1].discount.amount == Decimal("3.00")
    assert got.shipping_cost.amount == Decimal("4.95")
    assert got.channel_total.amount == got.total.amount == Decimal("49.85")
    assert (got.customer.email, got.customer.first_name, got.customer.company) == (
        "anna.devries@example.nl",
        "Anna",
        "De Vries Thee",
    )
    billing, shipping = got.billing_address, got.shipping_address
    assert (billing.street, billing.house_number, billing.house_number_extension, billing.country_code) == (
        "Kerkstraat",
        "12",
        "A",
        "NL",
    )
    assert (shipping.first_name, shipping.street, shipping.house_number, shipping.city) == (
        "Bram",
        "Dorpsweg",
        "3",
        "Lopik",
    )


def test_line_ids_are_copernicus_own_where_it_sends_them_and_the_same_on_every_post():
    payload = winkelstraat_order()
    payload["items"][0]["item_id"] = 9001
    payload["items"][1]["item_id"] = "9002"
    assert [line.line_id for line in order(delivered(payload), payload).lines] == ["9001", "9002"]
    again = winkelstraat_order()
    assert [line.line_id for line in order(delivered(again), again).lines] == ["1", "2"]


def test_the_sample_order_the_demo_posts_adds_up():
    payload = sample_order(100004712, [("MUG-BLUE-350", 2, "14.95"), ("TEA-ROOIBOS", 1, Decimal("6.49"))])
    got = order(delivered(payload), payload)
    assert got.channel_total.amount == got.total.amount == Decimal("41.34")


# --- refused, with the reason --------------------------------------------------------------------
def change(path: str, value: Any) -> Any:
    """A change to the good order: `items.0.qty_ordered` set to value (None: the field removed)."""

    def changed(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        holder: Any = payload
        for part in parents:
            holder = holder[int(part)] if part.isdigit() else holder[part]
        if value is None:
            del holder[last]
        else:
            holder[last] = value

    return changed


MALFORMED = [
    ("items.0.qty_ordered", 0, "items[0].qty_ordered: must be more than 0"),
    ("items.0.qty_ordered", "1.5", "items[0].qty_ordered: must be a whole number of units, not 1.5"),
    ("items.0.qty_ordered", True, "items[0].qty_ordered: must be a whole number of units"),
    ("items.1.row_total_inc_tax", "15.01", "items[1]: row_total_inc_tax 15.01 is not qty_ordered 3 x item_price"),
    ("items.1.discount_inc_tax", "19.00", "items[1]: discount_inc_tax 19.00 is more than qty_ordered 3"),
    ("items.0.item_price_inc_tax", "14.955", "items[0].item_price_inc_tax: has more than two decimals (14.955)"),
    ("items.0.item_price_inc_tax", "-14.95", "items[0].item_price_inc_tax: must not be negative"),
    ("items.0.item_price_inc_tax", "gratis", "items[0].item_price_inc_tax: must be an amount such as 14.95"),
    ("items.0.sku", "", "items[0].sku: must not be empty"),
    ("items.0.sku", None, "items[0].sku: is required"),
    ("items", [], "items: must hold at least one"),
    ("items", None, "items: is required"),
    ("grand_total", "49.80", "grand_total 49.80 is not the items' row_total_inc_tax (44.90) plus shipping_price"),
    ("shipping_price", "0.00", "grand_total 49.85 is not the items' row_total_inc_tax (44.90) plus shipping_price"),
    ("billing_address.country_id", "NLD", "billing_address.country_id: must be an ISO 3166 country code"),
    ("shipping_address.country_id", "", "shipping_address.country_id: must be an ISO 3166 country code"),
    ("shipping_address.street", [], "shipping_address.street: must hold at least one"),
    ("shipping_address.street", [""], "shipping_address: street's first line must name the street"),
    ("billing_address.city", None, "billing_address.city: is required"),
    ("shipping_address", None, "shipping_address: is required"),
    ("currency", "euro", "currency: must be an ISO 4217 currency code such as EUR (3 letters)"),
    ("customer_email", "anna", "customer_email: must be the buyer's e-mail address"),
    ("created_at", "yesterday", "created_at: must be a time such as 2026-11-21T13:05:00+01:00"),
    ("increment_id", "", "increment_id: must not be empty"),
]


@pytest.mark.parametrize(("path", "value", "reason"), MALFORMED, ids=[f"{p}={v!r}" for p, v, _ in MALFORMED])
def test_a_malformed_order_is_refused_naming_the_field_and_what_is_wrong(path: str, value: Any, reason: str):
    payload = winkelstraat_order()
    change(path, value)(payload)
    headers, body = signed(payload)

    with pytest.raises(BadRequest) as refused:
        verify(ACCOUNT, [SECRET], headers, body, context())

    assert refused.value.http_status == 400
    assert reason in refused.value.message, refused.value.message


def test_two_items_with_one_item_id_are_refused():
    payload = winkelstraat_order()
    for item in payload["items"]:
        item["item_id"] = "7"
    with pytest.raises(BadRequest, match="two items carry the same item_id"):
        partner_order(payload)


def test_several_problems_are_named_together():
    payload = winkelstraat_order()
    payload["items"][0]["qty_ordered"] = -1
    payload["billing_address"]["country_id"] = "Nederland"
    with pytest.raises(BadRequest) as refused:
        partner_order(payload)
    assert "items[0].qty_ordered" in refused.value.message
    assert "billing_address.country_id" in refused.value.message


# --- the signature and the topic -----------------------------------------------------------------
def test_a_signed_order_is_a_delivery_of_the_order():
    payload = winkelstraat_order()
    headers, body = signed(payload)
    delivery = verify_delivery(ACCOUNT, [SECRET], headers, body, context())
    assert isinstance(delivery, Delivery)
    assert (delivery.topic, delivery.payload) == ("order.created", payload)


def test_an_unsigned_or_wrongly_signed_order_is_401():
    payload = winkelstraat_order()
    headers, body = signed(payload, secret="a guess")
    with pytest.raises(Unauthorized):
        verify_delivery(ACCOUNT, [SECRET], headers, body, context())
    bare = {"content-type": "application/json"}
    with pytest.raises(Unauthorized):
        verify_delivery(ACCOUNT, [SECRET], bare, body, context())


def test_an_unsigned_malformed_order_is_401_not_400():
    # The body of a sender koppel does not know is not read, so its faults are not described to it.
    headers, body = signed({"increment_id": ""}, secret="a guess")
    with pytest.raises(Unauthorized):
        verify_delivery(ACCOUNT, [SECRET], headers, body, context())


@pytest.mark.parametrize("topic", ["stock.changed", "order.cancelled", "order.updated"])
def test_another_topic_from_copernicus_is_not_taken(topic: str):
    headers, body = signed({"levels": [{"sku": "MUG-BLUE-350", "quantity": 3}]}, topic=topic)
    assert isinstance(verify_delivery(ACCOUNT, [SECRET], headers, body, context()), Ignored)


def test_the_declaration_takes_orders_by_the_koppel_scheme_and_sends_no_shipments():
    spec = registry.spec("winkelstraat")
    assert spec.webhooks is not None and spec.webhooks.scheme == "koppel"
    assert spec.webhooks.topics == frozenset({"order.created"})
    assert registry.load(spec.webhooks.orders) is order
    assert registry.load(spec.webhooks.verifier) is verify
    assert {capability.value for capability in spec.serves} == {"stock_target"}
    assert spec.takes_feed


def test_a_payload_the_parser_is_handed_unchecked_is_still_refused():
    # The queue worker hands the parser what was queued; a body queued before the checks is read the same way.
    payload = copy.deepcopy(winkelstraat_order())
    payload["grand_total"] = "1.00"
    with pytest.raises(BadRequest, match=r"grand_total 1\.00"):
        order(delivered(payload), payload)


def test_the_order_docs_partner_api_shows_is_one_koppel_takes():
    page = (ROOT / "docs" / "partner-api.md").read_text()
    [shown] = [block for block in re.findall(r"```json\n(.*?)```", page, re.S) if "increment_id" in block]
    payload = json.loads(shown)
    headers, body = signed(payload)
    assert isinstance(verify(ACCOUNT, [SECRET], headers, body, context()), Delivery)
    assert order(delivered(payload), payload).total.amount == Decimal(payload["grand_total"])
