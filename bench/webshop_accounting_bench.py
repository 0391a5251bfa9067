"""Magento → SnelStart order import through the simulators, 50 ms per call, under a SnelStart rate limit.

Prints orders/min, the share of SnelStart's rate limit the run used (the limit configured in the
simulator: SnelStart publishes none, its gateway answers 429 with Retry-After), the calls per order,
and what that means for a backlog of 10,000 webshop orders: how many 5-minute order-poller runs.

The run is the real path of the order poller for a polled webshop (`wiring.follow_webshop_orders`:
the changed-orders read, the keep, the claim, the customer lock, the sales order), connectors over
httpx to the simulators in-process, the koppel table and Secrets Manager in moto in-process. Every
order is a new customer with two lines, one discounted, and shipping: a relatie look-up, a relatie,
and a sales order each.
Set BENCH_ORDERS (default 2000; 10000 for the full backlog) and BENCH_LIMIT (SnelStart calls per
second, default 20).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from koppel_local.provision import offline_environment

os.environ.update(offline_environment())

import httpx

from koppel import aws, wiring
from koppel.config import Account, Link
from koppel_local.provision import embedded_aws, function_environment
from koppel_local.simulators.kit import RateLimit
from koppel_local.simulators.magento import DEMO_TOKEN, MagentoSimulator, item
from koppel_local.simulators.snelstart import DEMO_CLIENT_KEY, DEMO_SUBSCRIPTION_KEY, SnelStartSimulator

ORDERS = int(os.environ.get("BENCH_ORDERS", "2000"))
LIMIT = int(os.environ.get("BENCH_LIMIT", "20"))
LATENCY = 0.050
BACKLOG = 10_000
RUN_SECONDS = 5 * 60 - 60  # an order poller run, less the minute it keeps to hand over
ARTICLES = [(f"ART-{n:03d}", f"Article {n}") for n in range(40)]


def main() -> None:
    started = datetime.now(UTC)
    snelstart = SnelStartSimulator(contract=None, latency_seconds=LATENCY, rate_limit=RateLimit(LIMIT, 1.0))
    shop = MagentoSimulator(contract=None, latency_seconds=LATENCY, now=started - timedelta(hours=1))
    for code, title in [*ARTICLES, ("VERZEND", "Verzendkosten"), ("KORTING", "Korting")]:
        snelstart.add_article(code, title, "19.95", technical=1_000_000)
    for n in range(ORDERS):
        first, second = ARTICLES[n % len(ARTICLES)][0], ARTICLES[(n + 7) % len(ARTICLES)][0]
        shop.add_order(
            [item(first, 2, "19.95", discount="2.00"), item(second, 1, "19.95")],
            email=f"buyer{n}@example.nl",
            billing={"firstname": "Bench", "lastname": f"Buyer {n}", "postcode": f"{1000 + n % 9000} AB"},
        )
        if n % 50 == 49:
            shop.advance(1)

    with embedded_aws("bench") as template:
        os.environ.update(function_environment(template))
        wiring.reset()
        mounts = {
            "http://snelstart.sim": httpx.WSGITransport(app=snelstart),
            "http://magento.sim": httpx.WSGITransport(app=shop),
        }
        client = httpx.Client(mounts=mounts, limits=httpx.Limits(max_connections=64))
        wiring.http_client = lambda: client  # type: ignore[assignment] - the in-process simulators
        store = wiring.config_store()
        secrets = aws.client("secretsmanager")
        for account, secret in (
            (
                Account(
                    account_id="books",
                    system="snelstart",
                    secret_ref="koppel/books",
                    settings={
                        "base_url": "http://snelstart.sim/v2",
                        "token_url": "http://snelstart.sim/b2b/token",
                        "shipping_article": "VERZEND",
                        "discount_article": "KORTING",
                    },
                ),
                {"subscription_key": DEMO_SUBSCRIPTION_KEY, "client_key": DEMO_CLIENT_KEY},
            ),
            (
                Account(account_id="shop", system="magento", secret_ref="koppel/shop",
                        settings={"base_url": "http://magento.sim", "page_size": 100}),
                {"access_token": DEMO_TOKEN},
            ),
        ):  # fmt: skip
            store.put_account(account)
            secrets.create_secret(Name=account.secret_ref, SecretString=json.dumps(secret))
        link = Link(link_id="bench", backoffice="books", channel="shop", flows={"tracking": False, "stock": False})
        store.put_link(link)

        begin = time.perf_counter()
        runs = 0
        while len(snelstart.verkooporders) < ORDERS and runs < 50:
            runs += 1
            summary = wiring.follow_webshop_orders(link, f"bench-{runs}", lambda: False)
        elapsed = time.perf_counter() - begin

    created = len(snelstart.verkooporders)
    calls = [call for call in snelstart.request_log if call.group != "token"]
    throttled = sum(1 for call in calls if call.status == 429)
    answered = len(calls) - throttled
    per_order = answered / max(created, 1)
    per_second = created / elapsed
    best = LIMIT / per_order  # orders per second the limit allows at this many calls per order
    print(
        f"webshop orders: {ORDERS} Magento orders of new customers -> SnelStart, {LATENCY * 1000:.0f} ms per call, "
        f"concurrency {link.orders.concurrency}, {runs} poller run(s)"
    )
    print(f"  {created} sales orders, {len(snelstart.relaties)} relaties in {elapsed:.1f} s: {per_second * 60:.0f}/min")
    print(
        f"  SnelStart limit {LIMIT}/s (the simulator's; SnelStart publishes none) = the baseline: "
        f"{answered / elapsed / LIMIT:.0%} of it used ({per_order:.1f} calls per order, {throttled} answered 429)"
    )
    print(f"  the limit allows at best {best * 60:.0f} orders/min; this run reached {per_second / best:.0%} of that")
    print(
        f"  {BACKLOG:,} orders at this pace: {BACKLOG / per_second / 60:.1f} min, "
        f"{BACKLOG / (per_second * RUN_SECONDS):.1f} order-poller runs of {RUN_SECONDS // 60} min"
    )
    if created != ORDERS or len(snelstart.relaties) != ORDERS:
        print(
            f"  UNEXPECTED: {created} sales orders, {len(snelstart.relaties)} relaties for {ORDERS} orders; {summary}"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
