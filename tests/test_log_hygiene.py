"""What koppel logs while it does its main job holds no secret and no buyer's personal data.

GIVEN the bol.com → Shopify link with its seeded credentials, WHEN orders are imported, shipped and
cancelled with logging at DEBUG, THEN no log line holds an API secret, a token, a webhook secret,
or a buyer's e-mail address, phone number, street or name.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from scenarios import DEMO_CLIENT_SECRET, World

from koppel.observability import logger


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    """Every line koppel's logger writes, formatted as in Lambda (JSON), at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    underlying = logging.getLogger(logger.name)
    before = underlying.level
    underlying.addHandler(handler)
    underlying.setLevel(logging.DEBUG)
    yield stream
    underlying.removeHandler(handler)
    underlying.setLevel(before)


def personal_data(world: World, order_id: str) -> set[str]:
    details = world.bol.order(order_id)
    found = set()
    for side in ("shipmentDetails", "billingDetails"):
        person = details.get(side) or {}
        found |= {str(person[key]) for key in ("email", "streetName", "surname", "firstName") if person.get(key)}
        found |= {str(person[key]) for key in ("deliveryPhoneNumber", "phone") if person.get(key)}
    return {value for value in found if len(value) >= 4}


def test_the_main_job_logs_no_secret_and_no_personal_data(world: World, debug_logs: io.StringIO) -> None:
    report = world.flow("run-1").run()
    assert sorted(report.created) == ["1100000001", "1100000002"]
    [order] = world.shopify_orders_for("1100000001")
    world.shop.fulfill(order["id"], tracking_numbers=["3SKPNL123456789"])
    [item] = world.bol.order("1100000002")["orderItems"]
    world.bol.request_cancellation(item["orderItemId"])
    tracking = world.tracking().run()
    assert tracking.shipped and tracking.cancelled == ["1100000002"]

    logged = debug_logs.getvalue()
    assert "order imported" in logged  # the logs were captured at all
    secrets = {DEMO_CLIENT_SECRET, world.shop.access_token}
    people = personal_data(world, "1100000001") | personal_data(world, "1100000002")
    assert people, "the scenario's orders carry personal data to look for"
    leaked = sorted(value for value in secrets | people if value in logged)
    assert leaked == [], f"log lines hold {leaked}"
