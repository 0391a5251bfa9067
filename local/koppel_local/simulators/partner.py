"""A partner that takes stock by webhook (as Copernicus does for Winkelstraat.nl): it checks koppel's
signature the way a careful partner would, and keeps the latest quantity per SKU.

Built on the simulator kit for its request log, faults, `serve()` and routing; the signature is
koppel's own scheme (timestamp, event id and topic signed with the body), checked with
`koppel_digest`. The answer is koppel's partner contract (docs/partner-api.md): a 2xx takes the
batch, and `{"unknown_skus": [...]}` in it names the SKUs the partner does not list (`unlisted`).
A level older than the one the partner holds for its SKU (`observed_at`) changes nothing.

Faults: `fail_next` holds statuses answered once the signature checks out, before anything is taken
(`fail_stock(n)` plans n of them); `lose_answers(n)` takes the next n requests' stock and answers 500,
as a gateway that times out after the partner committed (checked after `fail_next`). The kit's own
faults (`faults.add`) answer before the signature is even checked.
"""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from koppel.webhooks import koppel_digest
from koppel_local.simulators.kit import WsgiSimulator, route

TOLERANCE_SECONDS = 300
TOPIC = "stock.changed"


@dataclass(eq=False)
class StockPartner(WsgiSimulator):
    secret: str
    stock: dict[str, int] = field(default_factory=dict)
    observed: dict[str, str] = field(default_factory=dict)  # SKU -> observed_at of the quantity held
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before accepting again
    event_ids: set[str] = field(default_factory=set)
    unlisted: set[str] = field(default_factory=set)  # SKUs the partner does not list: answered unknown
    lose_next: int = 0  # requests still to take and answer 500, as if the answer was lost

    system = "stock partner"
    routes = (route("POST", r"/stock", "stock", "handle"),)

    def __post_init__(self) -> None:
        self.setup_kit()

    def fail_stock(self, times: int = 1, status: int = 500) -> None:
        """The next `times` signed stock requests are answered `status`, nothing taken."""
        self.fail_next.extend([status] * times)

    def lose_answers(self, times: int = 1) -> None:
        """The next `times` stock requests are taken, and answered 500 as if the answer was lost."""
        self.lose_next += times

    def not_served(self, request: Request) -> Response:
        return Response(status=404)

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        headers = request.headers
        timestamp, event_id = headers.get("X-Koppel-Timestamp", ""), headers.get("X-Koppel-Event-Id", "")
        topic = headers.get("X-Koppel-Topic", "")
        expected = "v1=" + koppel_digest(self.secret, timestamp, event_id, topic, body)
        if not hmac.compare_digest(expected.encode(), headers.get("X-Koppel-Signature", "").encode()):
            return self._refuse(401, "signature does not match")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return self._refuse(401, "stale timestamp")
        if topic != TOPIC:
            return self._refuse(400, f"unexpected topic {topic}")
        if self.fail_next:
            return Response(status=self.fail_next.pop(0))
        if event_id in self.event_ids:
            return Response(json.dumps({"status": "duplicate"}), content_type="application/json")
        payload = json.loads(body)
        levels = payload.get("levels")
        if not isinstance(levels, list) or not all(
            isinstance(level.get("sku"), str) and isinstance(level.get("quantity"), int) and level["quantity"] >= 0
            for level in levels
        ):
            return self._refuse(400, "levels must be [{sku, quantity >= 0}]")
        self.event_ids.add(event_id)
        self.deliveries.append(payload)
        unknown = [level["sku"] for level in levels if not self.lists(level["sku"])]
        for level in levels:
            if self.lists(level["sku"]):
                self.take(level["sku"], level["quantity"], str(level.get("observed_at") or ""))
        if self.lose_next > 0:
            self.lose_next -= 1
            return Response(json.dumps({"error": "gateway timeout"}), status=500, content_type="application/json")
        answer: dict[str, Any] = {"status": "accepted"}
        if unknown:
            answer["unknown_skus"] = unknown
        return Response(json.dumps(answer), content_type="application/json")

    def lists(self, sku: str) -> bool:
        """Whether the partner has this SKU to sell."""
        return sku not in self.unlisted

    def take(self, sku: str, quantity: int, observed_at: str) -> None:
        """Keep the quantity unless the partner holds one observed later."""
        given, held = _moment(observed_at), _moment(self.observed.get(sku, ""))
        if given is not None and held is not None and given < held:
            return
        self.stock[sku] = quantity
        if given is not None:
            self.observed[sku] = observed_at

    def _refuse(self, status: int, why: str) -> Response:
        self.refused.append(why)
        return Response(json.dumps({"error": why}), status=status, content_type="application/json")


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
