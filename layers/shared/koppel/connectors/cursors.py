"""The cursor of an order poll by change time, as the polled webshops keep it: the last (moment, id) read,
written `moment|id` with the moment in UTC in a format of the connector's, and where the next poll starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Key = tuple[datetime, int]


def parse_cursor(cursor: str | None, since: datetime, time_format: str) -> Key:
    """The (moment, id) a cursor holds; no cursor, or one that is not of `time_format`: `since`, to the
    second, before any id."""
    moment, _, after = (cursor or "").partition("|")
    try:
        parsed = datetime.strptime(moment, time_format).replace(tzinfo=UTC)
    except ValueError:
        start = since if since.tzinfo else since.replace(tzinfo=UTC)
        return start.astimezone(UTC).replace(microsecond=0), 0
    return parsed, int(after) if after.isdigit() else 0


def cursor_of(moment: datetime, after_id: int, time_format: str) -> str:
    return f"{moment.astimezone(UTC).strftime(time_format)}|{after_id}"


def next_cursor(
    last: Key | None,
    held: str | None,
    moment: datetime,
    after_id: int,
    more: bool,
    *,
    overlap_seconds: int,
    write: Callable[[datetime, int], str],
) -> str:
    """Where the next poll starts: right after the `last` order read while there are `more`; the `held`
    cursor when nothing changed; else `overlap_seconds` before the last change read (or before `moment`,
    where this poll started), so that orders saved late are read."""
    if last is not None and more:
        return write(*last)
    if last is None and held is not None and after_id == 0:
        return held  # already a settled cursor: nothing changed, it stays
    end = last[0] if last is not None else moment
    return write(end - timedelta(seconds=overlap_seconds), 0)
