"""StockTarget: a full batch lands, a refusal is per SKU, a 429 is waited out, and refs name what the channel has."""

from __future__ import annotations

from typing import Any

import pytest
from contract.harnesses import ean13

from koppel.connectors.base import StockUpdate
from koppel.connectors.declaration import Capability

CAPABILITY = Capability.STOCK_TARGET

OBSERVED = "2026-05-01T09:30:00.000000Z"


def listed(harness: Any, connector: Any, count: int) -> list[StockUpdate]:
    """`count` SKUs the channel lists, each with a quantity of its own, refs as the connector finds them."""
    pairs = [(f"SKU-{number:04d}", ean13(100 + number)) for number in range(count)]
    for sku, ean in pairs:
        harness.add_listing(sku, ean)
    refs = connector.channel_refs(pairs)
    return [
        StockUpdate(sku=sku, quantity=number % 40 + 1, channel_ref=refs[sku], observed_at=OBSERVED)
        for number, (sku, _) in enumerate(pairs)
    ]


def test_a_full_batch_shows_each_quantity_on_the_channel(harness: Any, connector: Any) -> None:
    # GIVEN as many listed SKUs as the connector takes in one call
    updates = listed(harness, connector, connector.max_batch)

    results = connector.push_stock(updates)

    # THEN one accepted result per update, in order, and the channel shows every quantity
    assert [(result.sku, result.accepted, result.error) for result in results] == [
        (update.sku, True, "") for update in updates
    ]
    assert {update.sku: harness.stock_of(update.sku) for update in updates} == {
        update.sku: update.quantity for update in updates
    }


def test_a_refused_sku_is_reported_while_the_others_are_taken(harness: Any, connector: Any) -> None:
    first, refused, last = listed(harness, connector, 3)
    if not harness.refuses_per_sku:
        # A channel that answers for the whole batch names no SKU when it refuses: every update
        # stays to be retried (then dead-lettered), none is reported as refused by the channel.
        harness.refuse_batch(422)
        results = connector.push_stock([first, refused, last])
        assert [(result.sku, result.accepted, result.retryable) for result in results] == [
            (update.sku, False, True) for update in (first, refused, last)
        ]
        assert [harness.stock_of(update.sku) for update in (first, refused, last)] == [None, None, None]
        return
    harness.refuse_stock(refused.sku)

    results = connector.push_stock([first, refused, last])

    assert [result.sku for result in results] == [first.sku, refused.sku, last.sku]
    assert [result.accepted for result in results] == [True, False, True]
    assert results[1].error and not results[1].retryable
    assert (harness.stock_of(first.sku), harness.stock_of(last.sku)) == (first.quantity, last.quantity)
    assert harness.stock_of(refused.sku) in (0, None)


@pytest.mark.parametrize("retry_after", [1, None], ids=["with-retry-after", "without-retry-after"])
def test_a_429_is_waited_out_and_the_update_lands(harness: Any, connector: Any, retry_after: int | None) -> None:
    (update,) = listed(harness, connector, 1)
    # GIVEN the channel answers the next stock request 429 Too Many Requests
    harness.throttle_next(retry_after)

    results = connector.push_stock([update])

    assert harness.throttled() == 1
    assert [(result.sku, result.accepted) for result in results] == [(update.sku, True)]
    assert harness.stock_of(update.sku) == update.quantity


def test_channel_refs_name_the_skus_the_channel_has(harness: Any, connector: Any) -> None:
    harness.add_listing("KNOWN-1", ean13(1))
    harness.add_listing("KNOWN-2", ean13(2))

    refs = connector.channel_refs([("KNOWN-1", ean13(1)), ("KNOWN-2", ""), ("UNKNOWN", ean13(3))])

    known = {"KNOWN-1": harness.stock_ref("KNOWN-1"), "KNOWN-2": harness.stock_ref("KNOWN-2")}
    if harness.knows_every_sku:
        assert refs == known | {"UNKNOWN": "UNKNOWN"}  # the partner takes the merchant's SKUs as they are
    else:
        assert refs == known
