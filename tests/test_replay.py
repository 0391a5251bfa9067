"""`koppel parked replay` and `koppel dead-letters`: what waited handed on, never acted on twice, nothing lost.

A parked Shopify order goes to the webshop order flow once it exists and becomes one KORONA receipt however
often it is replayed; a dead-lettered stock push goes back to the stock push queue and reaches the channel
once; a dead letter is deleted only after it was sent back; `show` hides what names a secret.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from test_stock import deliver as deliver_stock
from test_stock import mutation, push
from test_stock import partner as stock_partner
from test_webshop_orders import LINK as SHOP_LINK
from test_webshop_orders import deliver, shop_order
from test_webshop_orders import till as korona_till

from koppel import cli, wiring
from koppel.config import Flow
from koppel.ports.orders import OrderState
from koppel.queue import Envelope
from koppel.store.dead_letters import SqsDeadLetters

# The stock channel (a partner taking stock by webhook) and the KORONA till of those tests, as fixtures here.
partner = stock_partner
till = korona_till


def run_cli(*argv: str) -> int:
    return cli.main(["--local", *argv])


def without_orders_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue worker as it was before koppel had an order flow for this webshop: orders are parked."""
    handlers = {flow: handler for flow, handler in wiring.inbound_handlers().items() if flow is not Flow.ORDERS}
    monkeypatch.setattr(wiring, "inbound_handlers", lambda: handlers)


# --- parked deliveries ---------------------------------------------------------------------------
@pytest.fixture
def parked_order(till, local_state, context, monkeypatch):
    with monkeypatch.context() as before:
        without_orders_flow(before)
        deliver(context, "orders/create", shop_order())
    [(envelope, reason)] = wiring.parked_deliveries().waiting(SHOP_LINK)
    assert reason == "orders/create from shopify has no orders handler yet"
    assert till.receipts("7001") == []
    return envelope


def test_a_parked_order_replayed_once_its_flow_exists_is_one_receipt(till, parked_order, capsys):
    capsys.readouterr()
    assert run_cli("parked", "replay", SHOP_LINK) == 0
    out = capsys.readouterr().out
    assert parked_order.event_id in out and "handled" in out
    assert out.rstrip().endswith("1 handled and out of the parked list, 0 still parked")
    [receipt] = till.receipts("7001")
    assert wiring.order_links().get(SHOP_LINK, "7001").backoffice_name == receipt["number"]
    assert wiring.parked_deliveries().waiting(SHOP_LINK) == []
    assert till.stock("MUG-1") == 7


def test_replaying_a_parked_order_twice_still_books_it_once(till, parked_order, capsys):
    assert run_cli("parked", "replay", SHOP_LINK, parked_order.event_id) == 0
    # GIVEN the same delivery parked once more (a replay that ended before it could take it off the list)
    wiring.parked_deliveries().park(SHOP_LINK, parked_order, "replayed before")
    capsys.readouterr()
    assert run_cli("parked", "replay", SHOP_LINK, "--json") == 0
    [outcome] = json.loads(capsys.readouterr().out)
    assert (outcome["item"], outcome["result"]) == (parked_order.event_id, "handled")
    assert "is booked as" in outcome["detail"]  # what the flow says of the order: booked already
    assert len(till.receipts("7001")) == 1
    assert till.stock("MUG-1") == 7
    assert wiring.order_links().get(SHOP_LINK, "7001").state is OrderState.CREATED
    assert wiring.parked_deliveries().waiting(SHOP_LINK) == []


def test_a_parked_delivery_still_without_its_flow_stays_parked_with_its_reason(parked_order, monkeypatch, capsys):
    without_orders_flow(monkeypatch)
    capsys.readouterr()
    assert run_cli("parked", "replay", SHOP_LINK) == 0
    out = capsys.readouterr().out
    assert "parked" in out and "has no orders handler yet" in out
    assert out.rstrip().endswith("0 handled and out of the parked list, 1 still parked")
    [(kept, reason)] = wiring.parked_deliveries().waiting(SHOP_LINK)
    assert kept.event_id == parked_order.event_id and reason.endswith("has no orders handler yet")


# --- dead letters --------------------------------------------------------------------------------
def dead_letter(stack, logical_id: str, body: str, **attributes: str) -> None:
    stack.client("sqs").send_message(
        QueueUrl=stack.ref(logical_id),
        MessageBody=body,
        **(
            {"MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}}
            if attributes
            else {}
        ),
    )


def test_a_dead_lettered_stock_push_replayed_reaches_the_channel_once(stack, partner, local_state, context, capsys):
    # GIVEN a stock push the pusher gave up on (the partner was down), moved to the dead-letter queue by SQS
    deliver_stock(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    [message] = stack.queued("StockPushQueue")
    stack.client("sqs").delete_message(QueueUrl=stack.ref("StockPushQueue"), ReceiptHandle=message["ReceiptHandle"])
    dead_letter(stack, "StockPushDeadLetterQueue", message["Body"])
    capsys.readouterr()
    assert run_cli("dead-letters", "list", "--json") == 0
    counts = {row["queue"]: row["messages"] for row in json.loads(capsys.readouterr().out)}
    assert counts == {"events": 0, "stock-pushes": 1, "failed-runs": 0}
    # WHEN it is replayed, twice, and the pusher runs after each
    assert run_cli("dead-letters", "replay", "stock-pushes") == 0
    out = capsys.readouterr().out
    assert "replayed" in out and out.rstrip().endswith("1 sent back to StockPushQueue, 0 left")
    push(stack, context)
    assert run_cli("dead-letters", "replay", "stock-pushes") == 0
    assert capsys.readouterr().out.strip() == "no dead letters in stock-pushes"
    push(stack, context)
    # THEN the channel got the stock once, and the dead-letter queue is empty
    assert partner.stock == {"MUG": 6}
    assert len(partner.deliveries) == 1
    assert stack.queued("StockPushDeadLetterQueue") == []


def envelope_with_secrets() -> Envelope:
    body = {"event": "init", "api_key": "sk-live-123", "hook": {"token": "hook-456"}, "shop": "Winkel"}
    return Envelope(
        account_id="storekeeper-main",
        system="storekeeper",
        topic="init",
        event_id=str(uuid.uuid4()),
        dedupe_key="storekeeper:x",
        received_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        body=json.dumps(body),
    )


def test_a_dead_letter_is_shown_readably_without_its_secrets(stack, local_state, capsys):
    dead_letter(stack, "EventDeadLetterQueue", envelope_with_secrets().model_dump_json(), topic="init")
    capsys.readouterr()
    assert run_cli("dead-letters", "show", "events") == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["body"]["body"] == {
        "event": "init",
        "api_key": "(hidden)",
        "hook": {"token": "(hidden)"},
        "shop": "Winkel",
    }
    assert "sk-live-123" not in out and "hook-456" not in out
    assert shown["attributes"] == {"topic": "init"}
    assert len(stack.queued("EventDeadLetterQueue")) == 1  # showing it left it there


def test_a_replayed_delivery_goes_back_to_the_event_queue_whole(stack, local_state, capsys):
    letter = envelope_with_secrets().model_dump_json()
    dead_letter(stack, "EventDeadLetterQueue", letter, topic="init", account_id="storekeeper-main")
    assert run_cli("dead-letters", "replay", "events") == 0
    [back] = stack.client("sqs").receive_message(
        QueueUrl=stack.ref("EventQueue"), MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert back["Body"] == letter
    assert {k: v["StringValue"] for k, v in back["MessageAttributes"].items()} == {
        "topic": "init",
        "account_id": "storekeeper-main",
    }
    assert stack.queued("EventDeadLetterQueue") == []


def test_a_dead_letter_whose_send_fails_stays_in_the_dead_letter_queue(stack, local_state, monkeypatch, capsys):
    dead_letter(stack, "EventDeadLetterQueue", envelope_with_secrets().model_dump_json())

    def refused(self, letter):
        raise ConnectionError("no route to SQS")

    monkeypatch.setattr(SqsDeadLetters, "resend", refused)
    capsys.readouterr()
    assert run_cli("dead-letters", "replay", "events") == 0
    out = capsys.readouterr().out
    assert "not sent (ConnectionError); left in the dead-letter queue" in out
    assert out.rstrip().endswith("0 sent back to EventQueue, 1 left")
    assert len(stack.queued("EventDeadLetterQueue")) == 1
    assert stack.queued("EventQueue") == []


def test_a_long_replay_shows_its_progress(stack, local_state, capsys):
    for _ in range(12):
        dead_letter(stack, "EventDeadLetterQueue", envelope_with_secrets().model_dump_json())
    capsys.readouterr()
    assert run_cli("dead-letters", "replay", "events") == 0
    err = capsys.readouterr().err
    assert "replayed: 10/12" in err and "replayed: 12/12" in err
    assert len(stack.queued("EventQueue")) == 12


@pytest.mark.parametrize(
    ("argv", "wrong", "usage"),
    [
        (["parked", "replay"], "name the link: koppel parked replay LINK", "koppel parked"),
        (["parked", "replay", "nope"], "no link 'nope'", "koppel parked"),
        (
            ["parked", "replay", SHOP_LINK, "evt-nope"],
            f"no delivery parked for {SHOP_LINK} as evt-nope",
            "koppel parked",
        ),
        (["parked", SHOP_LINK, "evt-1"], "event ids go with replay", "koppel parked"),
        (["dead-letters", "replay", "nope"], "no dead-letter queue 'nope'", "koppel dead-letters replay"),
        (["dead-letters", "replay", "failed-runs"], "failed-runs are not replayed", "koppel dead-letters replay"),
        (["dead-letters", "replay", "events", "m-1"], "no dead letter m-1", "koppel dead-letters replay"),
        (["dead-letters", "show", "events", "m-1"], "no dead letter m-1", "koppel dead-letters show"),
        (["dead-letters", "show"], "the following arguments are required: QUEUE", "koppel dead-letters show"),
        (["dead-letters", "purge", "events"], "invalid choice: 'purge'", "koppel dead-letters"),
    ],
)
def test_a_wrong_use_of_replay_is_one_line_and_the_usage(till, local_state, capsys, argv, wrong, usage):
    capsys.readouterr()
    assert run_cli(*argv) == 2
    said, *rest = capsys.readouterr().err.rstrip("\n").splitlines()
    assert said.startswith("error: ") and wrong in said
    assert rest and rest[0].startswith(f"usage: {usage}")
