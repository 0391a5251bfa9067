"""Stock to Copernicus: a SKU it answers it does not list is refused as not on the channel, the rest are
taken; a 2xx with no such answer takes the whole batch, as before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import queue_worker
import stock_pusher
from helpers import Invocation, serve
from scenarios import envelope, sqs_event
from werkzeug.wrappers import Response

from koppel import cli, wiring
from koppel.config import Account, Link
from koppel.connectors.base import StockUpdate
from koppel.connectors.generic.outgoing_webhook import from_account
from koppel.flows.stock import NOT_ON_CHANNEL
from koppel_local.simulators.copernicus import CopernicusSimulator

SIGNING_SECRET = "koppel-signs-stock-with-this"  # made up for the tests
OBSERVED = "2026-11-21T13:00:00.000000Z"
WORKER, PUSHER = Invocation("QueueWorkerFunction", 60), Invocation("StockPusherFunction", 60)
NOT_LISTED = "not on the channel: Copernicus does not list this SKU; add it there, koppel pushes on the next change"


def connector(system: str, app: Any) -> Any:
    account = Account(
        account_id=system,
        system=system,
        secret_ref=f"koppel/{system}",
        settings={"stock_url": "https://copernicus.test/stock"},
    )
    client = httpx.Client(transport=httpx.WSGITransport(app=app))
    return from_account(account, {"signing_secret": SIGNING_SECRET}, client)


def updates(*skus: str) -> list[StockUpdate]:
    return [StockUpdate(sku=sku, quantity=n + 1, channel_ref=sku, observed_at=OBSERVED) for n, sku in enumerate(skus)]


def test_skus_copernicus_does_not_list_are_refused_as_not_on_the_channel_and_the_rest_taken():
    copernicus = CopernicusSimulator(secret=SIGNING_SECRET)
    copernicus.list_product("MUG-BLUE-350", "Stoneware mug, blue", "14.95 EUR")
    copernicus.list_product("TEA-ROOIBOS", "Rooibos tea", "6.49 EUR")

    results = connector("winkelstraat", copernicus).push_stock(updates("MUG-BLUE-350", "GHOST-1", "TEA-ROOIBOS"))

    assert [(r.sku, r.accepted, r.retryable, r.error) for r in results] == [
        ("MUG-BLUE-350", True, False, ""),
        ("GHOST-1", False, False, NOT_LISTED),
        ("TEA-ROOIBOS", True, False, ""),
    ]
    assert copernicus.stock == {"MUG-BLUE-350": 1, "TEA-ROOIBOS": 3}
    # the person is told what to do in the same words as for a SKU koppel finds missing itself
    assert NOT_ON_CHANNEL.endswith(NOT_LISTED.split("; ", 1)[1])


def answering(status: int, body: bytes, content_type: str = "application/json") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(body, status=status, content_type=content_type)(environ, start_response)

    return app


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (204, b""),
        (200, b"OK"),
        (200, b'{"status": "accepted"}'),
        (200, b'{"unknown_skus": "GHOST-1"}'),
        (202, b'["GHOST-1"]'),
        (200, b"\xff\xfe not text"),
    ],
    ids=["no-body", "text", "other-json", "not-a-list", "a-list", "not-utf8"],
)
def test_a_2xx_without_a_list_of_unknown_skus_takes_the_whole_batch(status: int, body: bytes):
    results = connector("winkelstraat", answering(status, body)).push_stock(updates("MUG-BLUE-350", "GHOST-1"))
    assert [(r.sku, r.accepted) for r in results] == [("MUG-BLUE-350", True), ("GHOST-1", True)]


def test_a_generic_partner_naming_unknown_skus_is_named_as_the_partner():
    app = answering(200, b'{"unknown_skus": ["GHOST-1", 7, "NOT-SENT"]}')
    results = connector("generic", app).push_stock(updates("MUG-BLUE-350", "GHOST-1"))
    assert [(r.sku, r.accepted, r.error) for r in results] == [
        ("MUG-BLUE-350", True, ""),
        ("GHOST-1", False, NOT_LISTED.replace("Copernicus", "the partner")),
    ]


def test_an_error_answer_is_about_the_whole_batch_even_if_it_names_skus():
    app = answering(422, b'{"unknown_skus": ["GHOST-1"]}')
    results = connector("winkelstraat", app).push_stock(updates("MUG-BLUE-350", "GHOST-1"))
    assert [(r.accepted, r.retryable) for r in results] == [(False, True), (False, True)]


# --- through the deployed pusher, as `koppel stock` shows it -------------------------------------
@pytest.fixture
def copernicus(local_state, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")
    wiring.reset()
    sim = CopernicusSimulator(secret=SIGNING_SECRET)
    sim.list_product("MUG-BLUE-350", "Stoneware mug, blue", "14.95 EUR", 7)  # as its last feed gave it
    url, server = serve(sim)
    local_state.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    local_state.add_account(
        "winkelstraat", "winkelstraat", {"signing_secret": SIGNING_SECRET}, settings={"stock_url": url + "/stock"}
    )
    wiring.config_store().put_link(
        Link(link_id="pos-to-ws", backoffice="korona-pos", channel="winkelstraat", flows={"orders": False})
    )
    yield sim
    server.shutdown()
    assert sim.refused == []


def push(stack) -> None:
    messages = stack.queued("StockPushQueue")
    assert stock_pusher.lambda_handler(sqs_event(*[m["Body"] for m in messages]), PUSHER()) == {"batchItemFailures": []}


def test_a_sku_copernicus_does_not_list_shows_as_not_on_the_channel_until_it_lists_it(local_state, copernicus, capsys):
    # WHEN the POS reports a listed SKU and one Copernicus's feed did not carry, and the pusher runs
    levels = [
        {"sku": "MUG-BLUE-350", "on_hand": 5, "observed_at": "2026-11-21T13:00:00Z"},
        {"sku": "LOOSE-LID", "on_hand": 2, "observed_at": "2026-11-21T13:00:00Z"},
    ]
    queue_worker.lambda_handler(sqs_event(envelope(levels)), WORKER())
    push(local_state)
    # THEN the listed one is sold, the other kept with the reason, not retried
    assert copernicus.stock == {"MUG-BLUE-350": 5}
    lid = wiring.stock_store().get("pos-to-ws", "LOOSE-LID")
    assert (lid.pending, lid.pushed, lid.push_error) == (False, None, NOT_LISTED)
    assert local_state.queued("StockPushQueue") == []
    capsys.readouterr()
    assert cli.main(["--local", "stock", "pos-to-ws"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("LOOSE-LID")]
    assert "not on the channel" in line and "refused: not on the channel: Copernicus does not list" in line
    # WHEN Copernicus lists it from its next feed and the SKU changes, THEN it goes out
    copernicus.list_product("LOOSE-LID", "Loose lid", "3.95 EUR")
    later = [{"sku": "LOOSE-LID", "on_hand": 3, "observed_at": "2026-11-21T14:00:00Z"}]
    queue_worker.lambda_handler(sqs_event(envelope(later)), WORKER())
    push(local_state)
    assert copernicus.stock == {"MUG-BLUE-350": 5, "LOOSE-LID": 3}
