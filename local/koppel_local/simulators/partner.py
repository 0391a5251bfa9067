"""A partner that takes stock by webhook (as Copernicus does for Winkelstraat.nl): it checks koppel's
signature the way a careful partner would, and keeps the latest quantity per SKU.

Built on the simulator kit for its request log, `serve()` and routing; the signature is koppel's
own scheme (timestamp, event id and topic signed with the body), checked with `koppel_digest`."""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from koppel.webhooks import koppel_digest
from koppel_local.simulators.kit import Route, WsgiSimulator, route

TOLERANCE_SECONDS = 300


@dataclass(eq=False)
class StockPartner(WsgiSimulator):
    secret: str
    stock: dict[str, int] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before accepting again
    event_ids: set[str] = field(default_factory=set)

    system = "stock partner"
    routes = (route("POST", r"/stock", "stock", "handle"),)

    def __post_init__(self) -> None:
        self.setup_kit()

    def answer(self, request: Request, found: Route | None, params: dict[str, str], group: str) -> Response:
        return self.handle(request)

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/stock":
            return Response(status=404)
        body = request.get_data()
        headers = request.headers
        timestamp, event_id = headers.get("X-Koppel-Timestamp", ""), headers.get("X-Koppel-Event-Id", "")
        topic = headers.get("X-Koppel-Topic", "")
        expected = "v1=" + koppel_digest(self.secret, timestamp, event_id, topic, body)
        if not hmac.compare_digest(expected.encode(), headers.get("X-Koppel-Signature", "").encode()):
            return self._refuse(401, "signature does not match")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return self._refuse(401, "stale timestamp")
        if topic != "stock.changed":
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
        for level in levels:
            self.stock[level["sku"]] = level["quantity"]
        return Response(json.dumps({"status": "accepted"}), content_type="application/json")

    def _refuse(self, status: int, why: str) -> Response:
        self.refused.append(why)
        return Response(json.dumps({"error": why}), status=status, content_type="application/json")
