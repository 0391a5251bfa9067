"""Load on the local API: signed deliveries from concurrent clients to the local runtime on 127.0.0.1.

A bounded run (BENCH_DELIVERIES, default 2,000, from BENCH_CLIENTS, default 20, clients at once) to
the HTTP server `make local` serves, with moto server behind it and the queue worker draining as it
goes: Shopify-signed `orders/create` webhooks from a webshop (each booked as a receipt at the KORONA
simulator's till), koppel-signed `stock.changed` webhooks from a KORONA backoffice (each SKU's level
in koppel's stock store), some of both re-sent as senders do, and some badly signed.

It ends when the queues are empty, and checks that every delivery was acknowledged (200) or refused
(401) as it should be, that none was lost (every accepted order booked, every SKU at its level) and
that none went downstream twice (one receipt per order, however often it was sent).

Prints acknowledgements per second and the p50/p99 answer time, beside the same handler called
in-process (the webhook receiver's `lambda_handler` with the same API Gateway events, one caller, the
same moto server), so the local runtime's own overhead — its HTTP server, the event it builds, one
container per function — is visible.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from werkzeug.serving import make_server

from koppel import cli
from koppel_local.demo import TILL_COUPLING_ID, till_commands
from koppel_local.runtime import LambdaContext, LocalCloud
from koppel_local.serve import korona_simulator
from koppel_local.signing import koppel_headers, shopify_headers

os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # the handlers' metric lines, not the figures

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "2000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
IN_PROCESS = int(os.environ.get("BENCH_IN_PROCESS", "400"))
SHOP_SECRET = "bench-webshop-secret"
POS_SECRET = "bench-pos-secret"
SHOP_DOMAIN = "b.myshopify.com"
SKUS = 50
# Of every 20 deliveries: orders new, re-sent, badly signed; stock new, re-sent, badly signed.
MIX = (("order", 9), ("order-again", 2), ("order-forged", 2), ("stock", 4), ("stock-again", 1), ("stock-forged", 2))


@dataclass
class Delivery:
    kind: str
    path: str
    body: bytes
    headers: dict[str, str]
    expected: int
    order_id: str = ""
    sku: str = ""
    quantity: int = 0


def quietly(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if cli.main(["--local", *argv]) != 0:
            raise SystemExit(f"koppel {' '.join(argv)} failed")


def order(order_id: int) -> bytes:
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps(
        {
            "id": order_id,
            "name": f"#{order_id}",
            "currency": "EUR",
            "created_at": moment,
            "updated_at": moment,
            "taxes_included": True,
            "total_price": "44.95",
            "payment_gateway_names": ["ideal"],
            "line_items": [
                {"id": order_id * 10, "sku": "LAMP-OAK", "quantity": 1, "price": "39.95", "tax_lines": [{"rate": 0.21}]}
            ],
            "shipping_lines": [{"price": "5.00"}],
        }
    ).encode()


def stock(sku: str, quantity: int, observed: datetime) -> bytes:
    stamp = observed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"sku": sku, "quantity": quantity, "observed_at": stamp}).encode()


def deliveries(n: int, first_order: int) -> list[Delivery]:
    """`n` deliveries in the mix's proportions; a re-send repeats an earlier delivery byte for byte."""
    kinds = [kind for kind, share in MIX for _ in range(share)]
    made: list[Delivery] = []
    orders: list[Delivery] = []
    levels: list[Delivery] = []
    observed = datetime.now(UTC) - timedelta(hours=1)
    for seq in range(n):
        kind = kinds[seq % len(kinds)]
        if kind == "order-again" and orders:
            made.append(orders[seq % len(orders)])
            continue
        if kind == "stock-again" and levels:
            made.append(levels[seq % len(levels)])
            continue
        if kind.startswith("order"):
            order_id = first_order + seq
            body = order(order_id)
            headers = shopify_headers(body, SHOP_SECRET, topic="orders/create", shop_domain=SHOP_DOMAIN)
            if kind == "order-forged":
                headers["X-Shopify-Hmac-Sha256"] = base64.b64encode(b"\0" * 32).decode()
                made.append(Delivery(kind, "/webhooks/webshop", body, headers, 401))
                continue
            delivery = Delivery(kind, "/webhooks/webshop", body, headers, 200, order_id=str(order_id))
            orders.append(delivery)
        else:
            observed += timedelta(milliseconds=1)  # each level newer than the one before
            sku, quantity = f"SKU-{seq % SKUS:03d}", seq % 97
            body = stock(sku, quantity, observed)
            headers = koppel_headers(body, POS_SECRET, topic="stock.changed")
            if kind == "stock-forged":
                headers["X-Koppel-Signature"] = "v1=" + "0" * 64
                made.append(Delivery(kind, "/webhooks/pos", body, headers, 401))
                continue
            delivery = Delivery(kind, "/webhooks/pos", body, headers, 200, sku=sku, quantity=quantity)
            levels.append(delivery)
        made.append(delivery)
    return made


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def send_all(api: str, todo: list[Delivery], clients: int) -> tuple[list[tuple[Delivery, int, float]], float]:
    """Every delivery posted once, `clients` at a time; (delivery, status, seconds) each, and the wall time.

    Run in a process of its own, so the clients' work does not share the runtime's interpreter."""
    waiting: queue.Queue[Delivery] = queue.Queue()
    for delivery in todo:
        waiting.put(delivery)
    answers: list[tuple[Delivery, int, float]] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=api, timeout=60) as http:
            while True:
                try:
                    delivery = waiting.get_nowait()
                except queue.Empty:
                    return
                start = time.perf_counter()
                try:
                    status = http.post(delivery.path, content=delivery.body, headers=delivery.headers).status_code
                except httpx.TransportError:
                    status = 0  # lost on the way: counted against the run
                with lock:
                    answers.append((delivery, status, time.perf_counter() - start))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, time.perf_counter() - start


def in_process(cloud: LocalCloud, todo: list[Delivery]) -> tuple[list[float], float, int]:
    """The receiver's handler called directly with the events the runtime would build, one at a time."""
    fn = cloud.functions["WebhookReceiverFunction"]
    sys.path.append(str(fn.code_dir))
    from importlib import import_module

    handler = getattr(import_module(fn.module), fn.attribute)
    for delivery in todo[:20]:  # warm: the first call imports and builds its clients
        call(cloud, handler, fn, delivery)
    todo = todo[20:]
    times: list[float] = []
    wrong = 0
    start = time.perf_counter()
    for delivery in todo:
        began = time.perf_counter()
        status = call(cloud, handler, fn, delivery)
        times.append(time.perf_counter() - began)
        wrong += status != delivery.expected
    return times, time.perf_counter() - start, wrong


def call(cloud: LocalCloud, handler: Any, fn: Any, delivery: Delivery) -> int:
    """One delivery through the handler, with the API Gateway event the runtime builds for it."""
    account = delivery.path.rsplit("/", 1)[1]
    event = cloud.http_event(
        "POST", delivery.path, "", delivery.headers, delivery.body, "/webhooks/{account_id}", {"account_id": account}
    )
    return int(handler(event, LambdaContext(function_name=fn.logical_id, timeout=fn.timeout))["statusCode"])


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    korona = korona_simulator()
    server = make_server("127.0.0.1", 0, korona, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    korona_url = f"http://127.0.0.1:{server.server_port}"
    unit = korona.add_unit("Webshop warehouse")
    korona.add_payment_method("1", "Cash")
    korona.add_payment_method("5", "iDEAL")
    till = korona.add_point_of_sale(unit, coupling_id=TILL_COUPLING_ID)
    korona.add_product("LAMP-OAK", "Table lamp")
    korona.add_product("SHIPPING", "Shipping", track_inventory=False)
    korona.set_stock("LAMP-OAK", unit, DELIVERIES * 2)
    with LocalCloud(log_level="CRITICAL") as cloud:
        api = cloud.serve_http()
        for argv in till_commands(korona, korona_url, till, SHOP_SECRET, SHOP_DOMAIN):
            quietly(*argv)
        quietly("account", "put", "pos", "system=korona", "secret_ref=koppel/pos")
        quietly("account", "secret", "pos", f"webhook_secret={POS_SECRET}")
        quietly(
            "link", "put", "pos-to-shop", "backoffice=pos", "channel=webshop", "flows.orders=false",
            "flows.tracking=false", "--later",
        )  # fmt: skip

        # The same handler in-process first (its own orders, not counted below), one caller.
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metric lines
            baseline, baseline_wall, baseline_wrong = in_process(cloud, deliveries(IN_PROCESS, 500_000))
            cloud.drain_queues(rounds=10_000)

        worker = threading.Thread(target=cloud.run_forever, kwargs={"poll_seconds": 0.2, "schedules": False})
        worker.start()  # the queues drained while the load runs, as `make local` does
        todo = deliveries(DELIVERIES, 1_000_000)
        with (
            contextlib.redirect_stdout(io.StringIO()),
            multiprocessing.get_context("spawn").Pool(1) as clients,
        ):
            answers, wall = clients.apply(send_all, (api, todo, CLIENTS))
            drained = time.perf_counter()
            while cloud.drain_queues(rounds=100):
                pass
            cloud._stop.set()
            worker.join()
            drain = time.perf_counter() - drained

        from koppel import wiring

        levels = {}
        for delivery in todo:
            if delivery.sku:
                levels[delivery.sku] = delivery.quantity  # the newest level of each SKU, as sent
        stored = wiring.stock_store()
        stock_wrong = sorted(
            sku for sku, quantity in levels.items() if (stored.level("pos-to-shop", sku) or (None,))[0] != quantity
        )
        sqs = cloud.client("sqs")
        dead = int(
            sqs.get_queue_attributes(
                QueueUrl=cloud.physical("EventDeadLetterQueue"), AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
    server.shutdown()

    wrong = [(d.kind, status) for d, status, _s in answers if status != d.expected]
    acknowledged = [seconds for d, status, seconds in answers if status == 200]
    refused = sum(1 for _d, status, _s in answers if status == 401)
    accepted_orders = {d.order_id for d, status, _s in answers if d.order_id and status == 200}
    receipts = {order_id: len(korona.receipts_for(order_id)) for order_id in accepted_orders}
    lost = sorted(order_id for order_id, count in receipts.items() if count == 0)
    twice = sorted(order_id for order_id, count in receipts.items() if count > 1)
    resent = len(todo) - len({id(d) for d in todo})
    every = [seconds for _d, _status, seconds in answers]

    print(
        f"local API under load: {len(todo)} signed deliveries from {CLIENTS} clients to {api} "
        f"(moto server, the deployed handlers, the queue worker draining)"
    )
    print(
        f"  {len(acknowledged)} acknowledged (200), {refused} refused (401), {len(wrong)} answered otherwise; "
        f"{resent} of them re-sent, {sum(1 for d in todo if d.kind.endswith('forged'))} badly signed"
    )
    print(
        f"  {len(acknowledged) / wall:.0f} acknowledgements/s ({len(every) / wall:.0f} answers/s) in {wall:.1f} s; "
        f"answer time p50 {percentile(every, 0.5) * 1000:.0f} ms, p99 {percentile(every, 0.99) * 1000:.0f} ms; "
        f"queues empty {drain:.1f} s after the last answer"
    )
    print(
        f"  baseline, the receiver's handler in-process, one caller: {len(baseline) / baseline_wall:.0f} deliveries/s, "
        f"p50 {percentile(baseline, 0.5) * 1000:.1f} ms, p99 {percentile(baseline, 0.99) * 1000:.1f} ms "
        f"({baseline_wrong} answered otherwise)"
    )
    per_delivery, alone = wall / len(every) * 1000, len(baseline) and baseline_wall / len(baseline) * 1000
    print(
        f"  local runtime's overhead: {per_delivery:.1f} ms of wall time per delivery over HTTP against "
        f"{alone:.1f} ms in-process ({per_delivery / alone:.1f}x)"
    )
    print(
        f"  downstream: {len(accepted_orders)} orders accepted, {len(accepted_orders) - len(lost)} booked at KORONA, "
        f"{len(lost)} lost, {len(twice)} booked twice; {len(levels)} SKUs, {len(stock_wrong)} not at their newest "
        f"level; {dead} in the dead-letter queue"
    )
    if wrong or lost or twice or stock_wrong or dead:
        print(f"  UNEXPECTED: answers {wrong[:5]}, lost {lost[:5]}, twice {twice[:5]}, stock {stock_wrong[:5]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
