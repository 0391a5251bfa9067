"""A Shoprenter webshop's orders as InnVoice invoices, through Shoprenter's order-status webhook and the
five-minute poll: the webhook goes to the account's secret URL, only the order ids of its body are
used and each order is read again from Shoprenter; a forged or misdirected webhook books nothing; a
webhook and a poll finding the same order at once make one document.

Through the webhook receiver, the queue worker and the order poller, with Shoprenter and InnVoice as
simulators on 127.0.0.1 and the stack in moto.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import order_poller
import pytest
import queue_worker
import webhook_receiver
from helpers import Invocation, api_event, serve
from scenarios import schedule_event, sqs_event
from test_cli import run_cli

from koppel import wiring
from koppel.config import Link
from koppel_local.simulators.innvoice import DEMO_PASSWORD, DEMO_REG, DEMO_USER, InnVoiceSimulator
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.shoprenter import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SHOP,
    ShoprenterSimulator,
    load_contract,
)

LINK = "shoprenter-to-innvoice"
SHOP = "shoprenter-main"
POLLER = Invocation(function_name="OrderPollerFunction", timeout=300)
WORKER = Invocation(function_name="QueueWorkerFunction", timeout=120)
RECEIVER = Invocation(function_name="WebhookReceiverFunction", timeout=10)
PROCESSING, FAILED = 2, 10  # the shop's default status ids


@pytest.fixture
def shop_and_invoices(stack, local_state):
    wiring.reset()
    innvoice = InnVoiceSimulator()
    pad = innvoice.add_pad("Webshop", prefix="WEB")
    innvoice.add_product("BOGRE-1", "Kerámia bögre", prices=[("3990", True)], stock={1: 20})
    shop = ShoprenterSimulator(contract=contract_or_skip(load_contract), now=datetime.now(UTC))
    shop.add_product("BOGRE-1", "Kerámia bögre", gross="3990")
    innvoice_url, innvoice_server = serve(innvoice)
    shop_url, shop_server = serve(shop)
    api_base_url, token_url = shop.serve_at(shop_url)
    stack.add_account(
        "invoices",
        "innvoice",
        {"user": DEMO_USER, "password": DEMO_PASSWORD},
        settings={"reg_name": DEMO_REG, "base_url": innvoice_url, "pad_id": pad, "email_buyer": True},
    )
    stack.add_account(
        SHOP,
        "shoprenter",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"shop_name": DEMO_SHOP, "api_base_url": api_base_url, "token_url": token_url},
    )
    wiring.config_store().put_link(
        Link(
            link_id=LINK,
            backoffice="invoices",
            channel=SHOP,
            flows={"tracking": False, "stock": False, "products": False},
        )
    )
    yield innvoice, shop
    innvoice_server.shutdown()
    shop_server.shutdown()
    assert innvoice.violations == [], "koppel sent InnVoice a request off its documented shape"
    assert shop.violations == [], "koppel sent Shoprenter a request off its documented shape"


def webhook_url(capsys) -> str:
    capsys.readouterr()
    assert run_cli("account", "webhook-url", SHOP) == 0
    return capsys.readouterr().out.strip()


def post(path: str, body: bytes, content_type: str = "application/json") -> dict:
    """The webhook receiver's answer to a POST on `path` (`/webhooks/...`)."""
    parts = path.strip("/").split("/")
    event = api_event(parts[1], body, {"content-type": content_type})
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["routeKey"] = "POST /webhooks/{account_id}" + ("/{url_secret}" if len(parts) > 2 else "")
    event["pathParameters"] = {"account_id": parts[1], **({"url_secret": parts[2]} if len(parts) > 2 else {})}
    answer = webhook_receiver.lambda_handler(event, RECEIVER())
    return {"status": answer["statusCode"], "body": json.loads(answer["body"])}


def work(stack) -> int:
    """The queue worker over everything queued; how many deliveries it took."""
    queued = [message["Body"] for message in stack.queued()]
    if queued:
        answer = queue_worker.lambda_handler(sqs_event(*queued), WORKER())
        assert answer["batchItemFailures"] == []
    return len(queued)


def documents_for(innvoice: InnVoiceSimulator, order_id: str) -> list:
    return innvoice.documents_mentioning(f"koppel:shoprenter:{order_id}")


def path_of(url: str) -> str:
    return "/webhooks/" + url.split("/webhooks/", 1)[1]


def test_an_order_status_webhook_becomes_one_emailed_invoice(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    order = shop.add_order([("BOGRE-1", 2, "3990")], status_id=PROCESSING, email="anna@example.hu")
    url = webhook_url(capsys)

    # WHEN Shoprenter's automation posts the status change to the account's secret URL
    answer = post(path_of(url), shop.webhook_body(order["innerId"]))
    assert answer["status"] == 200 and answer["body"]["status"] == "accepted"
    assert work(stack) == 1

    # THEN InnVoice holds one invoice for it, e-mailed to the buyer, with the shop's prices
    documents = documents_for(innvoice, order["innerId"])
    assert len(documents) == 1
    invoice = documents[0]
    assert not invoice.proforma and not invoice.draft
    assert invoice.emailed_to == "anna@example.hu"
    line = next(line for line in invoice.lines if line.sku == "BOGRE-1")
    assert (line.quantity, line.unit_price) == (Decimal(2), Decimal("3990"))
    assert innvoice.stock("BOGRE-1") == Decimal(18)
    record = wiring.order_links().get(LINK, order["innerId"])
    assert record is not None and record.state.value == "created"


def test_the_same_webhook_sent_again_and_as_xml_books_nothing_more(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    order = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING)
    path = path_of(webhook_url(capsys))
    body = shop.webhook_body(order["innerId"])
    assert post(path, body)["body"]["status"] == "accepted"
    assert post(path, body)["body"]["status"] == "accepted"  # queued again, acted on once
    xml = shop.webhook_body(order["innerId"], as_xml=True)
    assert post(path, xml, "application/xml")["body"]["status"] == "accepted"  # another body, same order
    work(stack)
    assert len(documents_for(innvoice, order["innerId"])) == 1


def test_a_webhook_without_the_secret_is_refused_and_queues_nothing(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    order = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING)
    body = shop.webhook_body(order["innerId"])
    webhook_url(capsys)  # the account has its secret

    wrong = post(f"/webhooks/{SHOP}/{uuid.uuid4().hex}", body)
    plain = post(f"/webhooks/{SHOP}", body)

    assert wrong["status"] == 401 and "secret does not match" in wrong["body"]["reason"]
    assert plain["status"] == 401 and "/webhooks/{account_id}/{webhook_secret}" in plain["body"]["reason"]
    assert stack.queued() == []
    assert documents_for(innvoice, order["innerId"]) == []


def test_a_forged_body_can_inject_nothing_the_order_is_read_from_shoprenter(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    order = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING, email="real@example.hu")
    path = path_of(webhook_url(capsys))
    # GIVEN a body naming the order but carrying another buyer, price and product
    forged = {
        "orders": {
            "order": [
                {
                    "innerId": order["innerId"],
                    "email": "attacker@example.com",
                    "totalGross": "1",
                    "orderProducts": [{"sku": "BOGRE-1", "price": "0.01", "quantity": "500"}],
                }
            ]
        }
    }
    assert post(path, json.dumps(forged).encode())["status"] == 200
    queued = stack.queued()
    assert [json.loads(json.loads(m["Body"])["body"]) for m in queued] == [{"order_ids": [order["innerId"]]}]
    queue_worker.lambda_handler(sqs_event(*[m["Body"] for m in queued]), WORKER())

    (invoice,) = documents_for(innvoice, order["innerId"])
    assert invoice.emailed_to == "real@example.hu"
    line = next(line for line in invoice.lines if line.sku == "BOGRE-1")
    assert (line.quantity, line.unit_price) == (Decimal(1), Decimal("3990"))


def test_a_webhook_for_an_order_koppel_does_not_import_books_nothing(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    order = shop.add_order([("BOGRE-1", 1, "3990")], status_id=FAILED)  # a failed payment
    post(path_of(webhook_url(capsys)), shop.webhook_body(order["innerId"]))
    work(stack)
    assert documents_for(innvoice, order["innerId"]) == []
    assert wiring.order_links().get(LINK, order["innerId"]) is None


def test_a_webhook_that_never_came_is_caught_by_the_poll(shop_and_invoices, stack):
    innvoice, shop = shop_and_invoices
    order = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING)
    order_poller.lambda_handler(schedule_event(), POLLER())
    assert len(documents_for(innvoice, order["innerId"])) == 1


def test_a_webhook_and_a_poll_finding_the_same_order_at_once_make_one_document(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    orders = [shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING) for _ in range(3)]
    path = path_of(webhook_url(capsys))
    for order in orders:
        post(path, shop.webhook_body(order["innerId"]))
    queued = [message["Body"] for message in stack.queued()]
    innvoice.latency_seconds = 0.05  # each document takes a while, so the two runs overlap

    # WHEN the worker takes the webhooks while the poller reads the same orders
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    jobs = [
        lambda: queue_worker.lambda_handler(sqs_event(*queued), WORKER()),
        lambda: order_poller.lambda_handler(schedule_event(), POLLER()),
    ]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    order_poller.lambda_handler(schedule_event(), POLLER())  # what waited on the other's claim

    # THEN each order is one invoice, and Shoprenter's 3 requests a second were never exceeded
    for order in orders:
        assert len(documents_for(innvoice, order["innerId"])) == 1, order["innerId"]
    assert shop.busiest_second() <= 3


def test_two_webshops_on_one_innvoice_account_each_get_documents_their_own_way(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    # GIVEN a second Shoprenter shop on the same InnVoice account, whose link makes draft proformas in
    # a pad of its own, e-mails nothing and waits for a person to accept each order
    pad = innvoice.add_pad("Second shop", prefix="SEC", proforma=True)
    second = ShoprenterSimulator(contract=contract_or_skip(load_contract), shop="masodikbolt", now=datetime.now(UTC))
    second.add_product("BOGRE-1", "Kerámia bögre", gross="3990")
    url, server = serve(second)
    try:
        api_base_url, token_url = second.serve_at(url)
        stack.add_account(
            "second-shop",
            "shoprenter",
            {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
            settings={"shop_name": "masodikbolt", "api_base_url": api_base_url, "token_url": token_url},
        )
        link = ["link", "put", "second-to-innvoice", "backoffice=invoices", "channel=second-shop"]
        # Both shops number their orders from 1: under one name in InnVoice they could be confused.
        capsys.readouterr()
        assert run_cli(*link) == 2
        assert "reference of its own" in capsys.readouterr().err
        assert run_cli("account", "put", "second-shop", "reference=masodikbolt") == 0
        assert run_cli(
            "link", "put", "second-to-innvoice", "backoffice=invoices", "channel=second-shop",
            "flows.tracking=false", "flows.stock=false", "flows.products=false", "orders.auto_accept=false",
            "backoffice_settings.document=proforma", "backoffice_settings.draft=true",
            "backoffice_settings.email_buyer=false", f"backoffice_settings.pad_id={pad}",
        ) == 0  # fmt: skip
        first_order = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING, email="anna@example.hu")
        second_order = second.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING, email="bela@example.hu")

        order_poller.lambda_handler(schedule_event(), POLLER())

        # THEN the first shop's order is an e-mailed invoice, the second's waits for acceptance
        (invoice,) = documents_for(innvoice, first_order["innerId"])
        assert not invoice.proforma and invoice.emailed_to == "anna@example.hu"
        waiting = wiring.order_links().get("second-to-innvoice", second_order["innerId"])
        assert waiting is not None and "awaiting acceptance" in waiting.reason
        assert innvoice.documents_mentioning(f"koppel:masodikbolt:{second_order['innerId']}") == []

        # WHEN a person accepts it, it becomes a draft proforma in the second shop's pad, e-mailed to no one
        assert run_cli("orders", "second-to-innvoice", "accept", second_order["innerId"]) == 0
        order_poller.lambda_handler(schedule_event(), POLLER())
        (proforma,) = innvoice.documents_mentioning(f"koppel:masodikbolt:{second_order['innerId']}")
        assert proforma.proforma and proforma.draft and proforma.pad == pad and proforma.emailed_to == ""
        assert second.violations == []
    finally:
        server.shutdown()


def test_a_link_setting_the_backoffice_cannot_take_is_refused_with_the_reason(shop_and_invoices, capsys):
    capsys.readouterr()
    code = run_cli("link", "put", LINK, "backoffice_settings.draft=true", "backoffice_settings.email_buyer=true")
    assert code == 2
    assert "email_buyer cannot be on with draft" in capsys.readouterr().err
    assert wiring.config_store().get_link(LINK).backoffice_settings == {}


def test_a_second_shop_of_the_same_system_needs_its_own_reference_only_when_both_book_orders(
    shop_and_invoices, stack, capsys
):
    stack.add_account(
        "stock-only-shop",
        "shoprenter",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"shop_name": "harmadik"},
    )
    base = ["link", "put", "stock-only", "backoffice=invoices", "channel=stock-only-shop", "--later"]
    # a link that books no orders cannot confuse order numbers: accepted as it is
    assert run_cli(*base[:-1], "flows.orders=false", "--later") == 0
    capsys.readouterr()
    # switching its orders on would: refused, naming the link it would collide with and the fix
    assert run_cli("link", "on", "stock-only", "orders") == 2
    err = capsys.readouterr().err
    assert LINK in err and "reference=" in err
    assert wiring.config_store().get_link("stock-only").flows.orders is False


def test_a_new_webhook_secret_takes_over_and_the_old_url_works_until_it_is_removed(shop_and_invoices, stack, capsys):
    innvoice, shop = shop_and_invoices
    old = path_of(webhook_url(capsys))
    assert path_of(webhook_url(capsys)) == old  # asking again shows the same address
    capsys.readouterr()
    assert run_cli("account", "webhook-url", SHOP, "--new") == 0
    new = path_of(capsys.readouterr().out.strip())
    assert new != old
    first = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING)
    second = shop.add_order([("BOGRE-1", 1, "3990")], status_id=PROCESSING)

    assert post(old, shop.webhook_body(first["innerId"]))["status"] == 200  # Shoprenter not updated yet
    assert post(new, shop.webhook_body(second["innerId"]))["status"] == 200
    work(stack)
    assert len(documents_for(innvoice, first["innerId"])) == len(documents_for(innvoice, second["innerId"])) == 1

    # once the merchant has entered the new address, the old secret is removed and its URL refused
    assert run_cli("account", "secret", SHOP, "previous_webhook_secret=") == 0
    wiring.reset()
    assert post(old, shop.webhook_body(first["innerId"]))["status"] == 401
