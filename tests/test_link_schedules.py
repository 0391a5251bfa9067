"""Schedules per link: a link runs a flow as often as it says (a rate or a cron, UTC), the scheduled
functions skip it until it is due, a failed run is tried again on the next tick, and `koppel link list`
shows the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feed_generator
import pytest
from helpers import assert_allowed
from scenarios import schedule_event
from test_cli import run_cli

from koppel import schedules, wiring
from koppel.config import Flow, Link
from koppel.errors import PermanentConnectorError, UnknownLink
from koppel.flows.schedule import ScheduledRunFailed, run_for_links

TWICE_A_DAY = "cron(0 6,18 * * ? *)"
THU = datetime(2026, 12, 3, 13, 22, tzinfo=UTC)  # a Thursday afternoon


@pytest.mark.parametrize(
    ("schedule", "last", "due", "next_run"),
    [
        (TWICE_A_DAY, None, True, THU),  # never run: at once
        (TWICE_A_DAY, datetime(2026, 12, 3, 6, 0, 40, tzinfo=UTC), False, datetime(2026, 12, 3, 18, 0, tzinfo=UTC)),
        (TWICE_A_DAY, datetime(2026, 12, 2, 18, 5, tzinfo=UTC), True, THU),  # 06:00 came since the last run
        (
            "cron(30 9 ? * MON-FRI *)",
            datetime(2026, 12, 3, 9, 31, tzinfo=UTC),
            False,
            datetime(2026, 12, 4, 9, 30, tzinfo=UTC),
        ),
        (
            "cron(0 8 1 JAN,JUL ? *)",
            datetime(2026, 7, 1, 8, 1, tzinfo=UTC),
            False,
            datetime(2027, 1, 1, 8, 0, tzinfo=UTC),
        ),
        ("rate(15 minutes)", THU - timedelta(minutes=15), True, THU),
        # the tick reached the link 50 seconds later last time: a quarter-hour rate does not slip to 20 minutes
        ("rate(15 minutes)", THU - timedelta(minutes=14, seconds=10), True, THU),
        ("rate(15 minutes)", THU - timedelta(minutes=10), False, THU + timedelta(minutes=5)),
        ("rate(12 hours)", THU - timedelta(hours=11), False, THU + timedelta(hours=1)),
    ],
)
def test_a_schedule_is_due_when_its_time_has_come_since_the_last_good_run(schedule, last, due, next_run):
    assert schedules.due(schedule, last, THU) is due
    assert schedules.next_run(schedule, last, THU) == next_run


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("twice a day", "expected rate(N minutes|hours|days) or cron("),
        ("rate(1 hours)", "say rate(1 hour)"),
        ("rate(0 minutes)", "at least 1 minute"),
        ("cron(0 6 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 25 * * ? *)", "hours takes 0-23, not '25'"),
        ("cron(0 6 L * ? *)", "L, W and # are not supported"),
        ("cron(0 6 * *)", "a cron has six fields"),
    ],
)
def test_a_schedule_koppel_cannot_read_is_refused_at_link_put_with_the_reason(local_state, capsys, text, reason):
    local_state.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    local_state.add_account("winkelstraat", "winkelstraat", {"signing_secret": "x"})

    assert (
        run_cli("link", "put", "pos-to-ws", "backoffice=korona-pos", "channel=winkelstraat", f"schedule.feed={text}")
        == 2
    )

    assert reason in capsys.readouterr().err
    with pytest.raises(UnknownLink):
        wiring.config_store().get_link("pos-to-ws")


def test_a_twice_a_day_feed_is_written_once_and_then_skipped_until_it_is_due(feed_link, context, aws_calls):
    store = wiring.config_store()
    link = store.get_link("korona-to-winkelstraat")
    store.put_link(link.model_copy(update={"schedule": {Flow.FEED: TWICE_A_DAY}}))
    s3 = feed_link.client("s3")
    bucket = feed_link.ref("FeedBucket")
    handler_calls: list[str] = []

    def fire(event: dict) -> dict:
        aws_calls.clear()
        answer = feed_generator.lambda_handler(event, context)
        handler_calls.extend(aws_calls)
        return answer

    # WHEN the feed generator fires for the first time: the link never ran, so it is due
    first = fire(schedule_event())
    written = s3.head_object(Bucket=bucket, Key="feeds/korona-to-winkelstraat/latest.json")["LastModified"]
    # AND it fires again on its next tick, before 06:00 or 18:00 has come
    second = fire(schedule_event())

    # THEN the feed was written once; the second tick skipped the link and says when it runs next
    assert "feed written: 2 rows" in first["done"]["korona-to-winkelstraat"]
    assert second["done"] == {}
    upcoming = datetime.fromisoformat(second["not_due"]["korona-to-winkelstraat"])
    assert upcoming.hour in (6, 18) and upcoming.minute == 0 and upcoming > datetime.now(UTC)
    assert s3.head_object(Bucket=bucket, Key="feeds/korona-to-winkelstraat/latest.json")["LastModified"] == written
    runs = [entry for entry in wiring.activity_log().recent("korona-to-winkelstraat") if entry.kind == "feed.run"]
    assert len(runs) == 1
    # AND a run started by hand for the link is run whatever its schedule
    again = fire(schedule_event() | {"detail": {"link_id": "korona-to-winkelstraat"}})
    assert "feed written" in again["done"]["korona-to-winkelstraat"]
    assert_allowed("FeedGeneratorFunction", handler_calls)


def test_a_failed_run_is_tried_again_on_the_next_tick_not_at_the_next_moment(stack):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    stack.add_account("winkelstraat", "winkelstraat", {"signing_secret": "x"})
    wiring.config_store().put_link(
        Link(
            link_id="pos-to-ws",
            backoffice="korona-pos",
            channel="winkelstraat",
            schedule={Flow.ORDERS: TWICE_A_DAY},
        )
    )
    outcomes = iter([PermanentConnectorError("the backoffice refused the run"), "2 orders booked"])
    ran: list[datetime] = []

    def step(link: Link) -> str:
        ran.append(datetime.now(UTC))
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def tick(at: datetime):
        return run_for_links(
            Flow.ORDERS,
            config=wiring.config_store(),
            activity=wiring.activity_log(),
            step=step,
            runs=wiring.run_stamps(),
            now=lambda: at,
        )

    with pytest.raises(ScheduledRunFailed):
        tick(datetime(2026, 12, 3, 6, 0, 30, tzinfo=UTC))
    # the 06:05 tick runs it again, as the 06:00 run did not count
    assert tick(datetime(2026, 12, 3, 6, 5, 30, tzinfo=UTC)).done == {"pos-to-ws": "2 orders booked"}
    # and from then on it waits for 18:00
    later = tick(datetime(2026, 12, 3, 6, 10, 30, tzinfo=UTC))
    assert later.done == {} and later.not_due == {"pos-to-ws": "2026-12-03T18:00+00:00"}
    assert len(ran) == 2


def test_link_list_shows_each_links_schedule(local_state, capsys):
    local_state.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    local_state.add_account("winkelstraat", "winkelstraat", {"signing_secret": "x"})
    assert (
        run_cli(
            "link",
            "put",
            "pos-to-ws",
            "backoffice=korona-pos",
            "channel=winkelstraat",
            "schedule.stock=rate(15 minutes)",
            f"schedule.feed={TWICE_A_DAY}",
        )
        == 0
    )
    capsys.readouterr()

    assert run_cli("link", "list") == 0

    header, row = capsys.readouterr().out.splitlines()
    assert row[header.index("SCHEDULE") :].strip() == f"stock rate(15 minutes); feed {TWICE_A_DAY}"
