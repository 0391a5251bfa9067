"""How the bol.com simulator words its answers: bol's JSON (prices digit for digit, `{ }` for an
empty object), problem bodies, reduced orders, the offers export CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from koppel_local.simulators.bol.records import (
    HOST_ID,
    OFFER_EXPORT_COLUMNS,
    PROBLEM_TYPE,
    RESPONSE_CONTENT_TYPE,
)
from koppel_local.simulators.kit import Violation


def offer_export_csv(offers: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OFFER_EXPORT_COLUMNS)
    for offer in offers:
        writer.writerow(
            (
                offer["offerId"],
                offer["ean"],
                offer["condition"],
                "NEW" if offer["condition"] == "NEW" else "SECONDHAND",
                "",
                str(offer["price"]),
                offer["deliveryCode"],
                offer["stock"],
                "false",
                offer["fulfilmentMethod"],
                offer["changed"].strftime("%Y-%m-%d %H:%M:%S.") + f"{offer['changed'].microsecond // 1000:03d} UTC",
                offer["reference"],
            )
        )
    return out.getvalue()


def units_open(item: Mapping[str, Any]) -> int:
    return int(item["quantity"]) - int(item["quantityShipped"]) - int(item["quantityCancelled"])


def reduced_order(order: Mapping[str, Any], status: str, method: str) -> dict[str, Any] | None:
    """The order as a `ReducedOrder` with the items the filters select; None when none do."""
    items = [
        {
            "orderItemId": item["orderItemId"],
            "ean": item["product"]["ean"],
            "fulfilmentMethod": item["fulfilment"]["method"],
            "fulfilmentStatus": "OPEN" if units_open(item) > 0 else "HANDLED",
            "quantity": item["quantity"],
            "quantityShipped": item["quantityShipped"],
            "quantityCancelled": item["quantityCancelled"],
            "cancellationRequest": item["cancellationRequest"],
            "latestChangedDateTime": item["latestChangedDateTime"],
        }
        for item in order["orderItems"]
        if method in ("ALL", item["fulfilment"]["method"]) and status_matches(item, status)
    ]
    if not items:
        return None
    return {
        "orderId": order["orderId"],
        "orderPlacedDateTime": order["orderPlacedDateTime"],
        "orderItems": items,
    }


def status_matches(item: Mapping[str, Any], status: str) -> bool:
    if status == "OPEN":
        return units_open(item) > 0
    if status == "SHIPPED":
        return int(item["quantityShipped"]) > 0
    return status == "ALL"


def bundle_price_violations(bundle_prices: Sequence[tuple[int, Decimal]]) -> list[Violation]:
    found = []
    quantities = [quantity for quantity, _ in bundle_prices]
    if 1 not in quantities:
        found.append(Violation("pricing.bundlePrices", "a bundle price for quantity 1 is required"))
    if quantities != sorted(set(quantities)):
        found.append(Violation("pricing.bundlePrices", "quantities must be in increasing order"))
    prices = [price for _, price in bundle_prices]
    if prices != sorted(set(prices), reverse=True):
        found.append(Violation("pricing.bundlePrices", "unit prices must be in decreasing order"))
    found.extend(
        Violation(f"pricing.bundlePrices[{index}].unitPrice", f"{price} has more than 2 decimals")
        for index, (_, price) in enumerate(bundle_prices)
        if not price.is_finite() or int(price.as_tuple().exponent) < -2
    )
    return found


def json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(request.get_data(), parse_float=Decimal)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def pending(process: Mapping[str, Any]) -> dict[str, Any]:
    """The process as bol shows it while it is still being worked on."""
    return {**{key: value for key, value in process.items() if key != "errorMessage"}, "status": "PENDING"}


def problem(
    status: int, title: str, detail: str, request: Request, *, violations: Sequence[Violation] = ()
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE,
        "title": title,
        "status": status,
        "detail": detail,
        "host": HOST_ID,
        "instance": request.base_url,
    }
    if violations:
        body["violations"] = [{"name": v.name, "reason": v.reason} for v in violations]
    return json_answer(status, body)


def json_answer(status: int, body: Mapping[str, Any], *, content_type: str = RESPONSE_CONTENT_TYPE) -> Response:
    return Response(dumps(body), status, content_type=content_type)


def dumps(value: object) -> str:
    """JSON with Decimals written digit for digit, as bol writes its prices (the stdlib cannot)."""
    if isinstance(value, Mapping):
        if not value:
            return "{ }"  # how bol spells an empty object, e.g. an empty order page
        return "{" + ", ".join(f"{json.dumps(str(key))}: {dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
