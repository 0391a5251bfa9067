"""bol.com → Shopify order import through the simulators, 50 ms per call, under bol's rate limit.

Prints orders/min, the share of bol's order-detail rate limit the run used, and what that means
for the target: 10,000 open orders within one 15-minute poller run (and >= 90 % of the limit).

The run is the real flow (`OrderImport`, the order poller's logic) with its default concurrency,
connectors over httpx to the simulators in-process, and the koppel table in moto in-process.
Set BENCH_ORDERS (default 600) and BENCH_LIMIT (bol order-detail calls per second, default 15).
"""

from __future__ import annotations

import os
import sys
import time
from decimal import Decimal

from koppel_local.provision import offline_environment

os.environ.update(offline_environment())

import httpx

from koppel import wiring
from koppel.config import Account, Link
from koppel.connectors.bol import connector as bol
from koppel.connectors.shopify import connector as shopify
from koppel.flows.orders import OrderImport
from koppel_local.provision import embedded_aws, function_environment
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem
from koppel_local.simulators.shopify import ShopifySimulator

ORDERS = int(os.environ.get("BENCH_ORDERS", "600"))
LIMIT = float(os.environ.get("BENCH_LIMIT", "15"))
LATENCY = 0.050
TARGET_ORDERS, TARGET_SECONDS = 10_000, 15 * 60
PRODUCTS = [(f"87123450{n:05d}", f"SKU-{n:03d}") for n in range(40)]


def main() -> None:
    bol_sim = BolSimulator(
        latency_seconds=LATENCY,
        validate=False,
        rate_limits={"order": RateLimit(int(LIMIT), 1.0)},
        rate_limit=RateLimit(1000, 1.0),
    )
    # A Shopify Plus bucket (restore 1000 points/s): bol's limit, not Shopify's, is what is measured here.
    shop_sim = ShopifySimulator(latency=LATENCY, validate=False, bucket_size=20_000, restore_rate=1_000)
    for ean, sku in PRODUCTS:
        shop_sim.add_variant(sku, barcode=ean, title=sku, price="9.95", inventory=1_000_000)
    for n in range(ORDERS):
        ean, _ = PRODUCTS[n % len(PRODUCTS)]
        bol_sim.add_dutch_order(items=[SimItem(ean=ean, title="bench item", unit_price=Decimal("9.95"))])

    with embedded_aws("bench") as template:
        os.environ.update(function_environment(template))
        wiring.reset()
        link = Link(link_id="bench", backoffice="shop", channel="bol-nl")
        bol_account = Account(
            account_id="bol-nl",
            system="bol",
            secret_ref="koppel/bol",
            settings={"base_url": "http://bol.sim", "token_url": "http://bol.sim/token"},
        )
        shop_account = Account(
            account_id="shop",
            system="shopify",
            secret_ref="koppel/shop",
            settings={"shop_domain": "bench.myshopify.com", "base_url": "http://shop.sim"},
        )
        limits = httpx.Limits(max_connections=64)
        flow = OrderImport(
            link=link,
            source=bol.from_account(
                bol_account,
                {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
                httpx.Client(transport=httpx.WSGITransport(app=bol_sim), limits=limits),
            ),
            sink=shopify.from_account(
                shop_account,
                {"access_token": shop_sim.access_token},
                httpx.Client(transport=httpx.WSGITransport(app=shop_sim), limits=limits),
            ),
            orders=wiring.order_links(),
            mappings=wiring.sku_mappings(),
            cursors=wiring.cursors(),
            channel="bol",
            run_id="bench",
        )
        start = time.perf_counter()
        report = flow.run()
        elapsed = time.perf_counter() - start

    created = len(report.created)
    detail_calls = len(bol_sim.calls("order"))
    throttled = sum(1 for call in bol_sim.request_log if call.status == 429)
    per_minute = created / elapsed * 60
    used = detail_calls / elapsed / LIMIT
    needed = TARGET_ORDERS / (created / elapsed)
    print(
        f"order import: {ORDERS} open bol.com orders -> Shopify, {LATENCY * 1000:.0f} ms per call, "
        f"concurrency {link.orders.concurrency}"
    )
    print(f"  created {created} in {elapsed:.1f} s: {per_minute:.0f} orders/min")
    print(
        f"  bol order-detail limit {LIMIT:.0f}/s (baseline): used {used:.0%} of it "
        f"({detail_calls} calls, {throttled} answered 429)   target >= 90%"
    )
    print(
        f"  10,000 orders at this pace: {needed / 60:.1f} min   target <= 15 min in one run "
        f"({'met' if needed <= TARGET_SECONDS else 'not met'})"
    )
    if created != ORDERS or report.waiting:
        print(f"  UNEXPECTED: {ORDERS - created} orders not created; waiting: {len(report.waiting)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
