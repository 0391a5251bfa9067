"""What koppel costs in AWS: dollars per 1,000 bol.com orders and per 1,000 stock mutations, eu-west-1.

Two runs through the deployed handlers (`functions/*/`), koppel's tables and queues in moto
in-process, bol.com and Shopify simulated on 127.0.0.1:

- orders: open bol.com orders imported by the order poller into Shopify; each order's stock change
  comes back as Shopify's signed `inventory_levels/update` webhook through the webhook receiver, the
  queue worker and the stock pusher to bol's offer; the merchant ships every order in Shopify
  (PostNL, with a code) and the tracking updater reports it to bol;
- stock mutations: koppel-signed `stock.changed` webhooks of a KORONA backoffice, one mutation per
  delivery, through the receiver, the worker and the pusher to bol.com and to a Shopify store.

The SQS event source mappings are played by the bench: it receives from a queue (at most the
mapping's BatchSize), invokes the function, deletes what succeeded in one DeleteMessageBatch and
releases what failed. Deliveries are handed over in windows of BENCH_WINDOW (default 1: each one
through worker and pusher before the next arrives, as for a shop with a sale every few seconds; no
coalescing, the dearest case); a larger window lets the mappings batch and the pusher coalesce.

What is counted, and how it becomes units:
- every AWS call (botocore's `BaseClient._make_api_call` wrapped), by service and operation, with
  who made it: a function, or the SQS mapping;
- Lambda: invocations, and billed duration (each invocation's measured wall time rounded up to the
  ms) times the function's MemorySize in template.yaml = GB-seconds. The time measured here includes
  moto's and the simulators' own work but no network; the "modelled" figure adds AWS_CALL_MS per
  AWS call and EXTERNAL_CALL_MS per call to bol.com or Shopify, serially, except in the order poller
  whose orders go `concurrency` (8) at a time. PASS/FAIL is judged on the modelled figure;
- DynamoDB on-demand request units, from item sizes (moto gives no ConsumedCapacity): an item's
  size is the UTF-8 length of its attribute names plus their values (strings by UTF-8 length,
  numbers 1 byte per 2 significant digits + 1, binary by length, booleans and nulls 1 byte, lists
  and maps 3 bytes + 1 per element). A write costs 1 WRU per started KB of the larger of the item
  before and after it (read aside, uncounted), a failed conditional write too; a read 1 RRU per
  started 4 KB strongly consistent, half that eventually consistent (GetItem and BatchGetItem per
  item, Query and Scan on the summed size of the items returned, at least one unit); transactional
  reads and writes twice that;
- SQS requests: one per API call, and one more per further 64 KB of payload sent or received;
- S3 requests (PUT/COPY/POST/LIST class and GET class), Secrets Manager and SSM calls;
- CloudWatch Logs ingestion: the bytes the handlers write to stdout/stderr (Powertools' JSON log
  lines at the template's INFO level, and the metrics' EMF lines), plus Lambda's own START/END/REPORT
  lines and 26 bytes per log event, plus the HTTP API's access log line per webhook;
- HTTP API requests (every webhook) and X-Ray traces (Tracing: Active; one per invocation counted,
  an upper bound: the default sampling keeps 1 a second and 5 % of the rest).

The prices are eu-west-1 list prices, each below with the month it was read and its price page.
The goal: under $0.05 per 1,000 orders (PASS/FAIL printed; the exit status is non-zero only if the
run itself went wrong: an order not in Shopify or not shipped on bol, a channel not on the final
stock). The baseline printed beside it: the same figures per single order and mutation, and the
monthly volume the AWS always-free tier would carry.

Set BENCH_ORDERS (default 300), BENCH_MUTATIONS (500), BENCH_SKUS (SKUs the mutations fall on,
default 100) and BENCH_WINDOW (1). Both runs are scaled down by default: in moto each order costs
~0.3 s of the 2-core machine and each mutation ~0.16 s and growing with the tables, so 1,000 of
each takes the bench past 10 minutes; the figures are per 1,000 either way (the poller's and the
tracking updater's one run spread over fewer orders: a little dearer, not cheaper).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import random
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = sys.__stdout__  # the report; sys.stdout and sys.stderr become what Lambda ships to CloudWatch


class LogSink(io.TextIOBase):
    """Stands in for a Lambda container's stdout/stderr: counts what the running function writes."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0
        self.counting = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.counting:
            self.bytes += len(text.encode())
            self.lines += text.count("\n")
        return len(text)


SINK = LogSink()
sys.stdout = sys.stderr = SINK  # before koppel is imported: Powertools' logger binds the stream it finds


def _bench_failed(kind: type[BaseException], error: BaseException, trace: Any) -> None:
    """A failure of the bench itself reaches the terminal, not the log sink."""
    import traceback

    traceback.print_exception(kind, error, trace, file=sys.__stderr__)


sys.excepthook = _bench_failed

from koppel_local.provision import offline_environment  # noqa: E402 - before koppel reads it

os.environ.update(offline_environment(log_level="INFO"))  # the template's POWERTOOLS_LOG_LEVEL
os.environ.update({"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOGGER_LOG_EVENT": "false"})
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the simulators' servers: no line per request
warnings.filterwarnings("ignore", message="No application metrics to publish")

import boto3  # noqa: E402
import httpx  # noqa: E402
from botocore.client import BaseClient  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from koppel import wiring  # noqa: E402
from koppel.config import Account, Link, OrderSettings  # noqa: E402
from koppel_local.provision import embedded_aws, function_environment  # noqa: E402
from koppel_local.runtime import LambdaContext  # noqa: E402
from koppel_local.signing import koppel_headers, shopify_headers  # noqa: E402
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem  # noqa: E402
from koppel_local.simulators.shopify import ShopifySimulator, load_schema  # noqa: E402
from koppel_local.template import REGION, Template  # noqa: E402

ORDERS = int(os.environ.get("BENCH_ORDERS", "300"))
MUTATIONS = int(os.environ.get("BENCH_MUTATIONS", "500"))
SKUS = int(os.environ.get("BENCH_SKUS", "100"))
WINDOW = max(1, int(os.environ.get("BENCH_WINDOW", "1")))
GOAL_PER_1000_ORDERS = 0.05  # dollars

# --- eu-west-1 list prices (USD) --------------------------------------------------------------------
# https://aws.amazon.com/lambda/pricing/ (read 2026-12; x86, first tier)
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
# https://aws.amazon.com/dynamodb/pricing/on-demand/ (read 2026-12; on-demand, Standard table class)
DYNAMODB_PER_WRU = 0.7068 / 1_000_000
DYNAMODB_PER_RRU = 0.1415 / 1_000_000
# https://aws.amazon.com/sqs/pricing/ (read 2026-12; standard queues, first 100 billion requests)
SQS_PER_REQUEST = 0.40 / 1_000_000
# https://aws.amazon.com/s3/pricing/ (read 2026-12; S3 Standard)
S3_PER_PUT_REQUEST = 0.005 / 1_000
S3_PER_GET_REQUEST = 0.0004 / 1_000
# https://aws.amazon.com/secrets-manager/pricing/ (read 2026-12)
SECRETS_PER_CALL = 0.05 / 10_000
# https://aws.amazon.com/systems-manager/pricing/ (read 2026-12; standard parameters, standard throughput)
SSM_PER_CALL = 0.0
# https://aws.amazon.com/cloudwatch/pricing/ (read 2026-12; Logs, Standard class, ingestion)
LOGS_PER_GB_INGESTED = 0.57
# https://aws.amazon.com/api-gateway/pricing/ (read 2026-12; HTTP APIs, first 300 million a month)
HTTP_API_PER_REQUEST = 1.11 / 1_000_000
# https://aws.amazon.com/xray/pricing/ (read 2026-12; traces recorded)
XRAY_PER_TRACE = 5.00 / 1_000_000

# The always-free tier a month (same pages): the baseline view.
FREE_LAMBDA_REQUESTS, FREE_LAMBDA_GB_SECONDS = 1_000_000, 400_000
FREE_SQS_REQUESTS = 1_000_000
FREE_LOGS_GB = 5
FREE_XRAY_TRACES = 100_000

AWS_CALL_MS = 8  # a call to DynamoDB, SQS or Secrets Manager from Lambda in the same region
EXTERNAL_CALL_MS = 150  # a call to bol.com's or Shopify's API from eu-west-1, TLS connection reused
# The order poller imports `concurrency` orders side by side: its network waits overlap that many ways.
OVERLAP = {"OrderPollerFunction": OrderSettings().concurrency}
PLATFORM_LOG_BYTES = 360  # Lambda's START, END and REPORT lines (with the X-Ray trace id) per invocation
LOG_EVENT_OVERHEAD = 26  # CloudWatch Logs bills each event's size plus 26 bytes
ACCESS_LOG_LINE = (
    '{"requestId":"Vx0mKjXYZ2EEMbQ=","route":"POST /webhooks/{account_id}","status":"200",'
    '"latency":"38","ip":"203.0.113.10"}'
)
IDLE_POLLERS = 5  # Lambda's pollers on an idle standard queue, each in a 20 s long poll
KB, SQS_CHUNK = 1024, 64 * 1024

PRODUCTS = [(f"87123450{n:05d}", f"SKU-{n:03d}") for n in range(40)]
STOCK = 900  # units of each product in Shopify (and on bol.com) before the orders
SHOP_SECRET, POS_SECRET = "bench-shop-webhook-secret", "bench-pos-webhook-secret"


# --- the meter ----------------------------------------------------------------------------------------
@dataclass
class Meter:
    """Everything billable that happened while `on`, attributed to `actor` (a function or the mapping)."""

    on: bool = False
    actor: str = "bench"
    calls: Counter = field(default_factory=Counter)  # (actor, "service:Operation")
    rru: float = 0.0
    wru: float = 0.0
    sqs_requests: int = 0
    s3_put: int = 0
    s3_get: int = 0
    secrets: int = 0
    ssm: int = 0
    invocations: Counter = field(default_factory=Counter)
    billed_ms: Counter = field(default_factory=Counter)
    modelled_ms: Counter = field(default_factory=Counter)
    log_bytes: Counter = field(default_factory=Counter)
    external: Counter = field(default_factory=Counter)  # calls to bol.com / Shopify, by function
    http_api: int = 0
    memory_mb: dict[str, int] = field(default_factory=dict)

    def aws_total(self, actor: str | None = None) -> int:
        return sum(n for (who, _), n in self.calls.items() if actor is None or who == actor)


METER = Meter()
_make_api_call = BaseClient._make_api_call
_send = httpx.Client.send
_key_schemas: dict[str, list[str]] = {}


def value_size(value: dict[str, Any]) -> int:
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = data.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in data.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return units if consistent else units / 2


def _quiet(client: BaseClient, operation: str, params: dict) -> dict:
    """A call the bench makes to size an item: not koppel's, not counted."""
    return _make_api_call(client, operation, params)


def _key_of(client: BaseClient, table: str, item: dict) -> dict:
    if table not in _key_schemas:
        schema = _quiet(client, "DescribeTable", {"TableName": table})["Table"]["KeySchema"]
        _key_schemas[table] = [part["AttributeName"] for part in schema]
    return {name: item[name] for name in _key_schemas[table]}


def _stored(client: BaseClient, table: str, key: dict) -> dict | None:
    return _quiet(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item")


def dynamodb_units(client: BaseClient, operation: str, params: dict, call: Callable[[], dict]) -> dict:
    """Makes the call and books its request units."""
    table = params.get("TableName", "")
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        key = params["Key"] if operation != "PutItem" else _key_of(client, table, params["Item"])
        before = item_size(_stored(client, table, key))
        try:
            answer = call()
        finally:
            after = item_size(params["Item"]) if operation == "PutItem" else item_size(_stored(client, table, key))
            METER.wru += write_units(max(before, after))
        return answer
    if operation == "BatchWriteItem":
        for table_name, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    old = _stored(client, table_name, _key_of(client, table_name, item))
                    METER.wru += write_units(max(item_size(item), item_size(old)))
                else:
                    METER.wru += write_units(item_size(_stored(client, table_name, request["DeleteRequest"]["Key"])))
        return call()
    if operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            (kind, body), *_ = entry.items()
            size = (
                item_size(body["Item"]) if kind == "Put" else item_size(_stored(client, body["TableName"], body["Key"]))
            )
            METER.wru += 2 * write_units(size)
        return call()
    answer = call()
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        METER.rru += read_units(item_size(answer.get("Item")), consistent)
    elif operation in ("Query", "Scan"):
        METER.rru += read_units(sum(item_size(item) for item in answer.get("Items", [])), consistent)
    elif operation == "BatchGetItem":
        for table_name, items in answer.get("Responses", {}).items():
            strong = bool(params["RequestItems"][table_name].get("ConsistentRead"))
            asked = len(params["RequestItems"][table_name]["Keys"])
            METER.rru += sum(read_units(item_size(item), strong) for item in items)
            METER.rru += read_units(0, strong) * max(0, asked - len(items))  # a key not found still costs
    elif operation == "TransactGetItems":
        for item in answer.get("Responses", []):
            METER.rru += 2 * read_units(item_size(item.get("Item")), True)
    return answer


def sqs_payload(operation: str, params: dict, answer: dict) -> int:
    if operation == "SendMessage":
        return len(params["MessageBody"].encode()) + len(json.dumps(params.get("MessageAttributes", {})))
    if operation == "SendMessageBatch":
        return sum(len(entry["MessageBody"].encode()) for entry in params["Entries"])
    if operation == "ReceiveMessage":
        return sum(len(message["Body"].encode()) for message in answer.get("Messages", []))
    return 0


def metered_call(self: BaseClient, operation: str, params: dict) -> Any:
    if not METER.on:
        return _make_api_call(self, operation, params)
    service = self.meta.service_model.signing_name
    METER.calls[(METER.actor, f"{service}:{operation}")] += 1
    if service == "dynamodb":
        return dynamodb_units(self, operation, params, lambda: _make_api_call(self, operation, params))
    answer = _make_api_call(self, operation, params)
    if service == "sqs":
        METER.sqs_requests += max(1, math.ceil(sqs_payload(operation, params, answer) / SQS_CHUNK))
    elif service == "s3":
        if operation in ("GetObject", "HeadObject", "GetObjectTagging"):
            METER.s3_get += 1
        else:
            METER.s3_put += 1
    elif service == "secretsmanager":
        METER.secrets += 1
    elif service == "ssm":
        METER.ssm += 1
    return answer


def metered_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
    if METER.on:
        METER.external[METER.actor] += 1
    return _send(self, request, **kwargs)


BaseClient._make_api_call = metered_call
httpx.Client.send = metered_send


# --- Lambda, as the bench plays it ------------------------------------------------------------------------
class Functions:
    """The template's functions: their handlers, memory and timeout, invoked one at a time and metered."""

    def __init__(self, template: Template) -> None:
        self.template = template
        globals_memory = int(template.body["Globals"]["Function"].get("MemorySize", 128))
        self.specs = {fn.logical_id: fn for fn in template.functions()}
        for name in self.specs:
            METER.memory_mb[name] = int(template.resources[name]["Properties"].get("MemorySize", globals_memory))
        self.handlers: dict[str, Callable] = {}

    def handler(self, name: str) -> Callable:
        if name not in self.handlers:
            spec = self.specs[name]
            sys.path.insert(0, str(spec.code_dir))  # the function's code root, as in Lambda
            self.handlers[name] = getattr(__import__(spec.module), spec.attribute)
        return self.handlers[name]

    def invoke(self, name: str, event: dict) -> Any:
        handler, spec = self.handler(name), self.specs[name]
        context = LambdaContext(function_name=name, timeout=spec.timeout, memory_limit_in_mb=METER.memory_mb[name])
        METER.actor = name
        calls, external = METER.aws_total(name), METER.external[name]
        SINK.bytes = SINK.lines = 0
        SINK.counting = METER.on
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            elapsed_ms = math.ceil((time.perf_counter() - started) * 1000)
            SINK.counting = False
            METER.actor = "bench"
            if METER.on:
                aws_waits = (METER.aws_total(name) - calls) * AWS_CALL_MS
                external_waits = (METER.external[name] - external) * EXTERNAL_CALL_MS
                waits = math.ceil((aws_waits + external_waits) / OVERLAP.get(name, 1))
                METER.invocations[name] += 1
                METER.billed_ms[name] += elapsed_ms
                METER.modelled_ms[name] += elapsed_ms + waits
                METER.log_bytes[name] += SINK.bytes + PLATFORM_LOG_BYTES + LOG_EVENT_OVERHEAD * (SINK.lines + 3)


def scheduled(name: str) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{name}"],
        "detail": {},
    }


WEBHOOK_EVENT = json.loads((ROOT / "events" / "webhook_shopify_orders_create.json").read_text())


def webhook(account_id: str, body: bytes, headers: dict[str, str]) -> dict:
    """An HTTP API (payload 2.0) event for POST /webhooks/{account_id}."""
    event = json.loads(json.dumps(WEBHOOK_EVENT))
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/{account_id}"
    event["pathParameters"] = {"account_id": account_id}
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["headers"] = {key.lower(): value for key, value in headers.items()}
    event["body"] = body.decode()
    return event


class Mapping:
    """An SQS event source mapping: receive up to BatchSize, invoke, delete the good, release the failed."""

    def __init__(self, functions: Functions, name: str, queue_url: str, batch_size: int) -> None:
        self.functions, self.name, self.url, self.batch_size = functions, name, queue_url, batch_size
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.failed = 0

    def drain(self) -> int:
        handled = 0
        while True:
            METER.actor = "SQS event source mapping"
            messages: list[dict] = []
            while len(messages) < self.batch_size:
                batch = self.sqs.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=min(10, self.batch_size - len(messages))
                ).get("Messages", [])
                messages += batch
                if not batch and METER.on:  # an empty poll: the mapping's idle polling, a fixed cost
                    METER.calls[("SQS event source mapping", "sqs:ReceiveMessage")] -= 1
                    METER.sqs_requests -= 1
                if len(batch) < 10:
                    break
            METER.actor = "bench"
            if not messages:
                return handled
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{self.url.rsplit('/', 1)[-1]}",
                    "awsRegion": REGION,
                }
                for m in messages
            ]
            answer = self.functions.invoke(self.name, {"Records": records}) or {}
            failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
            self.failed += len(failed)
            METER.actor = "SQS event source mapping"
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ]
                self.sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            METER.actor = "bench"
            handled += len(messages)
            if len(failed) == len(messages):
                return handled  # nothing got through: the checks at the end say what is wrong


def serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@contextmanager
def koppel_in_moto() -> Iterator[tuple[Functions, Any, Any]]:
    with embedded_aws("cost") as template:
        os.environ.update(function_environment(template))
        os.environ["STOCK_PUSH_DELAY_SECONDS"] = "0"  # the bench decides when the pusher runs
        wiring.reset()
        functions = Functions(template)
        yield functions, boto3.client("secretsmanager", region_name=REGION), wiring.config_store()


@contextmanager
def metering() -> Iterator[None]:
    METER.on = True
    try:
        yield
    finally:
        METER.on = False


def add_account(
    secrets: Any, store: Any, account_id: str, system: str, secret: dict[str, str], settings: dict | None = None
) -> None:
    """An account and its secret, as `koppel account put` and `koppel account secret` store them."""
    secrets.create_secret(Name=f"koppel/{account_id}", SecretString=json.dumps(secret))
    store.put_account(
        Account(account_id=account_id, system=system, secret_ref=f"koppel/{account_id}", settings=settings or {})
    )


def add_bol(secrets: Any, store: Any, bol_url: str) -> None:
    add_account(
        secrets, store, "bol-nl", "bol", {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        {"base_url": bol_url, "token_url": f"{bol_url}/token"},
    )  # fmt: skip


def pipeline(functions: Functions) -> Callable[[list[tuple[str, bytes, dict]]], None]:
    """Webhooks in windows: the receiver takes each, then the worker and the pusher what got queued."""
    worker = Mapping(
        functions, "QueueWorkerFunction", os.environ["EVENT_QUEUE_URL"], queue_batch(functions, "QueueWorkerFunction")
    )
    pusher = Mapping(
        functions,
        "StockPusherFunction",
        os.environ["STOCK_PUSH_QUEUE_URL"],
        queue_batch(functions, "StockPusherFunction"),
    )

    def deliver(window: list[tuple[str, bytes, dict]]) -> None:
        for account_id, body, headers in window:
            answer = functions.invoke("WebhookReceiverFunction", webhook(account_id, body, headers))
            if METER.on:
                METER.http_api += 1
                METER.log_bytes["KoppelHttpApi access log"] += len(ACCESS_LOG_LINE) + 1 + LOG_EVENT_OVERHEAD
            if answer["statusCode"] != 200:
                raise RuntimeError(f"the receiver refused a webhook: {answer}")
        worker.drain()
        pusher.drain()

    deliver.mappings = (worker, pusher)  # type: ignore[attr-defined]
    return deliver


def queue_batch(functions: Functions, name: str) -> int:
    return functions.specs[name].queues[0][1]


# --- the runs ---------------------------------------------------------------------------------------------
@dataclass
class Result:
    what: str
    units: int
    meter: Meter
    seconds: float
    problems: list[str]
    idle: Meter | None = None


def take_meter() -> Meter:
    global METER
    taken, METER = METER, Meter(memory_mb=dict(METER.memory_mb))
    return taken


def orders_run(schema: Any) -> Result:
    bol = BolSimulator(rate_limit=RateLimit(1_000_000, 1.0), rate_limits={"order": RateLimit(1_000_000, 1.0)})
    shop = ShopifySimulator(schema=schema, bucket_size=1_000_000, restore_rate=1_000_000)
    for n, (ean, sku) in enumerate(PRODUCTS):
        shop.add_variant(sku, barcode=ean, title=sku, price="9.95", inventory=STOCK)
        bol.add_offer(f"offer-{n:03d}", ean, reference=sku, stock=STOCK)
    for n in range(ORDERS):
        ean, sku = PRODUCTS[n % len(PRODUCTS)]
        bol.add_dutch_order(items=[SimItem(ean=ean, title=sku, unit_price=Decimal("9.95"))])
    problems: list[str] = []
    with koppel_in_moto() as (functions, secrets, store):
        bol_server, bol_url = serve(bol)
        shop_server, shop_url = serve(shop)
        add_bol(secrets, store, bol_url)
        add_account(
            secrets, store, "shop-main", "shopify", {"access_token": shop.access_token, "webhook_secret": SHOP_SECRET},
            {"shop_domain": "bench.myshopify.com", "base_url": shop_url},
        )  # fmt: skip
        store.put_link(Link(link_id="bol-to-shop", backoffice="shop-main", channel="bol-nl"))
        deliver = pipeline(functions)
        location = int(shop.locations[0]["id"].rsplit("/", 1)[-1])
        started = time.perf_counter()
        with metering():
            for _ in range(5):  # one run takes them all; a run out of time would leave the rest to the next
                before = len(shop.orders)
                functions.invoke("OrderPollerFunction", scheduled("OrderPollerFunction"))
                if len(shop.orders) in (before, ORDERS):
                    break
            # Each order's stock change: Shopify's inventory_levels/update, as it sends it, with what was
            # available right after that order.
            changes, available, clock = [], dict.fromkeys((sku for _, sku in PRODUCTS), STOCK), datetime.now(UTC)
            for n, order in enumerate(list(shop.orders)):
                for line in order["lines"]:
                    variant = shop.variant(line["sku"])
                    available[line["sku"]] -= line["quantity"]
                    body = json.dumps(
                        {
                            "inventory_item_id": int(variant["inventory_item_id"].rsplit("/", 1)[-1]),
                            "location_id": location,
                            "available": available[line["sku"]],
                            "updated_at": (clock + timedelta(seconds=n)).isoformat(timespec="milliseconds"),
                            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id=1",
                        }
                    ).encode()
                    headers = shopify_headers(
                        body, SHOP_SECRET, topic="inventory_levels/update", shop_domain="bench.myshopify.com"
                    )
                    changes.append(("shop-main", body, headers))
            for start in range(0, len(changes), WINDOW):
                deliver(changes[start : start + WINDOW])
            # The merchant ships every order in Shopify; the tracking updater tells bol.com.
            for n, order in enumerate(list(shop.orders)):
                shop.fulfill(order["id"], tracking_numbers=[f"3SKPNL{n:09d}"], company="PostNL")
            for _ in range(5):
                before = len(bol.shipments)
                functions.invoke("TrackingUpdaterFunction", scheduled("TrackingUpdaterFunction"))
                if len(bol.shipments) in (before, ORDERS):
                    break
            deliver([])
        seconds = time.perf_counter() - started
        # An idle run of each 5-minute schedule: the fixed cost, whatever the volume.
        taken = take_meter()
        with metering():
            functions.invoke("OrderPollerFunction", scheduled("OrderPollerFunction"))
            functions.invoke("TrackingUpdaterFunction", scheduled("TrackingUpdaterFunction"))
        idle = take_meter()
        created = {order.get("sourceIdentifier") for order in shop.orders}
        shipped = {shipment.order_id for shipment in bol.shipments}
        if len(created) != ORDERS:
            problems.append(f"{ORDERS - len(created)} bol.com orders not in Shopify")
        if len(shipped) != ORDERS:
            problems.append(f"{ORDERS - len(shipped)} orders not shipped on bol.com")
        wrong = [
            sku
            for n, (_, sku) in enumerate(PRODUCTS)
            if not bol.offer_stock(f"offer-{n:03d}") == available[sku] == shop.inventory(sku)
        ]
        if wrong:
            problems.append(f"{len(wrong)} bol.com offers not on Shopify's stock ({', '.join(wrong[:5])})")
        for mapping in deliver.mappings:  # type: ignore[attr-defined]
            if mapping.failed:
                problems.append(f"{mapping.failed} records failed in {mapping.name}")
        if bol.violations or shop.violations:
            problems.append(f"{len(bol.violations)} bol.com and {len(shop.violations)} Shopify spec violations")
        bol_server.shutdown()
        shop_server.shutdown()
        return Result("orders", ORDERS, taken, seconds, problems, idle)


def mutations_run(schema: Any) -> Result:
    bol = BolSimulator(rate_limit=RateLimit(1_000_000, 1.0), pending_polls=0)
    shop = ShopifySimulator(schema=schema, bucket_size=1_000_000, restore_rate=1_000_000)
    skus = [f"POS-{n:04d}" for n in range(SKUS)]
    for n, sku in enumerate(skus):
        ean = f"87{n:011d}"
        bol.add_offer(f"offer-{n:04d}", ean, reference=sku, stock=0)
        shop.add_variant(sku, barcode=ean, title=sku, price="9.95", inventory=0)
    rng = random.Random(2026)
    start_at = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    final: dict[str, int] = {}
    deliveries = []
    for i in range(MUTATIONS):
        sku = skus[i % SKUS] if i < SKUS else rng.choice(skus)
        on_hand = rng.randrange(0, 500)
        final[sku] = on_hand
        at = (start_at + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        body = json.dumps({"levels": [{"sku": sku, "on_hand": on_hand, "observed_at": at}]}).encode()
        deliveries.append(body)
    problems: list[str] = []
    with koppel_in_moto() as (functions, secrets, store):
        bol_server, bol_url = serve(bol)
        shop_server, shop_url = serve(shop)
        add_account(secrets, store, "korona-pos", "korona", {"webhook_secret": POS_SECRET})
        add_bol(secrets, store, bol_url)
        add_account(
            secrets, store, "webshop", "shopify", {"access_token": shop.access_token},
            {"shop_domain": "bench.myshopify.com", "base_url": shop_url},
        )  # fmt: skip
        for link_id, channel in (("pos-to-bol", "bol-nl"), ("pos-to-shop", "webshop")):
            store.put_link(
                Link(
                    link_id=link_id,
                    backoffice="korona-pos",
                    channel=channel,
                    flows={"orders": False, "tracking": False},
                )
            )
        deliver = pipeline(functions)
        started = time.perf_counter()
        with metering():
            for first in range(0, len(deliveries), WINDOW):
                # Signed as sent: koppel refuses a signature older than its window.
                window = deliveries[first : first + WINDOW]
                deliver(
                    [("korona-pos", body, koppel_headers(body, POS_SECRET, topic="stock.changed")) for body in window]
                )
            deliver([])
        seconds = time.perf_counter() - started
        for channel, holds in (
            ("bol.com", lambda n, sku: bol.offer_stock(f"offer-{n:04d}")),
            ("Shopify", lambda n, sku: shop.inventory(sku)),
        ):
            # Fewer mutations than SKUs leave the rest untouched: only the mutated ones are checked.
            wrong = [sku for n, sku in enumerate(skus) if sku in final and holds(n, sku) != final[sku]]
            if wrong:
                problems.append(f"{len(wrong)} SKUs not on their final stock in {channel} ({', '.join(wrong[:5])})")
        for mapping in deliver.mappings:  # type: ignore[attr-defined]
            if mapping.failed:
                problems.append(f"{mapping.failed} records failed in {mapping.name}")
        if bol.violations or shop.violations:
            problems.append(f"{len(bol.violations)} bol.com and {len(shop.violations)} Shopify spec violations")
        bol_server.shutdown()
        shop_server.shutdown()
        return Result("stock mutations", MUTATIONS, take_meter(), seconds, problems)


# --- dollars ------------------------------------------------------------------------------------------------
def gb_seconds(meter: Meter, durations: Counter) -> float:
    return sum(ms / 1000 * meter.memory_mb[name] / 1024 for name, ms in durations.items())


def bill(meter: Meter, *, modelled: bool = True) -> dict[str, tuple[str, float]]:
    """Service → (the units, in words; dollars)."""
    durations = meter.modelled_ms if modelled else meter.billed_ms
    invocations = sum(meter.invocations.values())
    gbs = gb_seconds(meter, durations)
    log_bytes = sum(meter.log_bytes.values())
    return {
        "Lambda requests": (f"{invocations:,} invocations", invocations * LAMBDA_PER_REQUEST),
        "Lambda duration": (f"{gbs:,.1f} GB-s", gbs * LAMBDA_PER_GB_SECOND),
        "DynamoDB": (
            f"{meter.wru:,.0f} WRU, {meter.rru:,.1f} RRU",
            meter.wru * DYNAMODB_PER_WRU + meter.rru * DYNAMODB_PER_RRU,
        ),
        "SQS": (f"{meter.sqs_requests:,} requests", meter.sqs_requests * SQS_PER_REQUEST),
        "S3": (
            f"{meter.s3_put:,} PUT, {meter.s3_get:,} GET",
            meter.s3_put * S3_PER_PUT_REQUEST + meter.s3_get * S3_PER_GET_REQUEST,
        ),
        "Secrets Manager / SSM": (
            f"{meter.secrets:,} + {meter.ssm:,} calls",
            meter.secrets * SECRETS_PER_CALL + meter.ssm * SSM_PER_CALL,
        ),
        "CloudWatch Logs": (f"{log_bytes / 1e6:,.2f} MB ingested", log_bytes / 1e9 * LOGS_PER_GB_INGESTED),
        "API Gateway HTTP API": (f"{meter.http_api:,} requests", meter.http_api * HTTP_API_PER_REQUEST),
        "X-Ray": (f"{invocations:,} traces (upper bound)", invocations * XRAY_PER_TRACE),
    }


def say(text: str = "") -> None:
    print(text, file=OUT, flush=True)


def report(result: Result) -> float:
    meter, per = result.meter, 1000 / result.units
    say(f"\n{result.what}: {result.units:,} through koppel in {result.seconds:.0f} s (window {WINDOW})")
    say("  Lambda, by function:   invocations   ms measured   ms modelled   MB   external calls   log bytes")
    for name in sorted(meter.invocations):
        say(
            f"    {name:26s} {meter.invocations[name]:8,} {meter.billed_ms[name]:13,} {meter.modelled_ms[name]:13,} "
            f"{meter.memory_mb[name]:5} {meter.external[name]:12,} {meter.log_bytes[name]:12,}"
        )
    say("  AWS calls, by caller and operation:")
    for (actor, operation), count in sorted(meter.calls.items()):
        say(f"    {actor:26s} {operation:36s} {count:8,}   {count / result.units:6.2f} per {result.what[:-1]}")
    rows, measured = bill(meter), bill(meter, modelled=False)
    total = sum(dollars for _, dollars in rows.values())
    say(f"  dollars per 1,000 {result.what}, eu-west-1 list prices (Lambda duration as modelled):")
    for service, (units, dollars) in rows.items():
        say(f"    {service:24s} {units:36s} ${dollars * per:9.5f}   {dollars / max(total, 1e-12):5.1%}")
    measured_total = sum(dollars for _, dollars in measured.values())
    say(f"    {'total':24s} {'':36s} ${total * per:9.5f}   (Lambda duration as measured: ${measured_total * per:.5f})")
    return total * per


def baseline(result: Result, per_thousand: float) -> None:
    meter, n = result.meter, result.units
    one = result.what[:-1]
    invocations = sum(meter.invocations.values())
    gbs = gb_seconds(meter, meter.modelled_ms)
    say(
        f"  baseline, per single {one}: {meter.aws_total() / n:.1f} AWS calls, {invocations / n:.2f} invocations, "
        f"{sum(meter.modelled_ms.values()) / n:.0f} ms modelled ({sum(meter.billed_ms.values()) / n:.0f} measured), "
        f"{meter.wru / n:.1f} WRU + {meter.rru / n:.1f} RRU, "
        f"{sum(meter.log_bytes.values()) / n / 1024:.1f} KB of logs, "
        f"${per_thousand / 1000:.7f}"
    )
    limits = {
        "Lambda requests": FREE_LAMBDA_REQUESTS / (invocations / n),
        "Lambda GB-s": FREE_LAMBDA_GB_SECONDS / (gbs / n),
        "SQS requests": FREE_SQS_REQUESTS / (meter.sqs_requests / n),
        "CloudWatch Logs": FREE_LOGS_GB * 1e9 / (sum(meter.log_bytes.values()) / n),
        "X-Ray traces": FREE_XRAY_TRACES / (invocations / n),
    }
    binding = min(limits, key=limits.get)
    say(
        f"  baseline, the always-free tier: {limits[binding]:,.0f} {result.what} a month fit before {binding} is "
        f"paid for (DynamoDB on-demand, Secrets Manager and the HTTP API have no always-free requests)"
    )


COLD_FUNCTIONS = (
    "OrderPollerFunction",
    "TrackingUpdaterFunction",
    "WebhookReceiverFunction",
    "QueueWorkerFunction",
    "StockPusherFunction",
)


def cold_starts(per_thousand: dict[str, float]) -> None:
    """Each function's init (its module imported in a fresh interpreter), billed once per new container:
    not in the figures above, shown as what one cold start of each costs beside them."""
    template = Template()
    memory = int(template.body["Globals"]["Function"].get("MemorySize", 128))
    probe = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    seconds = {}
    for name in COLD_FUNCTIONS:
        props = template.resources[name]["Properties"]
        module = props["Handler"].rsplit(".", 1)[0]
        env = os.environ | offline_environment(log_level="INFO") | {"PYTHONPATH": str(ROOT / props["CodeUri"])}
        answer = subprocess.run(
            [sys.executable, "-c", probe.format(module=module)], capture_output=True, text=True, env=env, check=True
        )
        seconds[name] = float(answer.stdout.strip().splitlines()[-1])
    dollars = sum(s * memory / 1024 * LAMBDA_PER_GB_SECOND for s in seconds.values())
    say(
        "\ncold starts (init billed once per new container, not in the figures above): "
        + ", ".join(f"{name.removesuffix('Function')} {s * 1000:.0f} ms" for name, s in seconds.items())
    )
    say(
        f"  one cold start of each of these functions: ${dollars:.6f}; one set per 1,000 orders would add "
        f"{dollars / per_thousand['orders']:.2%} to the orders figure"
    )


def main() -> None:
    began = time.perf_counter()
    say("koppel's AWS cost: deployed handlers, tables and queues in moto in-process, bol.com and Shopify on 127.0.0.1")
    if ORDERS < 1000 or MUTATIONS < 1000:
        say(
            f"  scaled: {ORDERS:,} orders and {MUTATIONS:,} mutations run, figures per 1,000 "
            "(BENCH_ORDERS=1000 BENCH_MUTATIONS=1000 for the full run)"
        )
    say(
        f"  modelled Lambda time = measured + {AWS_CALL_MS} ms per AWS call + {EXTERNAL_CALL_MS} ms per call to "
        f"bol.com or Shopify (the order poller's overlapping {OVERLAP['OrderPollerFunction']} ways)"
    )
    schema = load_schema()
    orders = orders_run(schema)
    per_order = report(orders)
    baseline(orders, per_order)
    idle_dollars = sum(dollars for _, dollars in bill(orders.idle).values())
    runs_a_month = 2 * 12 * 24 * 30  # the order poller and the tracking updater, every 5 minutes
    say(
        f"  fixed, whatever the volume: an idle poller + tracking run costs ${idle_dollars / 2:.7f}; "
        f"{runs_a_month:,} runs a month = ${idle_dollars / 2 * runs_a_month:.2f} a month for one link "
        f"(plus $0.40 a month per account secret)"
    )
    idle_polls = 2 * IDLE_POLLERS * 3 * 60 * 24 * 30  # two mapped queues, a 20 s long poll after another
    say(
        f"  and the SQS mappings' idle long polls (not in the figures): up to {idle_polls:,} empty receives a month "
        f"({IDLE_POLLERS} pollers on each of the 2 queues) = ${idle_polls * SQS_PER_REQUEST:.2f} a month"
    )
    verdict = "PASS" if per_order < GOAL_PER_1000_ORDERS else "FAIL"
    say(f"  goal: under ${GOAL_PER_1000_ORDERS:.2f} per 1,000 orders: ${per_order:.4f}   {verdict}")
    mutations = mutations_run(schema)
    per_mutation = report(mutations)
    baseline(mutations, per_mutation)
    cold_starts({"orders": per_order, "mutations": per_mutation})
    say(f"  bench took {time.perf_counter() - began:.0f} s")
    problems = orders.problems + mutations.problems
    if problems:
        say(f"  UNEXPECTED: {'; '.join(problems)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
