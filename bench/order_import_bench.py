"""bol.com → Shopify order import in simulated time: 10,000 open orders in one order-poller run?

The run is the real flow (`OrderImport`, the order poller's logic) with the link's default
concurrency, the connectors over httpx to the bol.com and Shopify simulators in-process, and the
koppel table in moto in-process. Time is simulated: the run's clock, the connectors' waits, the
simulators' latency (50 ms a call), bol's fixed rate-limit windows, the token lifetime and the
poller's deadline all read one virtual clock, and nothing sleeps for real. A thread that waits
parks until every other worker waits too; then the clock jumps to the earliest wake-up. koppel's
own CPU time counts nothing, so each DynamoDB call is given a simulated 5 ms instead.

The poller's budget is the order poller's: its Lambda timeout (900 s in template.yaml) less the
60 s in which it starts no new order (`SAFETY_MARGIN_MS`), read off the virtual clock.

Prints the orders imported, the simulated minutes, bol's order-detail calls per second against the
limit (the most in any of bol's windows, and the average share of the limit used), the 429 answers,
and whether the one run took all the orders.

bol.com publishes no fixed per-endpoint figure (its rate-limit page says limits are per endpoint,
can change, and are to be read from the `X-RateLimit-*` headers; its own sample answers show a
limit of 10 per second). The limit is therefore a parameter: BENCH_LIMIT (order-detail calls per
second, default 15; at 10 per second 10,000 orders cannot fit in 15 minutes). BENCH_ORDERS
(default 10,000) sets the number of open orders; every other bol endpoint keeps the simulator's
default limit (25 per second).
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from typing import Any

from koppel_local.provision import offline_environment

os.environ.update(offline_environment())

import httpx
from werkzeug.wrappers import Request

from koppel import aws, wiring
from koppel.config import Account, Link
from koppel.connectors.bol import connector as bol
from koppel.connectors.http import Clock
from koppel.connectors.shopify import connector as shopify
from koppel.flows import orders as order_flow
from koppel.flows.orders import OrderImport
from koppel_local.provision import embedded_aws, function_environment
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem
from koppel_local.simulators.shopify import ShopifySimulator

ORDERS = int(os.environ.get("BENCH_ORDERS", "10000"))
LIMIT = int(os.environ.get("BENCH_LIMIT", "15"))
LATENCY = 0.050
DYNAMODB_LATENCY = 0.005
TARGET_ORDERS, TARGET_SECONDS, TARGET_SHARE = 10_000, 15 * 60, 0.90
POLLER_TIMEOUT, POLLER_MARGIN = 900.0, 60.0  # template.yaml's OrderPollerFunction; order_poller.SAFETY_MARGIN_MS
PRODUCTS = [(f"87123450{n:05d}", f"SKU-{n:03d}") for n in range(40)]


class VirtualTime:
    """One simulated clock for every thread of the run.

    `sleep` parks the calling thread until the clock reaches its wake-up time. The clock moves only
    when no thread taking part is awake: then it jumps to the earliest wake-up and releases every
    thread due by then. A thread takes part from `enter` to `leave` (the bench's main thread, and
    each worker `Workers` starts)."""

    def __init__(self) -> None:
        self._now = 0.0
        self._lock = threading.Lock()
        self._awake = 0
        self._sleepers: list[tuple[float, int, threading.Event]] = []
        self._ids = itertools.count()

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        woken = threading.Event()  # one per sleeper: a jump wakes only the threads it makes due
        with self._lock:
            heapq.heappush(self._sleepers, (self._now + seconds, next(self._ids), woken))
            self._awake -= 1
            self._advance()
        woken.wait()

    def enter(self) -> None:
        with self._lock:
            self._awake += 1

    def leave(self) -> None:
        with self._lock:
            self._awake -= 1
            self._advance()

    def _advance(self) -> None:
        if self._awake > 0 or not self._sleepers:
            return
        self._now = max(self._now, self._sleepers[0][0])
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _ticket, woken = heapq.heappop(self._sleepers)
            self._awake += 1  # counted awake now, so the clock cannot run on before the thread wakes
            woken.set()


CLOCK = VirtualTime()


class ClockedFuture(Future):  # type: ignore[type-arg]
    """A future whose waiter takes no part in the virtual clock while it waits."""

    def result(self, timeout: float | None = None) -> Any:
        if not self.done():
            CLOCK.leave()
            try:
                self.exception(timeout)  # waits
            finally:
                CLOCK.enter()
        return super().result(timeout)


class Workers:
    """What the flow gets for `ThreadPoolExecutor`: the same pool, on the virtual clock.

    A worker takes part in the clock while it runs a task and not while it waits for one (a pool's
    idle worker blocks where the clock cannot see it). `submit` counts a parked worker in as it hands
    it the task, so the clock cannot move between the two."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        self._cond = threading.Condition()
        self._tasks: deque[tuple[ClockedFuture, Callable[..., Any], tuple[Any, ...]]] = deque()
        self._parked: set[int] = set()  # workers waiting for a task, not counted on the clock
        self._counted: set[int] = set()
        self._closing = False
        self._threads = [
            threading.Thread(target=self._work, args=(n,), name=f"{thread_name_prefix}-{n}", daemon=True)
            for n in range(max_workers)
        ]
        for thread in self._threads:
            thread.start()
        with self._cond:  # every worker parked before the first task, so none is unaccounted for
            while len(self._parked) < max_workers:
                self._cond.wait()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        CLOCK.leave()
        for thread in self._threads:
            thread.join()
        CLOCK.enter()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> ClockedFuture:
        future = ClockedFuture()
        with self._cond:
            self._tasks.append((future, fn, args))
            if self._parked:
                worker = self._parked.pop()
                self._counted.add(worker)
                CLOCK.enter()  # on the worker's behalf, until it runs the task
            self._cond.notify_all()
        return future

    def _work(self, worker: int) -> None:
        while True:
            with self._cond:
                while True:
                    if self._tasks:
                        future, fn, args = self._tasks.popleft()
                        self._parked.discard(worker)
                        if worker not in self._counted:
                            self._counted.add(worker)
                            CLOCK.enter()
                        break
                    if worker in self._counted:
                        self._counted.discard(worker)
                        CLOCK.leave()
                    if self._closing:
                        self._parked.discard(worker)
                        return
                    self._parked.add(worker)
                    self._cond.notify_all()
                    self._cond.wait()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - the future carries it, as a pool's does
                future.set_exception(exc)


class TimedBol(BolSimulator):
    """bol's simulator, noting the simulated moment and answer of every request; its token endpoint
    answers at once (the token is fetched under a lock, where a simulated wait would stall the clock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeline: list[tuple[float, str, int]] = []  # (moment, endpoint group, status)

    def latency_for(self, request: Request) -> float:
        return 0.0 if request.path == "/token" else super().latency_for(request)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        status: list[int] = []

        def noted(code: str, headers: Any, *rest: Any) -> Any:
            status.append(int(code.split(maxsplit=1)[0]))
            return start_response(code, headers, *rest)

        answer = super().__call__(environ, noted)
        found, _params = self.match(Request(environ))
        self.timeline.append((CLOCK.now(), found.group if found else "unknown", status[0]))
        return answer


def bol_windows(moments: list[float], seconds: float = 1.0) -> list[int]:
    """Calls per fixed window as bol counts them: a window opens with the first call after the last closed."""
    counts: list[int] = []
    opened = -math.inf
    for moment in sorted(moments):
        if moment >= opened + seconds:
            opened = moment
            counts.append(0)
        counts[-1] += 1
    return counts


def busiest_second(moments: list[float]) -> int:
    """The most calls in any one-second span (sliding), whatever bol's windows."""
    ordered = sorted(moments)
    best, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def main() -> None:
    order_flow.ThreadPoolExecutor = Workers  # type: ignore[misc,assignment] - the flow's pool, on the clock
    CLOCK.enter()  # the main thread takes part
    bol_sim = TimedBol(
        latency_seconds=LATENCY,
        validate=False,
        rate_limits={"order": RateLimit(LIMIT, 1.0)},
        clock=CLOCK.now,
        sleep=CLOCK.sleep,
    )
    # A Shopify Plus bucket (restore 1000 points/s): bol's limit, not Shopify's, is what is measured here.
    shop_sim = ShopifySimulator(
        latency=LATENCY, validate=False, bucket_size=20_000, restore_rate=1_000, clock=CLOCK.now, sleep=CLOCK.sleep
    )
    for ean, sku in PRODUCTS:
        shop_sim.add_variant(sku, barcode=ean, title=sku, price="9.95", inventory=1_000_000)
    for n in range(ORDERS):
        ean, _ = PRODUCTS[n % len(PRODUCTS)]
        bol_sim.add_dutch_order(items=[SimItem(ean=ean, title="bench item", unit_price=Decimal("9.95"))])
    clock = Clock(now=CLOCK.now, sleep=CLOCK.sleep, jitter=random.Random(17).uniform)

    with embedded_aws("bench") as template:
        os.environ.update(function_environment(template))
        wiring.reset()
        aws.client("dynamodb").meta.events.register(
            "before-send.dynamodb", lambda **_kwargs: CLOCK.sleep(DYNAMODB_LATENCY)
        )
        # Buyers are looked up by e-mail, none created: each bench order has a buyer of its own, and the
        # Shopify simulator's customer search reads every customer, which at 10,000 takes the bench
        # half an hour of real time (bol.com is asked the same either way, and its limit sets the pace).
        link = Link(link_id="bench", backoffice="shop", channel="bol-nl", orders={"create_customers": False})
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
        start = CLOCK.now()
        deadline = start + POLLER_TIMEOUT
        flow = OrderImport(
            link=link,
            source=bol.from_account(
                bol_account,
                {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
                httpx.Client(transport=httpx.WSGITransport(app=bol_sim), limits=limits),
                clock=clock,
            ),
            sink=shopify.from_account(
                shop_account,
                {"access_token": shop_sim.access_token},
                httpx.Client(transport=httpx.WSGITransport(app=shop_sim), limits=limits),
                clock=clock,
            ),
            orders=wiring.order_links(),
            mappings=wiring.sku_mappings(),
            cursors=wiring.cursors(),
            channel="bol",
            run_id="bench",
            # The order poller's test: less than its safety margin left of the Lambda's timeout.
            out_of_time=lambda: deadline - CLOCK.now() < POLLER_MARGIN,
        )
        real_start = time.perf_counter()
        report = flow.run()
        real = time.perf_counter() - real_start
        simulated = CLOCK.now() - start

    created = len(report.created)
    details = [moment for moment, group, status in bol_sim.timeline if group == "order" and status == 200]
    throttled = [group for _moment, group, status in bol_sim.timeline if status == 429]
    windows = bol_windows(details)
    span = (max(details) - min(details) + 1.0) if details else 1.0  # + the last call's window
    share = len(details) / span / LIMIT
    per_second = created / simulated if simulated else 0.0
    at_pace = TARGET_ORDERS / per_second / 60 if per_second else math.inf
    listings = sum(1 for _m, group, _s in bol_sim.timeline if group == "orders")
    one_run = created == ORDERS and not report.handed_over
    print(
        f"order import: {ORDERS} open bol.com orders -> Shopify, {LATENCY * 1000:.0f} ms per call, "
        f"concurrency {link.orders.concurrency}, simulated time ({real:.0f} s real)"
    )
    print(
        f"  created {created} in {simulated / 60:.1f} simulated min ({per_second * 60:.0f} orders/min); "
        f"{listings} order-list calls, {len(details)} order-detail calls"
    )
    print(
        f"  bol order-detail limit {LIMIT}/s (baseline): at most {max(windows, default=0)} calls in any bol window, "
        f"{busiest_second(details)} in any 1-s span; average {len(details) / span:.1f}/s = {share:.1%} of the limit"
        f"   target >= {TARGET_SHARE:.0%}, never above"
    )
    print(f"  429 answers: {len(throttled)}" + (f" ({', '.join(sorted(set(throttled)))})" if throttled else ""))
    print(
        f"  one poller run (budget {POLLER_TIMEOUT - POLLER_MARGIN:.0f} s simulated): "
        f"{'took all ' + str(created) if one_run else f'handed over after {created}'}; "
        f"10,000 orders at this pace: {at_pace:.1f} min   target <= {TARGET_SECONDS // 60} min in one run "
        f"({'met' if at_pace <= TARGET_SECONDS / 60 and share >= TARGET_SHARE else 'not met'})"
    )
    if created + len(report.waiting) != ORDERS and one_run:
        print(f"  UNEXPECTED: {ORDERS - created} orders not created; waiting: {len(report.waiting)}")
        sys.exit(1)
    if max(windows, default=0) > LIMIT or throttled:
        print("  bol's limit was exceeded: target not met")


if __name__ == "__main__":
    main()
