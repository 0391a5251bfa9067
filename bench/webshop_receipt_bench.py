"""Webshop order → KORONA receipt in the local runtime: a signed Shopify `orders/create` posted to
the webhook route, queued, processed by the queue worker and booked as a receipt at the KORONA
simulator's point of sale. Prints the median and p99 over 200 orders of the whole way (webhook
received → receipt booked), with the webhook receiver's own answer time as the baseline.

The local runtime is the one `make demo` uses: moto server, the deployed handlers, the simulator
on 127.0.0.1. The queue worker is fed as soon as the receiver answered (as Lambda's event source
mapping would, without its polling delay), so the figure is koppel's own work per order.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import statistics
import sys
import threading
import time

import httpx
from werkzeug.serving import make_server

from koppel import cli
from koppel_local.demo import TILL_COUPLING_ID, till_commands
from koppel_local.runtime import LocalCloud
from koppel_local.serve import korona_simulator
from koppel_local.signing import shopify_headers

os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # the handlers' metric lines, not the figures

ORDERS = 200
SECRET = "bench-webshop-secret"


def quietly(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if cli.main(["--local", *argv]) != 0:
            raise SystemExit(f"koppel {' '.join(argv)} failed")


def order(number: int) -> dict:
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "id": 900000 + number,
        "name": f"#{number}",
        "currency": "EUR",
        "created_at": moment,
        "updated_at": moment,
        "taxes_included": True,
        "total_price": "44.95",
        "payment_gateway_names": ["ideal"],
        "line_items": [
            {"id": number * 10, "sku": "LAMP-OAK", "quantity": 1, "price": "39.95", "tax_lines": [{"rate": 0.21}]}
        ],
        "shipping_lines": [{"price": "5.00"}],
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sim = korona_simulator()
    server = make_server("127.0.0.1", 0, sim, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    unit = sim.add_unit("Webshop warehouse")
    sim.add_payment_method("1", "Cash")
    sim.add_payment_method("5", "iDEAL")
    till = sim.add_point_of_sale(unit, coupling_id=TILL_COUPLING_ID)
    sim.add_product("LAMP-OAK", "Table lamp")
    sim.add_product("SHIPPING", "Shipping", track_inventory=False)
    sim.set_stock("LAMP-OAK", unit, ORDERS * 2)
    with LocalCloud(log_level="CRITICAL") as cloud:
        api = cloud.serve_http()
        for argv in till_commands(sim, url, till, SECRET, "b.myshopify.com"):
            quietly(*argv)
        received: list[float] = []
        booked: list[float] = []
        with httpx.Client() as client:
            for number in range(-5, ORDERS):  # five to warm the containers, not counted
                body = json.dumps(order(number + 10)).encode()
                headers = shopify_headers(body, SECRET, topic="orders/create", shop_domain="b.myshopify.com")
                start = time.perf_counter()
                answer = client.post(f"{api}/webhooks/webshop", content=body, headers=headers)
                answered = time.perf_counter()
                cloud.drain_queues(rounds=1)
                done = time.perf_counter()
                if answer.status_code != 200 or len(sim.receipts_for(str(900000 + number + 10))) != 1:
                    raise SystemExit(f"order {number}: {answer.status_code} {answer.text}, not booked once")
                if number >= 0:
                    received.append((answered - start) * 1000)
                    booked.append((done - start) * 1000)
    server.shutdown()
    print(f"webshop order -> KORONA receipt, local runtime, {ORDERS} orders, one at a time")
    for what, times in (
        ("baseline, webhook receiver answers", received),
        ("webhook received -> receipt booked", booked),
    ):
        print(f"  {what}: median {statistics.median(times):7.1f} ms   p99 {percentile(times, 0.99):7.1f} ms")
    ratio = statistics.median(booked) / statistics.median(received)
    print(f"  ratio (median): {ratio:.1f}x the receiver's own time")
    left = sim.stock("LAMP-OAK", unit)
    print(f"  receipts in KORONA: {len(sim.receipts)} (5 warm-up); stock of LAMP-OAK {left} (from {ORDERS * 2})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
