"""The nightly feed lands in S3 and reaches a marketplace only with the link's token; schedules run."""

from __future__ import annotations

import json

import feed_generator
import feed_url
import pytest
import tracking_updater
from scenarios import feed_request, schedule_event

from koppel import wiring
from koppel.config import Link, LinkMode
from koppel.flows.feed import feed_token
from koppel.flows.schedule import ScheduledRunFailed


def test_the_nightly_feed_is_written_to_the_bucket(feed_link, context):
    feed_generator.lambda_handler(schedule_event(), context)
    s3 = feed_link.client("s3")
    body = s3.get_object(Bucket=feed_link.ref("FeedBucket"), Key="feeds/korona-to-winkelstraat/latest.json")["Body"]
    # A POS that only pushes stock: every SKU koppel holds, with its quantity
    assert json.loads(body.read()) == {
        "items": [
            {"sku": "MUG-BLUE-350", "quantity": 6},  # 7 in stock, the link's buffer of 1 held back
            {"sku": "TEA-ROOIBOS-100", "quantity": 0},
        ]
    }
    assert "feed written: 2 rows" in wiring.activity_log().recent("korona-to-winkelstraat")[-1].message


def test_a_csv_feed_of_a_backoffice_koppel_cannot_read_fails_with_the_way_out(feed_link, context):
    # GIVEN the POS that only pushes stock, and a link asking for a CSV feed, which needs titles and prices
    link = wiring.config_store().get_link("korona-to-winkelstraat")
    wiring.config_store().put_link(link.model_copy(update={"feed": link.feed.model_copy(update={"format": "csv"})}))
    # WHEN the nightly feed runs
    with pytest.raises(ScheduledRunFailed):
        feed_generator.lambda_handler(schedule_event(), context)
    # THEN no feed of empty titles is written, and the link's log says why and what to do
    assert "Contents" not in feed_link.client("s3").list_objects_v2(Bucket=feed_link.ref("FeedBucket"))
    reason = wiring.activity_log().recent("korona-to-winkelstraat")[-1].message
    assert "gives koppel no product data" in reason and "feed.format to json" in reason


def test_a_test_mode_link_writes_no_feed(feed_link, context):
    link = wiring.config_store().get_link("korona-to-winkelstraat")
    wiring.config_store().put_link(link.model_copy(update={"mode": LinkMode.TEST}))
    feed_generator.lambda_handler(schedule_event(), context)
    assert "Contents" not in feed_link.client("s3").list_objects_v2(Bucket=feed_link.ref("FeedBucket"))
    assert "test mode: would write 2 rows" in wiring.activity_log().recent("korona-to-winkelstraat")[-1].message


def test_the_marketplace_is_redirected_to_a_presigned_url_with_the_right_token(feed_link, context):
    feed_generator.lambda_handler(schedule_event(), context)
    token = feed_token(wiring.feed_signing_key(), "korona-to-winkelstraat")
    answer = feed_url.lambda_handler(feed_request(token), context)
    assert answer["statusCode"] == 302
    location = answer["headers"]["Location"]
    assert "feeds/korona-to-winkelstraat/latest.json" in location and "Signature" in location


def test_a_wrong_feed_token_gets_401(feed_link, context):
    feed_generator.lambda_handler(schedule_event(), context)
    answer = feed_url.lambda_handler(feed_request("0" * 64), context)
    assert answer["statusCode"] == 401


def test_a_feed_not_yet_written_is_404(feed_link, context):
    token = feed_token(wiring.feed_signing_key(), "korona-to-winkelstraat")
    assert feed_url.lambda_handler(feed_request(token), context)["statusCode"] == 404


def test_the_tracking_schedule_reports_per_link(feed_link, context):
    tracking_updater.lambda_handler(schedule_event(), context)
    messages = [entry.message for entry in wiring.activity_log().recent("korona-to-winkelstraat")]
    assert "koppel has no fulfilment connector for korona yet" in messages


def test_a_flow_koppel_cannot_run_yet_for_a_link_is_reported_not_failed(feed_link, context):
    # GIVEN a link whose channel (Amazon) has no order connector yet, with orders on by default
    feed_link.add_account("amazon-nl", "amazon", {})
    wiring.config_store().put_link(Link(link_id="second", backoffice="korona-pos", channel="amazon-nl"))
    import order_poller

    order_poller.lambda_handler(schedule_event(), context)  # no ScheduledRunFailed, no alarm
    [entry] = wiring.activity_log().recent("second")
    assert entry.kind == "orders.unavailable"
    assert "no order-source connector for amazon" in entry.message


def test_a_partner_channel_whose_orders_have_not_begun_is_a_quiet_run(feed_link, context):
    # GIVEN the till that only pushes its stock, linked to Winkelstraat.nl (orders by the partner route)
    import order_poller

    # WHEN the order poller runs with no partner order ever posted
    order_poller.lambda_handler(schedule_event(), context)  # THEN no ScheduledRunFailed, no alarm
    # AND nothing is said: there was nothing to do (the till's order API is not even built)
    assert [entry.kind for entry in wiring.activity_log().recent("korona-to-winkelstraat")] == []


def test_a_feed_url_for_a_link_that_does_not_exist_looks_like_a_wrong_token(feed_link, context):
    event = feed_request("0" * 64)
    event["pathParameters"] = {"link_id": "no-such-link"}
    event["rawPath"] = "/feeds/no-such-link"
    assert feed_url.lambda_handler(event, context)["statusCode"] == 401


def test_a_token_with_odd_characters_is_refused_not_a_crash(feed_link, context):
    assert feed_url.lambda_handler(feed_request("%C3%A9t%C3%A9"), context)["statusCode"] == 401
    assert feed_url.lambda_handler(feed_request("été"), context)["statusCode"] == 401


def test_an_unexpected_error_in_one_link_does_not_stop_the_others(feed_link, context, monkeypatch):
    wiring.config_store().put_link(
        Link(
            link_id="aaa-first",
            backoffice="korona-pos",
            channel="winkelstraat",
            flows={"feed": True},
            feed={"format": "json"},
        )
    )
    real = wiring.stock_store().feed_rows

    def broken_for_first(link_id):
        if link_id == "aaa-first":
            raise KeyError("quantity")  # a bug, not a KoppelError
        return real(link_id)

    monkeypatch.setattr(wiring.stock_store(), "feed_rows", broken_for_first)
    with pytest.raises(ScheduledRunFailed):
        feed_generator.lambda_handler(schedule_event(), context)
    assert wiring.activity_log().recent("aaa-first")[-1].message == "unexpected KeyError; see the function's log"
    assert wiring.activity_log().recent("korona-to-winkelstraat")[-1].message.startswith("feed written: 2 rows")
