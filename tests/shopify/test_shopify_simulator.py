"""The Shopify simulator behaves like the store koppel talks to: auth, schema, cost bucket, outages."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from werkzeug.serving import make_server

from koppel_local.reference import MISSING_REASON, reference_file

# Every test here fails if it leaves a request off the published contract unexamined.
from koppel_local.simulators.kit.pytest_plugin import strict_simulators  # noqa: F401
from koppel_local.simulators.shopify import ShopifySimulator

if TYPE_CHECKING:  # the fixtures' types; pytest provides conftest itself, it is not a package
    from helpers import FakeTime

needs_schema = pytest.mark.skipif(
    reference_file("shopify", "admin_2025-04.schema.graphql") is None, reason=MISSING_REASON
)

TOKEN = "shpat_test_token"  # what the simulator fixture accepts
ENDPOINT = "/admin/api/2025-04/graphql.json"
VARIANTS = "query Variants($q: String) { productVariants(first: 5, query: $q) { nodes { id sku barcode } } }"
ORDERS = "query Orders($q: String) { orders(first: 10, query: $q) { nodes { name tags sourceIdentifier } } }"
CREATE_ORDER = """
mutation Create($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name displayFulfillmentStatus lineItems(first: 5) { nodes { sku quantity } } }
    userErrors { field message code }
  }
}"""


def post(
    client: httpx.Client, query: str, variables: dict[str, Any] | None = None, token: str = TOKEN
) -> httpx.Response:
    return client.post(
        ENDPOINT, json={"query": query, "variables": variables or {}}, headers={"X-Shopify-Access-Token": token}
    )


def order_input(simulator: ShopifySimulator, sku: str, quantity: int, tag: str) -> dict[str, Any]:
    variant = next(v for v in simulator.variants if v["sku"] == sku)
    return {
        "lineItems": [
            {
                "variantId": variant["id"],
                "quantity": quantity,
                "priceSet": {"shopMoney": {"amount": "8.50", "currencyCode": "EUR"}},
            }
        ],
        "tags": [tag],
        "sourceIdentifier": tag,
    }


# --- access -------------------------------------------------------------------------------------
def test_a_request_without_the_access_token_is_refused(http_client: httpx.Client) -> None:
    response = post(http_client, VARIANTS, token="")

    assert response.status_code == 401


def test_only_the_graphql_endpoint_exists(http_client: httpx.Client) -> None:
    response = http_client.get("/admin/api/2025-04/orders.json", headers={"X-Shopify-Access-Token": TOKEN})

    assert response.status_code == 404


# --- schema validation ----------------------------------------------------------------------------
@needs_schema
def test_a_document_outside_the_schema_is_refused_and_recorded(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    # WHEN a client asks for a field Shopify does not have
    response = post(http_client, "{ orders(first: 1) { nodes { trackingNumber } } }")

    # THEN it gets GraphQL errors (HTTP 200, no data) and the simulator remembers the violation
    body = response.json()
    assert response.status_code == 200
    assert "data" not in body
    assert "trackingNumber" in body["errors"][0]["message"]
    assert len(simulator.violations) == 1


@needs_schema
def test_variables_are_checked_against_the_schema_too(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    order = order_input(simulator, "MUG-BLUE", 1, "bol-1")
    order["shippingAddress"] = {"countryCode": "XX"}

    body = post(http_client, CREATE_ORDER, {"order": order}).json()

    assert "CountryCode" in body["errors"][0]["message"]
    assert simulator.orders == []
    assert len(simulator.violations) == 1


@needs_schema
def test_a_syntax_error_is_a_violation(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    body = post(http_client, "{ orders(first: 1) { nodes { id }").json()

    assert body["errors"]
    assert len(simulator.violations) == 1


def test_without_the_reference_folder_it_answers_unvalidated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN no ../shared/reference beside the repository
    monkeypatch.setenv("KOPPEL_REFERENCE_DIR", str(tmp_path))
    simulator = ShopifySimulator(access_token=TOKEN)
    simulator.add_variant("MUG-BLUE", barcode="8712345678913")
    client = httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="https://shop.myshopify.com")

    # WHEN a client queries variants THEN it is answered, without schema checks
    body = post(client, VARIANTS, {"q": "sku:MUG-BLUE"}).json()

    assert simulator.validating is False
    assert body["data"]["productVariants"]["nodes"][0]["barcode"] == "8712345678913"


# --- state and operations -------------------------------------------------------------------------
def test_order_create_gives_an_unfulfilled_numbered_order(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    body = post(http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 2, "bol-1")}).json()

    created = body["data"]["orderCreate"]
    assert created["userErrors"] == []
    assert created["order"]["name"] == "#1001"
    assert created["order"]["displayFulfillmentStatus"] == "UNFULFILLED"
    assert created["order"]["lineItems"]["nodes"] == [{"sku": "MUG-BLUE", "quantity": 2}]
    assert simulator.orders[0]["lines"][0]["price"] == Decimal("8.50")


def test_inventory_only_moves_when_the_order_claims_it(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    # GIVEN 3 mugs in stock
    post(http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 1, "bol-1")})
    assert simulator.inventory("MUG-BLUE") == 3  # Shopify's default is BYPASS

    options = {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"}
    post(http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 5, "bol-2"), "options": options})
    assert simulator.inventory("MUG-BLUE") == -2  # ignoring policy may oversell

    options = {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"}
    body = post(
        http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 1, "bol-3"), "options": options}
    ).json()
    assert body["data"]["orderCreate"]["userErrors"][0]["code"] == "INVENTORY_CLAIM_FAILED"
    assert len(simulator.orders) == 2


def test_search_matches_words_not_whole_values(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    # GIVEN orders tagged bol-123, bol-123-A and bol-1234
    for tag in ("bol-123", "bol-123-A", "bol-1234"):
        post(http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 1, tag)})

    # WHEN searching tag:"bol-123"
    body = post(http_client, ORDERS, {"q": 'tag:"bol-123"'}).json()

    # THEN the longer tag made of the same words is found too (callers must compare exactly)
    assert [node["tags"] for node in body["data"]["orders"]["nodes"]] == [["bol-123"], ["bol-123-A"]]


def test_search_understands_or_and_negation(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    for tag in ("bol-1", "bol-2", "bol-3"):
        post(http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 1, tag)})

    either = post(http_client, ORDERS, {"q": 'tag:"bol-1" OR source_identifier:"bol-3"'}).json()
    not_two = post(http_client, ORDERS, {"q": "tag:bol* -tag:bol-2"}).json()

    assert [node["name"] for node in either["data"]["orders"]["nodes"]] == ["#1001", "#1003"]
    assert [node["name"] for node in not_two["data"]["orders"]["nodes"]] == ["#1001", "#1003"]


# --- fulfilments and cancellations --------------------------------------------------------------------
PROGRESS = """
query Progress($id: ID!) {
  order(id: $id) {
    displayFulfillmentStatus closed cancelledAt cancelReason
    fulfillments(first: 5) {
      status
      trackingInfo(first: 5) { company number url }
      fulfillmentLineItems(first: 5) { nodes { quantity lineItem { sku customAttributes { key value } } } }
    }
  }
}"""
CANCEL = """
mutation Cancel($id: ID!, $reason: OrderCancelReason!) {
  orderCancel(orderId: $id, reason: $reason, refund: false, restock: true) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""


def created_order(http_client: httpx.Client, simulator: ShopifySimulator, quantity: int = 2) -> str:
    order = order_input(simulator, "MUG-BLUE", quantity, "bol-1")
    order["lineItems"][0]["properties"] = [{"name": "_koppel_line_id", "value": "L1"}]
    options = {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"}
    body = post(http_client, CREATE_ORDER, {"order": order, "options": options}).json()
    return body["data"]["orderCreate"]["order"]["id"]


@needs_schema
def test_a_fulfilment_shows_its_tracking_and_lines_with_their_properties(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    # GIVEN an order of 2 mugs, one fulfilled by the merchant with a PostNL code
    order_gid = created_order(http_client, simulator)
    line = simulator.order(order_gid)["lines"][0]["id"]
    simulator.fulfill(order_gid, [line], ["3SABCD1"], quantities={line: 1}, url="https://postnl.nl/3SABCD1")

    # WHEN a client asks for the order's progress
    order = post(http_client, PROGRESS, {"id": order_gid}).json()["data"]["order"]

    # THEN it is partially fulfilled, with the fulfilment's tracking and its line and properties
    assert (order["displayFulfillmentStatus"], order["closed"], order["cancelledAt"]) == (
        "PARTIALLY_FULFILLED",
        False,
        None,
    )
    assert order["fulfillments"] == [
        {
            "status": "SUCCESS",
            "trackingInfo": [{"company": "PostNL", "number": "3SABCD1", "url": "https://postnl.nl/3SABCD1"}],
            "fulfillmentLineItems": {
                "nodes": [
                    {
                        "quantity": 1,
                        "lineItem": {
                            "sku": "MUG-BLUE",
                            "customAttributes": [{"key": "_koppel_line_id", "value": "L1"}],
                        },
                    }
                ]
            },
        }
    ]
    assert simulator.violations == []


def test_a_fully_fulfilled_order_is_archived(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    order_gid = created_order(http_client, simulator)

    simulator.complete(order_gid)

    order = simulator.order(order_gid)
    assert (order["fulfillmentStatus"], order["closed"]) == ("FULFILLED", True)
    with pytest.raises(ValueError, match="nothing left"):
        simulator.complete(order_gid)


def test_a_fulfilment_cannot_ship_more_than_is_open(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    order_gid = created_order(http_client, simulator, quantity=2)
    line = simulator.order(order_gid)["lines"][0]["id"]

    with pytest.raises(ValueError, match="2 left"):
        simulator.fulfill(order_gid, [line], quantities={line: 3})


@needs_schema
def test_order_cancel_cancels_in_a_job_and_puts_the_stock_back(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    # GIVEN an order that claimed 2 of the 3 mugs
    order_gid = created_order(http_client, simulator)
    assert simulator.inventory("MUG-BLUE") == 1

    # WHEN a client cancels it
    payload = post(http_client, CANCEL, {"id": order_gid, "reason": "CUSTOMER"}).json()["data"]["orderCancel"]

    # THEN Shopify answers with a job still running, the order is cancelled and the mugs are back
    assert payload["orderCancelUserErrors"] == []
    assert payload["job"]["done"] is False
    order = post(http_client, PROGRESS, {"id": order_gid}).json()["data"]["order"]
    assert (order["cancelReason"], order["closed"]) == ("CUSTOMER", True)
    assert simulator.inventory("MUG-BLUE") == 3
    # AND the job reports done when asked
    job = post(http_client, "query J($id: ID!) { job(id: $id) { done } }", {"id": payload["job"]["id"]}).json()
    assert job["data"]["job"] == {"done": True}
    assert simulator.violations == []


def test_order_cancel_refuses_what_shopify_refuses(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    cancelled, fulfilled = created_order(http_client, simulator), created_order(http_client, simulator)
    simulator.cancel(cancelled, "STAFF")
    simulator.complete(fulfilled)

    answers = [
        post(http_client, CANCEL, {"id": order_gid, "reason": "CUSTOMER"}).json()["data"]["orderCancel"]
        for order_gid in (cancelled, fulfilled, "gid://shopify/Order/999")
    ]

    assert [(answer["job"], answer["orderCancelUserErrors"][0]["code"]) for answer in answers] == [
        (None, "INVALID"),
        (None, "INVALID"),
        (None, "NOT_FOUND"),
    ]
    assert simulator.order(fulfilled)["cancelledAt"] is None


def test_a_merchant_cannot_fulfil_a_cancelled_order(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    order_gid = created_order(http_client, simulator)
    simulator.cancel(order_gid)

    with pytest.raises(ValueError, match="cancelled"):
        simulator.complete(order_gid)


def test_nested_lists_are_charged_as_requested_and_refunded_as_returned(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    order_gid = created_order(http_client, simulator)
    simulator.complete(order_gid)

    cost = post(http_client, PROGRESS, {"id": order_gid}).json()["extensions"]["cost"]

    # order + fulfillments + 5 x (trackingInfo + fulfillmentLineItems + 5 x (nodes + lineItem + customAttributes))
    assert cost["requestedQueryCost"] == 1 + 1 + 5 * (1 + 1 + 5 * 3)
    # returned: one fulfilment, no tracking, one line
    assert cost["actualQueryCost"] == 1 + 1 + 1 * (1 + 1 + 1 * 3)


# --- cost bucket --------------------------------------------------------------------------------------
def test_every_answer_reports_its_cost(http_client: httpx.Client) -> None:
    cost = post(http_client, VARIANTS, {"q": "sku:MUG-BLUE"}).json()["extensions"]["cost"]

    # productVariants(first: 5) { nodes }: 1 + 5 x 1 requested; 1 + 1 x 1 for the one variant found
    assert cost["requestedQueryCost"] == 6
    assert cost["actualQueryCost"] == 2
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1998.0, "restoreRate": 100.0}


def test_an_empty_bucket_throttles_until_it_has_restored(
    http_client: httpx.Client, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN a bucket holding 2 points
    simulator.set_available(2)

    # WHEN a query requesting 6 comes in THEN it is throttled with HTTP 200, no data
    throttled = post(http_client, VARIANTS, {"q": "sku:MUG-BLUE"})
    body = throttled.json()
    assert throttled.status_code == 200
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None

    # AND once 0.04 s have restored 4 points at 100/s, the same query runs
    fake_time.sleep(0.04)
    assert "data" in post(http_client, VARIANTS, {"q": "sku:MUG-BLUE"}).json()


def test_a_query_over_the_single_query_limit_is_refused(http_client: httpx.Client) -> None:
    too_big = "{ orders(first: 250) { nodes { lineItems(first: 10) { nodes { sku } } } } }"

    body = post(http_client, too_big).json()

    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["requestedQueryCost"] > 1000


def test_mutations_cost_ten(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    mutation = "mutation C($input: CustomerInput!) { customerCreate(input: $input) { userErrors { message } } }"

    body = post(http_client, mutation, {"input": {"email": "jan@example.nl"}}).json()

    assert body["extensions"]["cost"]["requestedQueryCost"] == 11  # 10 for the mutation, 1 for userErrors
    assert [customer["email"] for customer in simulator.customers] == ["jan@example.nl"]


# --- outages and latency ------------------------------------------------------------------------------
def test_fail_next_answers_outages_then_recovers(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    simulator.fail_next(2, status=503)

    statuses = [post(http_client, VARIANTS).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


def test_a_lost_answer_still_changes_the_store(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    simulator.fail_next(1, status=504, after_execution=True, operation="orderCreate")

    lookup = post(http_client, VARIANTS)  # not aimed at: answered normally
    create = post(http_client, CREATE_ORDER, {"order": order_input(simulator, "MUG-BLUE", 1, "bol-1")})

    assert (lookup.status_code, create.status_code) == (200, 504)
    assert len(simulator.orders) == 1


def test_latency_is_injected_through_the_sleep_function(
    http_client: httpx.Client, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    simulator.latency = 0.25

    post(http_client, VARIANTS)

    assert fake_time.sleeps == [0.25]


def test_it_serves_over_loopback(simulator: ShopifySimulator) -> None:
    server = make_server("127.0.0.1", 0, simulator, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as client:
            body = post(client, VARIANTS, {"q": "barcode:8712345678906"}).json()
    finally:
        server.shutdown()
        thread.join()

    assert [node["sku"] for node in body["data"]["productVariants"]["nodes"]] == ["TSHIRT-RED-M"]


# --- product mutations ------------------------------------------------------------------------------
BULK_UPDATE = """
mutation Bulk(
  $productId: ID!, $variants: [ProductVariantsBulkInput!]!, $media: [CreateMediaInput!], $partial: Boolean
) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, media: $media, allowPartialUpdates: $partial) {
    productVariants { id price }
    userErrors { field message code }
  }
}"""
PRODUCT_UPDATE = """
mutation Rename($product: ProductUpdateInput!) {
  productUpdate(product: $product) { product { id title } userErrors { field message } }
}"""


def test_a_bulk_update_without_partial_updates_is_all_or_nothing(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    # GIVEN two sizes of one product, one of them sent with a negative price
    small = simulator.add_variant("SIZE-S", price="10.00")
    large = simulator.add_variant("SIZE-L", price="10.00", product_id=small["product_id"])
    variants = [{"id": small["id"], "price": "-1.00"}, {"id": large["id"], "price": "12.00"}]

    # WHEN they go out in one mutation, first without and then with partial updates
    strict = post(http_client, BULK_UPDATE, {"productId": small["product_id"], "variants": variants}).json()
    untouched = simulator.variant("SIZE-L")["price"]
    partial = post(
        http_client, BULK_UPDATE, {"productId": small["product_id"], "variants": variants, "partial": True}
    ).json()

    # THEN the strict one changed nothing; the partial one set the valid price; both name the bad field
    for body in (strict, partial):
        [problem] = body["data"]["productVariantsBulkUpdate"]["userErrors"]
        assert (problem["field"], problem["code"]) == (["variants", "0", "price"], "GREATER_THAN_OR_EQUAL_TO")
    assert untouched == Decimal("10.00")
    assert simulator.variant("SIZE-L")["price"] == Decimal("12.00")
    assert simulator.variant("SIZE-S")["price"] == Decimal("10.00")


def test_a_bulk_update_refuses_an_unknown_product_and_a_variant_of_another_product(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    mug = simulator.variant("MUG-BLUE")
    shirt = simulator.variant("TSHIRT-RED-M")

    unknown = post(
        http_client, BULK_UPDATE, {"productId": "gid://shopify/Product/999", "variants": [{"id": mug["id"]}]}
    ).json()
    foreign = post(
        http_client, BULK_UPDATE, {"productId": mug["product_id"], "variants": [{"id": shirt["id"], "price": "1"}]}
    ).json()

    assert unknown["data"]["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
    assert foreign["data"]["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_VARIANT_DOES_NOT_EXIST"
    assert shirt["price"] == Decimal("19.95")


def test_product_update_renames_every_variant_and_refuses_a_blank_title(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    mug = simulator.variant("MUG-BLUE")

    renamed = post(http_client, PRODUCT_UPDATE, {"product": {"id": mug["product_id"], "title": "Mug"}}).json()
    blank = post(http_client, PRODUCT_UPDATE, {"product": {"id": mug["product_id"], "title": " "}}).json()
    missing = post(http_client, PRODUCT_UPDATE, {"product": {"id": "gid://shopify/Product/999", "title": "X"}}).json()

    assert renamed["data"]["productUpdate"]["product"]["title"] == "Mug"
    assert blank["data"]["productUpdate"]["userErrors"] == [{"field": ["title"], "message": "Title can't be blank"}]
    assert missing["data"]["productUpdate"]["userErrors"][0]["message"] == "Product does not exist"
    assert simulator.product_of("MUG-BLUE")["title"] == "Mug"
    assert simulator.violations == []
