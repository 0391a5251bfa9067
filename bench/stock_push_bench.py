"""Stock flow (a): a burst of stock mutations → how many channel calls koppel makes, and how long
until every channel holds the final value.

One KORONA backoffice (koppel's signed stock webhook) linked to three channels, each served on
127.0.0.1 by its simulator: a partner taking stock by webhook (500 levels per call), bol.com (one
PUT per offer, then the batch's process statuses in bulk, up to 1,000 ids per request) and Shopify
as a sales channel (250 quantities per inventorySetQuantities). The handlers are the deployed ones,
koppel's table and queues in moto in-process: deliveries of 10 mutations, 10 records per queue-
worker invocation (the EventQueue's BatchSize), then the StockPushQueue drained into the pusher 100
records per invocation (its BatchSize), failed records made visible again as SQS does.

Two schedules of the pusher:
- interleaved: after every BENCH_PUSH_EVERY worker invocations the pusher takes what is queued
  (the 2 s batching window during a sustained burst): coalescing as it really happens;
- at the end: the pusher runs only once the burst is in (ideal coalescing).

Deliveries arrive slightly out of order (shuffled within each pusher window), as SQS standard
queues and concurrent workers deliver them; the final value of a SKU is its newest mutation's.
Every channel is checked SKU by SKU against that final value; any mismatch exits non-zero.

The brief's scale is 50,000 mutations over 5,000 SKUs. In moto every mutation costs a consistent
read and a conditional write per link, and moto's Query walks every item of the table rather
than one partition. The link look-up is therefore read at most every 5 s; before that it was read
per delivery and the run grew with the square of the burst. Even so, the full run had not finished
its first schedule after 54 minutes on the 2-core build machine. So the default is the same
ratio, 10 mutations per SKU, scaled down; BENCH_MUTATIONS=50000 BENCH_SKUS=5000 runs the full one.

Set BENCH_MUTATIONS (default 2,000), BENCH_SKUS (200), BENCH_PUSH_EVERY (10 worker
invocations), BENCH_SCALED_MUTATIONS / BENCH_SCALED_SKUS (the smaller run bol and Shopify get
when they are not in the full run, default 2,000 / 200) and BENCH_FULL_CHANNELS (comma list of
channels in the full run; default all three).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import random
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for code_root in ("queue_worker", "stock_pusher"):  # the functions' code roots, as in Lambda
    sys.path.insert(0, str(ROOT / "functions" / code_root))

from koppel_local.provision import offline_environment  # noqa: E402 - before koppel reads it

os.environ.update(offline_environment())
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the simulators' servers: no line per request
warnings.filterwarnings("ignore", message="No application metrics to publish")

import boto3  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from koppel import wiring  # noqa: E402
from koppel.config import Account, Link  # noqa: E402
from koppel.connectors.bol.offers import BolOffers  # noqa: E402
from koppel.connectors.bol.processes import MAX_STATUSES_PER_REQUEST  # noqa: E402
from koppel_local.provision import embedded_aws, function_environment  # noqa: E402
from koppel_local.runtime import LambdaContext  # noqa: E402
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit  # noqa: E402
from koppel_local.simulators.partner import StockPartner  # noqa: E402
from koppel_local.simulators.shopify import ShopifySimulator, load_schema  # noqa: E402
from koppel_local.template import REGION  # noqa: E402

MUTATIONS = int(os.environ.get("BENCH_MUTATIONS", "2000"))
SKUS = int(os.environ.get("BENCH_SKUS", "200"))
PUSH_EVERY = int(os.environ.get("BENCH_PUSH_EVERY", "10"))
SCALED_MUTATIONS = int(os.environ.get("BENCH_SCALED_MUTATIONS", "2000"))
SCALED_SKUS = int(os.environ.get("BENCH_SCALED_SKUS", "200"))
FULL_CHANNELS = tuple(c for c in os.environ.get("BENCH_FULL_CHANNELS", "partner,bol,shopify").split(",") if c)
PER_DELIVERY = 10  # mutations per webhook delivery
WORKER_BATCH = 10  # EventQueue → QueueWorkerFunction BatchSize
PUSHER_BATCH = 100  # StockPushQueue → StockPusherFunction BatchSize
MAX_AMOUNT = 999  # bol's UpdateOfferStockRequest.amount maximum: the bench stays within it
PARTNER_SECRET = "bench-partner-signing-secret"  # the partner simulator checks it
BACKOFFICE = "korona-pos"
BOL_STATUS_IDS = MAX_STATUSES_PER_REQUEST  # process-status ids per bulk request (bol's shared.json)
BOL_PUSH_BATCH = BolOffers.max_batch  # updates the stock flow hands bol per push call
CHANNEL_BATCH = {"partner": 500, "bol": 1, "shopify": 250}  # SKUs one channel call carries
SQS_RECORD = json.loads((ROOT / "events" / "sqs_stock_changed.json").read_text())["Records"][0]
START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def sku_of(n: int) -> str:
    return f"BENCH-{n:05d}"


def ean_of(n: int) -> str:
    return f"87{n:011d}"


# --- the burst -----------------------------------------------------------------------------------
def burst(mutations: int, skus: int, seed: int = 2026) -> tuple[list[list[dict]], dict[str, int]]:
    """Deliveries of PER_DELIVERY mutations, mildly out of order; the final quantity per SKU."""
    rng = random.Random(seed)
    # Every SKU changes at least once, the rest land at random: `skus` distinct SKUs exactly.
    order = list(range(skus)) + [rng.randrange(skus) for _ in range(max(0, mutations - skus))]
    rng.shuffle(order)
    levels, final = [], {}
    for i, n in enumerate(order[:mutations]):
        at = START + timedelta(milliseconds=10 * i)  # the backoffice's clock: later mutation, later time
        on_hand = rng.randrange(0, MAX_AMOUNT + 1)
        levels.append({"sku": sku_of(n), "on_hand": on_hand, "observed_at": at.isoformat().replace("+00:00", "Z")})
        final[sku_of(n)] = on_hand
    deliveries = [levels[start : start + PER_DELIVERY] for start in range(0, len(levels), PER_DELIVERY)]
    window = PUSH_EVERY * WORKER_BATCH
    for start in range(0, len(deliveries), window):  # SQS standard queues, several workers: no strict order
        part = deliveries[start : start + window]
        rng.shuffle(part)
        deliveries[start : start + window] = part
    return deliveries, final


def envelope(levels: list[dict]) -> dict:
    event_id = str(uuid.uuid4())
    return {
        "account_id": BACKOFFICE,
        "system": "korona",
        "topic": "stock.changed",
        "event_id": event_id,
        "dedupe_key": f"{BACKOFFICE}:koppel:{event_id}",
        "received_at": "2026-11-21T13:05:00Z",
        "body": json.dumps({"levels": levels}),
    }


def sqs_record(body: str, message_id: str | None = None, receipt: str = "") -> dict:
    return SQS_RECORD | {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt or SQS_RECORD["receiptHandle"],
        "body": body,
    }


# --- the channels ---------------------------------------------------------------------------------
@dataclass
class Channel:
    name: str
    link_id: str
    app: Any
    calls: Callable[[], int]  # channel calls that carry stock
    sent: Callable[[], int]  # SKU quantities those calls carried
    holds: Callable[[str], int | None]  # the quantity the channel shows for a SKU
    other: Callable[[], str] = lambda: ""  # other calls the push needs (lookups, polls)
    server: Any = None


def partner_channel() -> tuple[Channel, Account, dict]:
    sim = StockPartner(secret=PARTNER_SECRET)
    channel = Channel(
        "partner",
        "korona-to-partner",
        sim,
        calls=lambda: len(sim.deliveries),
        sent=lambda: sum(len(d["levels"]) for d in sim.deliveries),
        holds=sim.stock.get,
        other=lambda: f"{len(sim.refused)} refused" if sim.refused else "",
    )
    account = Account(account_id="winkelstraat", system="winkelstraat", secret_ref="koppel/winkelstraat")
    return channel, account, {"signing_secret": PARTNER_SECRET}


def bol_channel(skus: int) -> tuple[Channel, Account, dict]:
    # A generous limit: the bench measures koppel, not bol's throttle; processes settle at the first poll.
    sim = BolSimulator(validate=False, rate_limit=RateLimit(1_000_000, 1.0), pending_polls=0)
    for n in range(skus):
        sim.add_offer(f"offer-{n:05d}", ean_of(n), reference=sku_of(n), stock=0)

    def holds(sku: str) -> int | None:
        return sim.offer_stock("offer-" + sku.removeprefix("BENCH-"))

    channel = Channel(
        "bol",
        "korona-to-bol",
        sim,
        calls=lambda: len(sim.calls("offer-stock")),
        sent=lambda: len(sim.stock_updates),
        holds=holds,
        other=lambda: (
            f"{status_calls(sim)}, {sum(1 for c in sim.request_log if 'export' in c.group)} offer-export calls"
        ),
    )
    account = Account(account_id="bol-nl", system="bol", secret_ref="koppel/bol-nl")
    return channel, account, {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}


def status_calls(sim: BolSimulator) -> str:
    """bol process-status calls per offer update, beside the baseline measured in the same run: one
    GET per process per poll round, which is what each id in a bulk request would have cost."""
    bulk, single = sim.calls("process-status-bulk"), sim.calls("process-status")
    asked = sum(len(json.loads(call.body)["processStatusQueries"]) for call in bulk)
    updates = max(1, len(sim.stock_updates))
    # A push call is a run of stock PUTs: what the stock flow handed bol at once.
    groups = [call.group for call in sim.request_log if call.group in ("offer-stock", "process-status-bulk")]
    pushes = sum(1 for n, group in enumerate(groups) if group == "offer-stock" and (n == 0 or groups[n - 1] != group))
    goal = math.ceil(updates / BOL_STATUS_IDS)
    return (
        f"{len(bulk):,} bulk process-status calls for {len(sim.stock_updates):,} offer updates = "
        f"{len(bulk) / updates:.4f} per update; baseline, one poll per process and round: {asked:,} = "
        f"{asked / updates:.2f} per update ({asked / max(1, len(bulk)):.0f}x); goal <= {goal} "
        f"(1 per {BOL_STATUS_IDS:,} updates) + pending retries, here bounded by the {pushes} push calls of "
        f"<= {BOL_PUSH_BATCH} updates the stock flow made; plus {len(single)} single GET(s) for the offers export"
    )


def shopify_channel(skus: int, schema: Any) -> tuple[Channel, Account, dict]:
    sim = ShopifySimulator(schema=schema, bucket_size=1_000_000, restore_rate=1_000_000)
    for n in range(skus):
        sim.add_variant(sku_of(n), barcode=ean_of(n), title=sku_of(n), price="9.95", inventory=0)

    def holds(sku: str) -> int | None:
        variant = by_sku.get(sku)
        return None if variant is None else sum(level["available"] for level in variant["levels"].values())

    by_sku = {variant["sku"]: variant for variant in sim.variants}

    def of(operation: str) -> int:
        return sum(1 for call in sim.calls if call.get("operation") == operation)

    channel = Channel(
        "shopify",
        "korona-to-shopify",
        sim,
        calls=lambda: of("KoppelSetStock"),
        sent=lambda: sum(len(group["changes"]) for group in sim.adjustments),
        holds=holds,
        other=lambda: (
            f"{len(sim.calls) - of('KoppelSetStock')} lookups (variants, location), "
            f"{sim.throttled} throttled, {len(sim.violations)} schema violations"
        ),
    )
    account = Account(
        account_id="shop-main",
        system="shopify",
        secret_ref="koppel/shop-main",
        settings={"shop_domain": "bench.myshopify.com"},  # its base_url is set once the simulator serves
    )
    return channel, account, {"access_token": sim.access_token}


# --- one run --------------------------------------------------------------------------------------
@dataclass
class Run:
    schedule: str
    mutations: int
    skus: int
    channels: list[Channel]
    worker_invocations: int = 0
    worker_failures: int = 0
    pusher_invocations: int = 0
    pusher_failures: int = 0
    pusher_rounds: int = 0
    burst_seconds: float = 0.0  # the last delivery through the worker
    converged_seconds: float = 0.0  # every channel holds the final value
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    left_pending: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)


class Queue:
    def __init__(self, url: str) -> None:
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.url = url

    def take(self) -> list[dict]:
        messages = []
        while batch := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages"):
            messages.extend(batch)
        return messages

    def settle(self, messages: list[dict], failed: set[str]) -> None:
        """What the event source mapping does: delete what succeeded, release what failed."""
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )


def serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run(schedule: str, names: tuple[str, ...], mutations: int, skus: int, schema: Any) -> Run:
    deliveries, final = burst(mutations, skus)
    built = []
    for name in names:
        if name == "partner":
            built.append(partner_channel())
        elif name == "bol":
            built.append(bol_channel(skus))
        else:
            built.append(shopify_channel(skus, schema))
    result = Run(schedule, mutations, len(final), [channel for channel, _, _ in built])

    with embedded_aws("bench") as template:
        os.environ.update(function_environment(template))
        os.environ["STOCK_PUSH_DELAY_SECONDS"] = "0"  # the delay is SQS's; the bench decides when the pusher runs
        wiring.reset()
        import queue_worker
        import stock_pusher

        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name="koppel/korona-pos", SecretString=json.dumps({"webhook_secret": "s"}))
        store = wiring.config_store()
        store.put_account(Account(account_id=BACKOFFICE, system="korona", secret_ref="koppel/korona-pos"))
        for channel, account, credentials in built:
            channel.server, url = serve(channel.app)
            settings = {
                "partner": {"stock_url": f"{url}/stock"},
                "bol": {"base_url": url, "token_url": f"{url}/token"},
                "shopify": {"shop_domain": "bench.myshopify.com", "base_url": url},
            }[channel.name]
            secrets.create_secret(Name=account.secret_ref, SecretString=json.dumps(credentials))
            store.put_account(account.model_copy(update={"settings": settings}))
            store.put_link(
                Link(
                    link_id=channel.link_id,
                    backoffice=BACKOFFICE,
                    channel=account.account_id,
                    flows={"orders": False, "tracking": False},
                )
            )
        pushes = Queue(os.environ["STOCK_PUSH_QUEUE_URL"])
        context = LambdaContext(function_name="bench", timeout=900)

        def push_round() -> int:
            """The pusher on whatever the push queue holds now; how many records it held."""
            messages = pushes.take()
            for start in range(0, len(messages), PUSHER_BATCH):
                chunk = messages[start : start + PUSHER_BATCH]
                event = {"Records": [sqs_record(m["Body"], m["MessageId"], m["ReceiptHandle"]) for m in chunk]}
                answer = stock_pusher.lambda_handler(event, context)
                result.pusher_invocations += 1
                failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
                result.pusher_failures += len(failed)
                pushes.settle(chunk, failed)
            result.pusher_rounds += 1
            return len(messages)

        records = [sqs_record(json.dumps(envelope(levels))) for levels in deliveries]
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the metrics lines Lambda would ship to CloudWatch
            waiting = records
            batches = 0
            while waiting:
                redeliver = []
                for first in range(0, len(waiting), WORKER_BATCH):
                    event = {"Records": waiting[first : first + WORKER_BATCH]}
                    answer = queue_worker.lambda_handler(event, context)
                    result.worker_invocations += 1
                    failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
                    result.worker_failures += len(failed)
                    redeliver += [record for record in event["Records"] if record["messageId"] in failed]
                    batches += 1
                    if schedule == "interleaved" and batches % PUSH_EVERY == 0:
                        push_round()
                if len(redeliver) == len(waiting):
                    break  # nothing got through: reported below as mismatches
                waiting = redeliver
            result.burst_seconds = time.perf_counter() - start
            for _ in range(50):  # the queue drains; moved SKUs and released failures come round again
                if not push_round():
                    break
        result.converged_seconds = time.perf_counter() - start

        for channel in result.channels:
            wrong = [
                f"{sku}: channel {channel.holds(sku)}, final {quantity}"
                for sku, quantity in sorted(final.items())
                if channel.holds(sku) != quantity
            ]
            if wrong:
                result.mismatches[channel.name] = wrong
            records_now = list(wiring.stock_store().all(channel.link_id))
            result.left_pending[channel.name] = sum(record.pending for record in records_now)
            result.calls[channel.name] = channel.calls()
            result.sent[channel.name] = channel.sent()
            result.other[channel.name] = channel.other()
            channel.server.shutdown()
    return result


# --- report --------------------------------------------------------------------------------------
def report(result: Run) -> None:
    names = ", ".join(channel.name for channel in result.channels)
    pusher = (
        f"after every {PUSH_EVERY} worker invocations ({PUSH_EVERY * WORKER_BATCH * PER_DELIVERY:,} mutations)"
        if result.schedule == "interleaved"
        else "only once the burst is in"
    )
    print(f"  [{result.schedule}] {result.mutations:,} mutations over {result.skus:,} SKUs -> {names}; pusher {pusher}")
    print(
        f"    worker invocations {result.worker_invocations:,} ({WORKER_BATCH} deliveries x {PER_DELIVERY} mutations), "
        f"failed records {result.worker_failures}"
    )
    print(
        f"    pusher invocations {result.pusher_invocations:,} in {result.pusher_rounds} rounds "
        f"(<= {PUSHER_BATCH} records each), failed records {result.pusher_failures}"
    )
    for channel in result.channels:
        calls, sent = result.calls[channel.name], result.sent[channel.name]
        floor = math.ceil(result.skus / CHANNEL_BATCH[channel.name])
        unit = {"partner": "webhook POSTs", "bol": "offer stock PUTs", "shopify": "inventorySetQuantities"}[
            channel.name
        ]
        verdict = "met" if calls <= result.skus else "not met"
        print(
            f"    {channel.name:8s} {calls:7,} {unit:22s} carrying {sent:,} SKU quantities   target <= {result.skus:,} "
            f"(distinct SKUs; {verdict}), floor {floor:,} at {CHANNEL_BATCH[channel.name]} per call"
        )
        if result.other[channel.name]:
            print(f"             also: {result.other[channel.name]}")
        wrong = result.mismatches.get(channel.name, [])
        pending = result.left_pending[channel.name]
        state = "every SKU holds its final value" if not wrong else f"{len(wrong):,} SKU(s) WRONG"
        print(f"             {state}; {pending} record(s) left pending in koppel")
        for line in wrong[:10]:
            print(f"               {line}")
    tail = result.converged_seconds - result.burst_seconds
    print(
        f"    burst through the worker {result.burst_seconds:.1f} s, all channels converged at "
        f"{result.converged_seconds:.1f} s ({tail:.1f} s after the last delivery)   "
        f"{result.mutations / result.converged_seconds:,.0f} mutations/s end to end"
    )


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # each figure as it comes, also when piped
    began = time.perf_counter()
    schema = load_schema()
    others = tuple(name for name in ("bol", "shopify") if name not in FULL_CHANNELS)
    plan = [("interleaved", FULL_CHANNELS, MUTATIONS, SKUS), ("at the end", FULL_CHANNELS, MUTATIONS, SKUS)]
    if others:
        plan += [
            ("interleaved", others, SCALED_MUTATIONS, SCALED_SKUS),
            ("at the end", others, SCALED_MUTATIONS, SCALED_SKUS),
        ]
    print(
        "stock push: backoffice mutations -> koppel (queue worker, stock pusher) -> channels on 127.0.0.1, "
        "moto in-process"
    )
    print(
        "  targets: channel calls <= distinct SKUs changed, per channel (partner 500 SKUs per call, "
        "Shopify 250 per inventorySetQuantities, bol one PUT per offer); every channel ends on the final value"
    )
    if others:
        print(
            f"  {', '.join(others)} run on a scaled burst ({SCALED_MUTATIONS:,} mutations over {SCALED_SKUS:,} SKUs): "
            f"with the full {MUTATIONS:,} the bench runs past 3 minutes"
        )
    results = []
    for schedule, names, mutations, skus in plan:
        result = run(schedule, names, mutations, skus, schema)
        report(result)
        results.append(result)
    if MUTATIONS < 50_000:
        print(
            "  scaled from the target 50,000 mutations over 5,000 SKUs (same 10 per SKU): each mutation costs "
            "moto calls per link; BENCH_MUTATIONS=50000 BENCH_SKUS=5000 runs the full burst (> 1 h)"
        )
    print(f"  bench took {time.perf_counter() - began:.0f} s")
    failed = [r for r in results if r.mismatches or any(r.left_pending.values())]
    if failed:
        print("  UNEXPECTED: a channel does not hold the final stock of every SKU (or koppel left SKUs pending)")
        sys.exit(1)


if __name__ == "__main__":
    main()
