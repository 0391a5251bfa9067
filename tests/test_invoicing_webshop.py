"""A backoffice that cannot be searched for an order it took (InnVoice documents no look-up by
reference): after a lost answer koppel never sends the order again by itself; the order waits, saying
why, until a person has checked the backoffice and accepts it.

Through the order poller, with a Magento webshop and InnVoice as simulators on 127.0.0.1 and the
koppel table in moto.
"""

from __future__ import annotations

import time

import order_poller
import pytest
from helpers import Invocation, serve
from scenarios import schedule_event
from test_cli import run_cli
from webshops import Buyer, Line, MagentoShop

from koppel import wiring
from koppel.config import Link
from koppel.flows.orders import LEASE_SECONDS
from koppel.store.orders import DynamoOrderLinks
from koppel_local.simulators.innvoice import DEMO_PASSWORD, DEMO_REG, DEMO_USER, InnVoiceSimulator

LINK = "shop-to-invoices"
POLLER = Invocation(function_name="OrderPollerFunction", timeout=300)


@pytest.fixture
def invoicing(stack, local_state):
    wiring.reset()
    innvoice = InnVoiceSimulator()
    pad = innvoice.add_pad("Webshop", prefix="WEB")
    innvoice.add_product("MUG-1", "Stoneware mug", prices=[("14.95", True)], stock={1: 20})
    shop = MagentoShop()
    shop.add_product("MUG-1", "Stoneware mug", "14.95")
    innvoice_url, innvoice_server = serve(innvoice)
    shop_url, shop_server = serve(shop.app)
    stack.add_account(
        "invoices",
        "innvoice",
        {"user": DEMO_USER, "password": DEMO_PASSWORD},
        settings={"reg_name": DEMO_REG, "base_url": innvoice_url, "pad_id": pad, "currency": "EUR",
                  "vat_keys": {"21": "27%"}},
    )  # fmt: skip
    settings, secret = shop.account(shop_url)
    stack.add_account("shop", "magento", secret, settings=settings)
    wiring.config_store().put_link(
        Link(link_id=LINK, backoffice="invoices", channel="shop", flows={"tracking": False, "stock": False})
    )
    yield innvoice, shop
    innvoice_server.shutdown()
    shop_server.shutdown()
    assert innvoice.violations == [], "koppel sent InnVoice a request off its documented shape"
    assert shop.violations == []


def poll(monkeypatch=None) -> dict:
    if monkeypatch is not None:  # as the poller runs once the lease of the lost answer has run out
        ahead = DynamoOrderLinks(wiring.table(), clock=lambda: time.time() + LEASE_SECONDS + 60)
        monkeypatch.setattr(wiring, "order_links", lambda: ahead)
    return order_poller.lambda_handler(schedule_event(), POLLER())


def invoices_for(innvoice, order_id: str) -> list:
    return innvoice.documents_mentioning(f"koppel:magento:{order_id}")


def test_a_lost_answer_is_never_invoiced_twice_by_itself(invoicing, monkeypatch, capsys):
    innvoice, shop = invoicing
    order_id = shop.place_order([Line("MUG-1", 2, "14.95")], Buyer("anna@example.nl"))
    # GIVEN InnVoice makes the next invoice and its answer is lost
    innvoice.fail_next(1, 502, group="invoice", after_execution=True)

    poll()  # the answer is lost
    poll(monkeypatch)  # the lease ran out: InnVoice cannot be searched, so nothing is sent again
    poll(monkeypatch)

    # THEN there is one invoice, and the order waits saying why and what a person can do
    assert len(invoices_for(innvoice, order_id)) == 1
    record = wiring.order_links().get(LINK, order_id)
    assert record is not None and record.state.value == "needs_attention"
    assert "cannot be searched" in record.reason and f"accept {order_id}" in record.reason


def test_after_checking_a_person_accepts_a_lost_order_and_it_is_invoiced_once(invoicing, monkeypatch, capsys):
    innvoice, shop = invoicing
    order_id = shop.place_order([Line("MUG-1", 1, "14.95")], Buyer("kees@example.nl"))
    # GIVEN the invoice request fails without an answer, and InnVoice made nothing
    innvoice.fail_next(1, 502, group="invoice")
    poll()
    poll(monkeypatch)
    assert invoices_for(innvoice, order_id) == []

    # WHEN a person has looked in InnVoice, found nothing, and accepts the order
    assert run_cli("orders", LINK, "accept", order_id) == 0
    poll(monkeypatch)
    poll(monkeypatch)

    # THEN it is invoiced once
    assert len(invoices_for(innvoice, order_id)) == 1
    record = wiring.order_links().get(LINK, order_id)
    assert record is not None and record.state.value == "created"
