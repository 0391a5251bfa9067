"""The simulator kit: each contract checker against the published document it reads, and each
fault, rate-limit, paging and auth tool as a simulator uses it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from koppel_local.reference import reference_file
from koppel_local.simulators.kit import (
    Answer,
    BasicAuth,
    BearerTokens,
    Call,
    ClientCredentials,
    ContractViolation,
    DailyCap,
    FaultPlan,
    FixedWindows,
    HeaderKey,
    LeakyBucket,
    OpenApiContract,
    ParallelWriteCap,
    RateLimit,
    ReferenceMissing,
    WebhookSender,
    WsgiSimulator,
    XmlField,
    XmlShape,
    cursor_page,
    hmac_signature,
    json_response,
    load_graphql,
    load_openapi,
    load_prestashop_shape,
    offset_window,
    page_of,
    route,
    signature_matches,
)
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip, fail_on_unclaimed, strict_simulators  # noqa: F401

V10 = "application/vnd.retailer.v10+json"


def call(method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None, **headers: str) -> Call:
    content = json.dumps(body).encode() if body is not None else b""
    return Call(
        method, path, MultiDict(query or {}), Headers({k.replace("_", "-"): v for k, v in headers.items()}), content
    )


def refused(contract: Any, checked: Call) -> ContractViolation:
    with pytest.raises(ContractViolation) as caught:
        contract.check_request(checked)
    return caught.value


# --- OpenAPI 3.0: bol.com, KORONA, SnelStart ---------------------------------------------------
def test_bol_orders_request_is_checked_against_the_retailer_spec() -> None:
    contract = contract_or_skip(load_openapi, "bol", "retailer.json")

    contract.check_request(call("GET", "/retailer/orders", query={"status": "OPEN"}, Accept=V10))
    error = refused(contract, call("GET", "/retailer/orders", query={"status": "BOGUS"}, Accept=V10))

    assert [v.name for v in error.violations] == ["status"]
    assert "bol/retailer.json#/paths/~1retailer~1orders/get/parameters/" in str(error)
    assert str(error).endswith("/schema/enum: status: 'BOGUS' is not one of ['OPEN', 'SHIPPED', 'ALL']")


def test_a_bol_answer_off_its_response_schema_is_named() -> None:
    contract = contract_or_skip(load_openapi, "bol", "retailer.json")
    orders = call("GET", "/retailer/orders", Accept=V10)

    with pytest.raises(ContractViolation) as caught:
        contract.check_response(orders, Answer(200, V10, json.dumps({"orders": [{"orderId": 5}]}).encode()))

    assert "orders[0].orderId" in [v.name for v in caught.value.violations]
    assert all(v.location.startswith("/components/schemas/") for v in caught.value.violations)


def test_korona_paging_parameters_are_typed() -> None:
    contract = contract_or_skip(load_openapi, "korona", "korona-cloud-api-v3.swagger.json")
    products = "/web/api/v3/accounts/demo/products"  # the servers entry gives the base path

    contract.check_request(call("GET", products, query={"page": "2", "size": "50"}, Accept="application/json"))
    error = refused(contract, call("GET", products, query={"page": "two"}, Accept="application/json"))

    (violation,) = error.violations
    assert (violation.name, violation.reason) == ("page", "'two' is not an integer")
    assert violation.location == "/paths/~1accounts~1{koronaAccountId}~1products/get/parameters/1/schema"


def test_snelstart_refuses_a_page_larger_than_its_maximum() -> None:
    contract = contract_or_skip(load_openapi, "snelstart", "snelstart-b2b-api-v2.openapi.yaml")

    contract.check_request(call("GET", "/v2/artikelen", query={"$top": "25"}, Accept="application/json"))
    error = refused(contract, call("GET", "/v2/artikelen", query={"$top": "100"}, Accept="application/json"))

    (violation,) = error.violations
    assert violation.name == "$top"
    assert violation.location.startswith("/paths/~1artikelen/get/parameters/")
    assert violation.location.endswith("/schema/maximum")


# --- Swagger 2.0: Magento (Adobe Commerce) -----------------------------------------------------
def test_magento_shipment_body_is_checked_against_its_definitions() -> None:
    contract = contract_or_skip(load_openapi, "magento", "admin-schema-2.4.9.yaml")
    path = "/rest/default/V1/order/42/ship"  # basePath /rest/default, then the spec's own path
    json_type = {"Content_Type": "application/json", "Accept": "application/json"}
    track = {"track_number": "3SKPNL123456789", "title": "PostNL", "carrier_code": "postnl"}

    contract.check_request(
        call("POST", path, body={"items": [{"order_item_id": 7, "qty": 1}], "tracks": [track]}, **json_type)
    )
    error = refused(contract, call("POST", path, body={"items": [{"order_item_id": 7, "qty": "one"}]}, **json_type))

    (violation,) = error.violations
    assert violation.name == "items[0].qty"
    assert violation.location == "/definitions/sales-data-shipment-item-creation-interface/properties/qty/type"


def test_magento_path_parameters_are_typed() -> None:
    contract = contract_or_skip(load_openapi, "magento", "admin-schema-2.4.9.yaml")

    error = refused(contract, call("POST", "/rest/default/V1/order/abc/ship", body={}, Content_Type="application/json"))

    assert [(v.name, v.reason) for v in error.violations] == [("orderId", "'abc' is not an integer")]
    assert error.violations[0].location == "/paths/~1V1~1order~1{orderId}~1ship/post/parameters/0"


def test_magento_search_criteria_may_repeat_their_groups() -> None:
    contract = contract_or_skip(load_openapi, "magento", "admin-schema-2.4.9.yaml")
    query = {
        "searchCriteria[filterGroups][1][filters][0][field]": "status",
        "searchCriteria[filterGroups][1][filters][0][value]": "pending",
        "searchCriteria[pageSize]": "50",
    }

    contract.check_request(call("GET", "/rest/default/V1/orders", query=query))
    error = refused(contract, call("GET", "/rest/default/V1/orders", query={**query, "searchCriteria[pageSize]": "x"}))

    assert [(v.name, v.reason) for v in error.violations] == [("searchCriteria[pageSize]", "'x' is not an integer")]
    assert error.violations[0].location.startswith("/paths/~1V1~1orders/get/parameters/")


# --- GraphQL SDL: Shopify ------------------------------------------------------------------------
def test_a_graphql_document_is_checked_against_the_shopify_schema() -> None:
    contract = contract_or_skip(load_graphql, "shopify", "admin_2025-04.schema.graphql")

    contract.check_request(call("POST", "/graphql.json", body={"query": "{ shop { name } }"}))
    error = refused(contract, call("POST", "/graphql.json", body={"query": "{ shop { nonsense } }"}))

    (violation,) = error.violations
    assert "Cannot query field 'nonsense' on type 'Shop'" in violation.reason
    assert violation.location == "document@1:10"
    assert str(error).startswith("shopify/admin_2025-04.schema.graphql#document@1:10")
    assert error.details[0]["message"] == violation.reason  # what Shopify would answer in `errors`


def test_graphql_variables_are_coerced_to_their_declared_types() -> None:
    contract = contract_or_skip(load_graphql, "shopify", "admin_2025-04.schema.graphql")
    query = "query One($id: ID!) { order(id: $id) { name } }"

    error = refused(contract, call("POST", "/graphql.json", body={"query": query, "variables": {}}))

    assert [v.name for v in error.violations] == ["variables"]


# --- XML shapes: PrestaShop ----------------------------------------------------------------------
STOCK = (
    "<prestashop><stock_available><id_product>12</id_product><id_product_attribute>0</id_product_attribute>"
    "<quantity>{quantity}</quantity><depends_on_stock>0</depends_on_stock><out_of_stock>2</out_of_stock>"
    "{extra}</stock_available></prestashop>"
)


def test_a_prestashop_stock_body_is_checked_against_the_documented_fields() -> None:
    shape = contract_or_skip(load_prestashop_shape, "stock_availables", "stock_available")

    shape.check_request(Call("PUT", "/api/stock_availables/3", body=STOCK.format(quantity=7, extra="").encode()))
    found = shape.body_violations(STOCK.format(quantity="lots", extra="<colour>red</colour>").encode())

    assert [(v.name, v.reason) for v in found] == [
        ("stock_available.colour", "not a field of this resource"),
        ("stock_available.quantity", "'lots' is not isInt"),
    ]
    assert found[1].location == "stock_available/quantity"
    assert shape.source == "prestashop/webservice-docs-8.x/resources/stock_availables.md"


def test_a_shape_given_by_a_simulator_needs_its_required_fields() -> None:
    shape = XmlShape("order_carrier", [XmlField("id_order", "isUnsignedId", required=True)], "simulator")

    found = shape.body_violations(b"<prestashop><order_carrier><tracking_number/></order_carrier></prestashop>")

    assert [v.name for v in found] == ["order_carrier.tracking_number", "order_carrier.id_order"]


def test_xml_with_entities_is_refused_not_expanded() -> None:
    shape = XmlShape("order", [], "simulator")
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><prestashop><order>&b;</order></prestashop>'

    (violation,) = shape.body_violations(bomb)

    assert violation.name == "body"
    assert "not safe" in violation.reason


# --- an absent reference skips, never passes -------------------------------------------------------
def test_an_absent_reference_is_a_typed_miss_and_a_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("KOPPEL_REFERENCE_DIR", str(tmp_path))

    with pytest.raises(ReferenceMissing):
        load_openapi("korona", "korona-cloud-api-v3.swagger.json")
    with pytest.raises(pytest.skip.Exception, match=r"korona-cloud-api-v3\.swagger\.json"):
        contract_or_skip(load_openapi, "korona", "korona-cloud-api-v3.swagger.json")


# --- a simulator on the base -----------------------------------------------------------------------
ITEMS_SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "paths": {
        "/items": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["sku"],
                                "properties": {"sku": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id"],
                                    "properties": {"id": {"type": "integer"}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}


class ItemStore(WsgiSimulator):
    """The smallest simulator: basic auth, one route, a contract, a window of 2 writes a second."""

    system = "item store"
    routes = (route("POST", r"/items", "items", "_create"),)

    def __init__(self, *, clock: Callable[[], float], sleep: Callable[[float], None], answer_id: object = 1) -> None:
        self.setup_kit(clock=clock, sleep=sleep)
        self.contract = OpenApiContract(ITEMS_SPEC, "test/items.yaml")
        self.auth = BasicAuth("shop", "s3cret")
        self.windows = FixedWindows()
        self.items: list[str] = []
        self.answer_id = answer_id

    def contract_for(self, request: Request) -> tuple[OpenApiContract, str]:
        return self.contract, request.path

    def authenticate(self, request: Request) -> Response | None:
        return json_response(401, {"error": "who are you"}) if self.auth.check(request) else None

    def admit(self, request: Request, group: str) -> tuple[Response | None, dict[str, str]]:
        admission = self.windows.admit(group, RateLimit(2, 1.0), self._clock())
        return (None if admission.admitted else json_response(429, {"error": "slow down"})), {}

    def _create(self, request: Request) -> Response:
        self.items.append(json.loads(request.get_data())["sku"])
        return json_response(201, {"id": self.answer_id})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> ItemStore:
    return ItemStore(clock=clock, sleep=clock.sleep)


@pytest.fixture
def client(store: ItemStore) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=store),
        base_url="http://store.test",
        auth=("shop", "s3cret"),
        headers={"Accept": "application/json"},
    )


def test_a_request_off_the_contract_is_refused_and_fails_the_test_unless_claimed(
    store: ItemStore, client: httpx.Client
) -> None:
    answer = client.post("/items", json={"name": "no sku"})

    assert answer.status_code == 400
    assert store.items == []
    with pytest.raises(pytest.fail.Exception, match=r"test/items.yaml#/paths/~1items/post/requestBody"):
        fail_on_unclaimed()


def test_a_claimed_violation_is_the_point_of_the_test(store: ItemStore, client: httpx.Client) -> None:
    client.post("/items", json={})

    (violation,) = store.request_violations_log.read()

    assert (violation.name, violation.reason) == ("body", "'sku' is a required property")
    fail_on_unclaimed()  # nothing left over


def test_the_simulators_own_answer_is_checked_too(clock: Clock) -> None:
    store = ItemStore(clock=clock, sleep=clock.sleep, answer_id="not a number")
    with httpx.Client(
        transport=httpx.WSGITransport(app=store), auth=("shop", "s3cret"), headers={"Accept": "application/json"}
    ) as client:
        assert client.post("http://store.test/items", json={"sku": "A"}).status_code == 201

    (violation,) = store.answer_violations_log.read()
    assert violation.location.endswith("/responses/201/content/application~1json/schema/properties/id/type")


def test_committed_but_the_answer_lost(store: ItemStore, client: httpx.Client) -> None:
    store.faults.add(1, 504, target="items", after_execution=True)

    lost = client.post("/items", json={"sku": "A"})

    assert lost.status_code == 504
    assert store.items == ["A"]  # the change is made; the client cannot tell
    assert [logged.status for logged in store.request_log.of("items")] == [504]


def test_a_status_fault_answers_before_anything_is_done(store: ItemStore, client: httpx.Client) -> None:
    store.faults.add(2, 503)

    statuses = [client.post("/items", json={"sku": sku}).status_code for sku in "ABC"]

    assert statuses == [503, 503, 201]
    assert store.items == ["C"]


def test_latency_passes_through_the_given_sleep(store: ItemStore, client: httpx.Client, clock: Clock) -> None:
    store.latency_seconds = 0.25
    store.faults.add(1, 500, delay_seconds=2.0)

    client.post("/items", json={"sku": "A"})

    assert clock.waits == [0.25, 2.0]


def test_basic_auth_and_the_rate_limit_come_before_the_handler(store: ItemStore, clock: Clock) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=store), base_url="http://store.test") as anonymous:
        assert anonymous.post("/items", json={"sku": "A"}, auth=("shop", "guess")).status_code == 401
        assert anonymous.post("/items", json={"sku": "A"}).status_code == 401
    assert store.items == []


def test_a_fixed_window_refuses_the_third_write_in_a_second(
    store: ItemStore, client: httpx.Client, clock: Clock
) -> None:
    first = [client.post("/items", json={"sku": sku}).status_code for sku in "ABC"]
    clock.now += 1.0
    later = client.post("/items", json={"sku": "D"}).status_code

    assert (first, later) == ([201, 201, 429], 201)


# --- the tools on their own -----------------------------------------------------------------------
def test_an_untargeted_fault_leaves_the_skipped_groups_alone() -> None:
    plan = FaultPlan(untargeted_skip=["token"])
    plan.add(1, 500)
    plan.add(1, 429, target="orders")

    assert plan.take("token") is None
    assert plan.take("orders").status == 500  # type: ignore[union-attr]
    assert plan.take("orders").status == 429  # type: ignore[union-attr]
    assert (plan.take("orders"), plan.pending) == (None, 0)


def test_a_leaky_bucket_pays_refills_and_gives_back() -> None:
    bucket = LeakyBucket(maximum=100, restore_rate=10, available=100, updated_at=0)

    assert bucket.try_take(90, now=0)
    assert not bucket.try_take(50, now=1)  # 20 points after a second
    assert bucket.seconds_until(50) == pytest.approx(3.0)
    bucket.give_back(200)
    assert bucket.status()["currentlyAvailable"] == 100


def test_a_daily_cap_opens_again_the_next_day() -> None:
    cap = DailyCap(limit=2)

    assert [cap.admit(now=10), cap.admit(now=20), cap.admit(now=30)] == [True, True, False]
    assert cap.seconds_to_reset(now=30) == 86_370
    assert cap.admit(now=86_400 + 1)


def test_a_parallel_write_cap_refuses_one_too_many() -> None:
    cap = ParallelWriteCap(limit=1)

    with cap.slot() as first, cap.slot() as second:
        assert (first, second) == (True, False)
    with cap.slot() as again:
        assert again
    assert (cap.peak, cap.refused, cap.in_flight) == (1, 1, 0)


def test_paging_helpers() -> None:
    items = list(range(7))

    assert (page_of(items, 2, 3), page_of(items, 4, 3)) == ([3, 4, 5], [])
    assert offset_window(items, 5, 10) == [5, 6]
    page = cursor_page(items, first=2, after="2")
    assert (page.items, page.cursors, page.has_next, page.has_previous) == ([3, 4], ["3", "4"], True, True)
    assert cursor_page(items, last=2).items == [5, 6]


def test_bearer_tokens_expire_on_the_simulators_clock(clock: Clock) -> None:
    oauth = ClientCredentials("id", "secret", ttl_seconds=299, clock=clock)
    token = oauth.issue(request("POST", "/token", query={"grant_type": "client_credentials"}, basic=("id", "secret")))
    assert isinstance(token, str)
    bearer = request("GET", "/orders", headers={"Authorization": f"Bearer {token}"})

    assert oauth.check(bearer) is None
    clock.now += 299
    assert oauth.check(bearer).kind == "expired"  # type: ignore[union-attr]
    assert oauth.issue(request("POST", "/token", basic=("id", "secret"))).kind == "bad_grant"  # type: ignore[union-attr]
    assert oauth.issue(request("POST", "/token", basic=("id", "nope"))).kind == "bad_credentials"  # type: ignore[union-attr]
    assert oauth.issued == 3


def test_expire_all_ends_every_token_now(clock: Clock) -> None:
    tokens = BearerTokens(clock=clock)
    token = tokens.add(ttl_seconds=3600)
    tokens.expire_all()

    failure = tokens.check(request("GET", "/", headers={"Authorization": f"Bearer {token}"}))

    assert failure is not None and failure.kind == "expired"
    assert tokens.check(request("GET", "/")).kind == "missing"  # type: ignore[union-attr]


def test_a_header_key_is_compared_whole() -> None:
    key = HeaderKey("X-Shopify-Access-Token", "shpat_1")

    assert key.check(request("GET", "/", headers={"X-Shopify-Access-Token": "shpat_1"})) is None
    assert key.check(request("GET", "/", headers={"X-Shopify-Access-Token": "shpat_"})).kind == "unknown"  # type: ignore[union-attr]


def test_hmac_signatures_match_shopifys_published_vector() -> None:
    path = reference_file("shopify", "hmac_test_vectors.json")
    if path is None:
        pytest.skip("shopify/hmac_test_vectors.json is not present")
    text = path.read_text(encoding="utf-8")

    assert hmac_signature("test_secret_key", b'{"foo": "bar"}') in text
    assert signature_matches("test_secret_key", b'{"foo": "bar"}', hmac_signature("test_secret_key", b'{"foo": "bar"}'))


def test_signed_webhooks_go_out_and_a_forged_one_is_refused() -> None:
    received: list[bytes] = []

    def receiver(incoming: httpx.Request) -> httpx.Response:
        body = incoming.read()
        if not signature_matches("hook-secret", body, incoming.headers["X-Signature"], encoding="hex"):
            return httpx.Response(401)
        received.append(body)
        return httpx.Response(200)

    sender = WebhookSender(httpx.Client(transport=httpx.MockTransport(receiver)), "hook-secret", encoding="hex")

    good = sender.deliver("https://partner.test/stock", "stock.changed", {"sku": "A", "quantity": 3})
    forged = sender.deliver("https://partner.test/stock", "stock.changed", {"sku": "A"}, forge=True)

    assert (good.status_code, forged.status_code) == (200, 401)
    assert json.loads(received[0]) == {"sku": "A", "quantity": 3}


def request(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    basic: tuple[str, str] | None = None,
) -> Request:
    builder = EnvironBuilder(method=method, path=path, query_string=query, headers=headers or {})
    if basic is not None:
        builder.headers["Authorization"] = httpx.BasicAuth(*basic)._auth_header
    return Request(builder.get_environ())
