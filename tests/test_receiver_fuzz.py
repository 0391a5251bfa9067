"""The webhook receiver under generated deliveries: whatever arrives, the sender gets a 2xx or a 4xx
with the reason, never a 5xx or an uncaught exception, and nothing is stored or queued unless the
delivery is signed with the account's secret and its body is a well-formed JSON object.

Each test drives the real handler in-process (moto), Hypothesis derandomized so every run sends the
same deliveries: random bytes, truncated and mutated real payloads, huge and deeply nested bodies,
missing, duplicated and odd headers, wrong methods and paths, valid signatures over garbage, topics
koppel does not take.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import webhook_receiver
from botocore.client import BaseClient
from helpers import EVENTS, WEBHOOK_SECRET, sample_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koppel.webhooks import body_digest, koppel_digest
from koppel_local.reference import MISSING_REASON, reference_file

FUZZ: dict[str, Any] = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # One moto stack per test, shared by its examples: each example is judged by the AWS calls it made.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

SECRETS = {"shop-main": WEBHOOK_SECRET, "woo": "woo-secret", "korona-pos": "pos-secret"}
SCHEME = {"shop-main": "shopify", "woo": "woocommerce", "korona-pos": "koppel"}
TOPICS = {
    "shopify": ["orders/create", "inventory_levels/update", "refunds/create", "products/update"],
    "woocommerce": ["order.created", "product.updated"],
    "koppel": ["stock.changed", "order.created"],
}
SIGNED_HEADERS = {
    "shopify": {"x-shopify-hmac-sha256"},
    "woocommerce": {"x-wc-webhook-signature"},
    "koppel": {"x-koppel-timestamp", "x-koppel-event-id", "x-koppel-topic", "x-koppel-signature"},
}


def _digits(number: str, zero: int) -> str:
    return "".join(chr(zero + int(digit)) for digit in number)


# Digits to str.isdigit, and to int() too for some, but no unix time koppel's scheme allows.
FULLWIDTH_TIME = _digits(str(int(time.time())), 0xFF10)
ARABIC_INDIC_TIME = _digits(str(int(time.time())), 0x0660)
SUPERSCRIPT_TWO = "\u00b2"
UNWANTED_TOPICS = ["app/uninstalled", "customers/redact", "shop/redact", "../../etc/passwd", "", "orders/paid\x00"]
ODD_TEXT = st.sampled_from(
    ["", " ", "\ud800", "é", "x" * 3000, "\x00", "a,b", "v1=", "\n", FULLWIDTH_TIME, ARABIC_INDIC_TIME]
)


def _real_payloads() -> list[bytes]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    payloads = [
        sample_body(),
        json.dumps({"inventory_item_id": 808950810, "location_id": 905684977, "available": 6, "updated_at": now}),
        json.dumps({"id": 727, "status": "processing", "line_items": [{"sku": "MUG-BLUE-350", "quantity": 1}]}),
        json.dumps({"id": 9, "manage_stock": True, "sku": "TEA-ROOIBOS-100", "stock_quantity": 3}),
        json.dumps({"levels": [{"sku": "MUG-BLUE-350", "quantity": 7, "observed_at": "2026-11-21T13:00:00Z"}]}),
        json.dumps({"sku": "MUG-BLUE-350", "on_hand": 2}),
        json.loads((EVENTS / "sqs_stock_changed.json").read_text())["Records"][0]["body"],
    ]
    for system, name in [("shopify", "orders_create.sample.json"), ("shopify", "refunds_create.sample.json")]:
        path = reference_file(system, name)
        if path is not None:
            payloads.append(path.read_text())
    return [p.encode() if isinstance(p, str) else p for p in payloads]


REAL = _real_payloads()

# A refusal publishes no metric; Powertools warns about that on every one.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


def _nested(depth: int) -> bytes:
    return ('{"id": 1, "a": ' + "[" * depth + "]" * depth + "}").encode()


GARBAGE = [
    _nested(1000),
    _nested(100),
    _nested(40),
    b'{"id": ' + b"9" * 5000 + b"}",
    b'{"id": 1, "available": NaN}',
    b'{"id": 1, "x": Infinity}',
    b"[1, 2]",
    b'"text"',
    b"null",
    b"",
    b"\xff\xfe\x00",
    b'{"id": 1, "s": "\\ud800"}',
    b"webhook_id=42",
    b"webhook_id=42\n",
    b'{"id": 1}' + b" " * 900_000,  # over MAX_WEBHOOK_BYTES
]


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["real"] * 3 + ["truncated", "mutated", "random", "garbage", "json"]))
    if kind == "real":
        return draw(st.sampled_from(REAL))
    if kind == "truncated":
        real = draw(st.sampled_from(REAL))
        return real[: draw(st.integers(0, len(real)))]
    if kind == "mutated":
        real = bytearray(draw(st.sampled_from(REAL)))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(real) - 1))
            real[at] = draw(st.integers(0, 255))
        return bytes(real)
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "garbage":
        return draw(st.sampled_from(GARBAGE))
    value = draw(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children),
            max_leaves=20,
        )
    )
    return json.dumps(value).encode()


@dataclass
class Delivery:
    account_id: str
    body: bytes
    headers: dict[str, str]
    method: str = "POST"
    path: str = ""
    base64: bool | str = False  # True: the body base64-encoded; "broken": flagged but not base64
    signed: bool = False  # signed with the account's secret over exactly what is sent
    notes: list[str] = field(default_factory=list)


def sign(account_id: str, body: bytes, topic: str, *, secret: str | None = None, at: int | None = None) -> dict:
    secret = secret or SECRETS[account_id]
    scheme = SCHEME[account_id]
    if scheme == "shopify":
        return {
            "x-shopify-hmac-sha256": body_digest(secret, body),
            "x-shopify-topic": topic,
            "x-shopify-event-id": str(uuid.uuid4()),
            "x-shopify-triggered-at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
    if scheme == "woocommerce":
        return {
            "x-wc-webhook-signature": body_digest(secret, body),
            "x-wc-webhook-topic": topic,
            "x-wc-webhook-delivery-id": uuid.uuid4().hex,
        }
    stamp = str(int(time.time()) if at is None else at)
    event_id = str(uuid.uuid4())
    return {
        "x-koppel-timestamp": stamp,
        "x-koppel-event-id": event_id,
        "x-koppel-topic": topic,
        "x-koppel-signature": f"v1={koppel_digest(secret, stamp, event_id, topic, body)}",
    }


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    # Mostly the configured accounts, so most deliveries get as far as their signature and beyond.
    odd_ids = ["nobody", "bol-nl", "x" * 3000, "Shop-Main", "\ud800", "a/b", ""]
    account_id = draw(st.sampled_from([*SECRETS] * 6 + odd_ids))
    body = draw(bodies())
    if account_id not in SECRETS:
        return Delivery(account_id, body, sign("shop-main", body, "orders/create"))
    scheme = SCHEME[account_id]
    topic = draw(st.sampled_from(TOPICS[scheme] * 4 + UNWANTED_TOPICS) | st.text(max_size=30))
    how = draw(st.sampled_from(["signed"] * 4 + ["wrong secret", "unsigned", "tampered", "odd header"]))
    if how == "unsigned":
        return Delivery(account_id, body, {"x-shopify-topic": topic, "x-koppel-topic": topic})
    try:
        headers = sign(account_id, body, topic, secret="guess" if how == "wrong secret" else None)
    except UnicodeEncodeError:  # a topic no sender could sign
        return Delivery(account_id, body, {"x-koppel-topic": topic, "x-shopify-topic": topic})
    delivery = Delivery(account_id, body, headers, signed=how == "signed")
    if how == "tampered" and body:
        delivery.body = body[:-1] + bytes([body[-1] ^ 1])
    elif how == "odd header":
        name = draw(st.sampled_from(sorted(headers)))
        value = draw(ODD_TEXT | st.text(max_size=40))
        appended = False
        if draw(st.booleans()):
            headers[name] = value
        elif draw(st.booleans()):
            headers[name] = f"{headers[name]},{value}"  # a repeated header, as API Gateway joins it
            appended = True
        else:
            del headers[name]
        delivery.notes.append(f"{name}={value!r}")
        # Shopify and WooCommerce sign the body alone; koppel's scheme signs its four headers too,
        # and takes any one of several `v1=` signatures.
        keeps_signature = name not in SIGNED_HEADERS[scheme] or (appended and name == "x-koppel-signature")
        delivery.signed = keeps_signature
    if scheme == "koppel" and how == "signed" and draw(st.integers(0, 9)) == 0:
        # Correctly signed, but a timestamp that is no unix time.
        stamp = draw(st.sampled_from([FULLWIDTH_TIME, ARABIC_INDIC_TIME, "9" * 30, "-5", "1.5", SUPERSCRIPT_TWO]))
        event_id, topic = headers["x-koppel-event-id"], headers["x-koppel-topic"]
        headers["x-koppel-timestamp"] = stamp
        headers["x-koppel-signature"] = f"v1={koppel_digest(SECRETS[account_id], stamp, event_id, topic, body)}"
        delivery.notes.append(f"timestamp {stamp!r}")
    choice = draw(st.integers(0, 19))
    if choice == 0:
        delivery.base64 = "broken"
        delivery.signed = False
    elif choice == 1:
        delivery.base64 = True
    return delivery


def api_event(delivery: Delivery) -> dict[str, Any]:
    event = json.loads((EVENTS / "webhook_shopify_orders_create.json").read_text())
    path = delivery.path or f"/webhooks/{delivery.account_id}"
    event["rawPath"] = path
    event["routeKey"] = "$default"
    event["pathParameters"] = {"account_id": delivery.account_id}
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = delivery.method
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["headers"] = dict(delivery.headers)
    if delivery.base64 == "broken":
        event["body"], event["isBase64Encoded"] = "not base64 at all!", True
    elif delivery.base64 or not _is_text(delivery.body):
        event["body"], event["isBase64Encoded"] = base64.b64encode(delivery.body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = delivery.body.decode(), False
    return event


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


STORING = {("sqs", "SendMessage"), ("sqs", "SendMessageBatch")}


@pytest.fixture
def receiver(stack, context, monkeypatch):
    """Sends one delivery through the handler; returns (status, answer, the calls that stored something)."""
    stack.add_account(
        "shop-main", "shopify", {"webhook_secret": WEBHOOK_SECRET}, settings={"shop_domain": "demo-shop.myshopify.com"}
    )
    stack.add_account(
        "woo", "woocommerce", {"webhook_secret": "woo-secret"}, settings={"base_url": "https://w.example"}
    )
    stack.add_account("korona-pos", "korona", {"webhook_secret": "pos-secret"})
    stack.add_account("bol-nl", "bol", {"client_id": "x", "client_secret": "y"})
    idempotency_table = stack.ref("IdempotencyTable")
    stored: list[str] = []
    make_call = BaseClient._make_api_call

    def record(self: BaseClient, operation: str, params: dict) -> Any:
        service = self.meta.service_model.service_name
        writes_idempotency = service == "dynamodb" and params.get("TableName") == idempotency_table
        if (service, operation) in STORING or (writes_idempotency and operation != "GetItem"):
            stored.append(f"{service}:{operation}")
        return make_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)

    def send(delivery: Delivery) -> tuple[int, dict, list[str]]:
        stored.clear()
        answer = webhook_receiver.lambda_handler(api_event(delivery), context)
        return answer["statusCode"], json.loads(answer.get("body") or "{}"), list(stored)

    return send


def judge(delivery: Delivery, status: int, answer: dict, stored: list[str]) -> None:
    seen = f"{delivery.method} {delivery.path or '/webhooks/' + delivery.account_id[:40]} {delivery.notes}"
    assert status < 500, f"{seen} -> {status} {answer}"
    if status >= 400:
        assert answer.get("reason"), f"{seen} -> {status} without a reason: {answer}"
    else:
        assert answer.get("status") in {"accepted", "ping", "ignored", "installed"}, f"{seen} -> {answer}"
    if stored:
        assert delivery.signed, f"{seen}: not signed with the account's secret, yet {stored}"
        assert isinstance(json.loads(delivery.body), dict), f"{seen}: body no JSON object, yet {stored}"
    if answer.get("status") == "accepted":
        assert delivery.signed and stored, f"{seen}: accepted without a signature or without being queued"


# --- the properties -----------------------------------------------------------------------------
@settings(**FUZZ, max_examples=1400)
@given(delivery=deliveries())
def test_any_delivery_gets_a_2xx_or_a_4xx_with_the_reason_and_is_stored_only_when_signed(receiver, delivery):
    judge(delivery, *receiver(delivery))


@settings(**FUZZ, max_examples=400)
@given(
    account=st.sampled_from(list(SECRETS)),
    topic=st.sampled_from([topic for topics in TOPICS.values() for topic in topics]),
    body=st.sampled_from(GARBAGE) | st.binary(max_size=200) | bodies(),
)
def test_a_valid_signature_over_garbage_is_refused_with_the_reason_and_stores_nothing(receiver, account, topic, body):
    # GIVEN whatever body, signed with the account's own secret (the sender's system, or its key, is compromised)
    delivery = Delivery(account, body, sign(account, body, topic), signed=True)
    status, answer, stored = receiver(delivery)
    judge(delivery, status, answer, stored)
    # THEN a body that is no JSON object is never stored
    try:
        well_formed = isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        well_formed = False
    if not well_formed:
        assert status >= 400 or answer["status"] in {"ping", "ignored"}, answer
        assert stored == []


@settings(**FUZZ, max_examples=250)
@given(
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST"]),
    path=st.sampled_from(["/", "/webhooks", "/webhooks/", "/webhooks/shop-main/x", "/feeds/x", "/WEBHOOKS/shop-main"])
    | st.text(max_size=60).map(lambda t: "/" + t),
    delivery=deliveries(),
)
def test_wrong_methods_and_paths_get_a_4xx_with_the_reason(receiver, method, path, delivery):
    delivery.method = method
    delivery.path = path if method == "POST" else (path if path.startswith("/w") else f"/webhooks/{path}")
    status, answer, stored = receiver(delivery)
    judge(delivery, status, answer, stored)
    if method != "POST":
        assert status in {404, 405}, answer
        assert stored == []


# --- the known crashers, each named ------------------------------------------------------------
@pytest.mark.parametrize("stamp", [FULLWIDTH_TIME, ARABIC_INDIC_TIME, "9" * 30, SUPERSCRIPT_TWO])
def test_a_correctly_signed_koppel_timestamp_that_is_no_unix_time_gets_401(receiver, stamp):
    body = b'{"sku": "MUG-BLUE-350", "quantity": 4}'
    headers = sign("korona-pos", body, "stock.changed")
    headers["x-koppel-timestamp"] = stamp
    headers["x-koppel-signature"] = "v1=" + koppel_digest(
        "pos-secret", stamp, headers["x-koppel-event-id"], "stock.changed", body
    )
    status, answer, stored = receiver(Delivery("korona-pos", body, headers))
    assert (status, stored) == (401, [])
    assert "unix seconds" in answer["reason"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(_nested(1000), "nested"), (b'{"id": ' + b"9" * 5000 + b"}", "number"), (b'{"id": NaN}', "number")],
    ids=["1000 levels deep", "5000-digit integer", "NaN"],
)
@pytest.mark.parametrize("account", list(SECRETS))
def test_a_signed_body_too_deep_or_with_an_unreadable_number_gets_400(receiver, account, body, reason):
    topic = TOPICS[SCHEME[account]][0]
    status, answer, stored = receiver(Delivery(account, body, sign(account, body, topic), signed=True))
    assert (status, stored) == (400, [])
    assert reason in answer["reason"]


def test_a_body_flagged_base64_that_is_not_gets_400(receiver):
    body = sample_body()
    status, answer, stored = receiver(
        Delivery("shop-main", body, sign("shop-main", body, "orders/create"), base64="broken")
    )
    assert (status, stored) == (400, [])
    assert "base64" in answer["reason"]


@pytest.mark.parametrize("name", ["x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-event-id"])
def test_a_lone_surrogate_in_a_header_gets_400(receiver, name):
    body = sample_body()
    headers = sign("shop-main", body, "orders/create") | {name: "abc\ud800"}
    status, answer, stored = receiver(Delivery("shop-main", body, headers))
    assert (status, stored) == (400, [])
    assert "printable" in answer["reason"]


@pytest.mark.skipif(reference_file("shopify", "orders_create.sample.json") is None, reason=MISSING_REASON)
def test_the_reference_samples_are_among_the_fuzzed_payloads():
    assert len(REAL) == 9
