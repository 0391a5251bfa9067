"""How often a link runs a flow, in EventBridge's own words (UTC): `rate(15 minutes)`, `rate(12 hours)`,
`rate(1 day)` or `cron(0 6,18 * * ? *)` (minutes, hours, day of month, month, day of week, year).

A scheduled function fires at its own pace (the order poller every 5 minutes, ...) and runs each link
whose schedule is due: a rate when that long has passed since the link's last good run, a cron when
one of its moments has come since then. A link never run yet is due at once. A run that failed does
not count, so it is tried again on the function's next tick rather than at the next moment. A link
runs at most as often as its function fires.

Cron fields take `*`, `?`, numbers, names (JAN-DEC, SUN-SAT), lists `a,b`, ranges `a-b` and steps
`a/n`, `*/n`, `a-b/n`; day of week counts 1 = SUN to 7 = SAT, as EventBridge does, and one of the two
day fields must be `?`. EventBridge's `L`, `W` and `#` are refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.+)\)$")
UNITS = {"minute": 60, "hour": 3600, "day": 86400}
MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
DAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
LOOK_DAYS = 4 * 366  # how far a cron's moments are looked for (a leap day's schedule included)
MAX_SLACK = timedelta(minutes=2)


class ScheduleError(ValueError):
    """A schedule koppel cannot read; the message says which part and why."""


@dataclass(frozen=True)
class Rate:
    every: timedelta

    def due(self, last: datetime | None, now: datetime) -> bool:
        # A little slack: the function's tick and a link's place in the run move by seconds, and a
        # 15-minute rate must not slip to 20 because this run reached the link later than the last.
        return last is None or now - last >= self.every - min(MAX_SLACK, self.every / 10)

    def next_after(self, last: datetime | None, now: datetime) -> datetime:
        return now if last is None or self.due(last, now) else last + self.every


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: `?` or `*` (any)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1 = Sunday; None: `?` or `*`
    years: frozenset[int] | None

    def due(self, last: datetime | None, now: datetime) -> bool:
        latest = self.latest(now)
        return latest is not None and (last is None or last < latest)

    def next_after(self, last: datetime | None, now: datetime) -> datetime | None:
        if self.due(last, now):
            return now
        now = now.astimezone(UTC)
        for day in _days(now.date(), +1):
            if not self._on(day):
                continue
            after = (now.hour, now.minute) if day == now.date() else (-1, -1)
            moments = [(h, m) for h in self.hours for m in self.minutes if (h, m) > after]
            if moments:
                return datetime(day.year, day.month, day.day, *min(moments), tzinfo=UTC)
        return None

    def latest(self, now: datetime) -> datetime | None:
        """The last of the cron's moments at or before `now`."""
        now = now.astimezone(UTC)
        for day in _days(now.date(), -1):
            if not self._on(day):
                continue
            until = (now.hour, now.minute) if day == now.date() else (23, 59)
            moments = [(h, m) for h in self.hours for m in self.minutes if (h, m) <= until]
            if moments:
                return datetime(day.year, day.month, day.day, *max(moments), tzinfo=UTC)
        return None

    def _on(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.days is not None and day.day not in self.days:
            return False
        return self.weekdays is None or (day.isoweekday() % 7) + 1 in self.weekdays


Schedule = Rate | Cron


def parse(text: str) -> Schedule:
    """The schedule `text` stands for; ScheduleError naming what is wrong."""
    text = text.strip()
    if rate := RATE.match(text):
        amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if amount < 1:
            raise ScheduleError(f"{text}: a rate needs at least 1 {unit}")
        if (amount == 1) != (rate.group(2) == unit):
            raise ScheduleError(f"{text}: say rate(1 {unit}) or rate({max(amount, 2)} {unit}s)")
        return Rate(timedelta(seconds=amount * UNITS[unit]))
    if cron := CRON.match(text):
        return _cron(text, cron.group(1).split())
    raise ScheduleError(f"{text!r}: expected rate(N minutes|hours|days) or cron(min hour day month weekday year)")


def due(text: str, last: datetime | None, now: datetime) -> bool:
    return parse(text).due(last, now)


def next_run(text: str, last: datetime | None, now: datetime) -> datetime | None:
    """When the link will next run this flow (the function's first tick from then on); None: never again."""
    return parse(text).next_after(last, now)


def _cron(text: str, fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ScheduleError(f"{text}: a cron has six fields (minutes hours day-of-month month day-of-week year)")
    minute, hour, day, month, weekday, year = fields
    if (day == "?") == (weekday == "?"):
        raise ScheduleError(f"{text}: exactly one of day-of-month and day-of-week must be '?'")
    return Cron(
        minutes=_field(text, "minutes", minute, 0, 59),
        hours=_field(text, "hours", hour, 0, 23),
        days=None if day in ("?", "*") else _field(text, "day-of-month", day, 1, 31),
        months=_field(text, "month", month, 1, 12, MONTHS),
        weekdays=None if weekday in ("?", "*") else _field(text, "day-of-week", weekday, 1, 7, DAYS),
        years=None if year == "*" else _field(text, "year", year, 1970, 2199),
    )


def _field(
    text: str, name: str, value: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int]:
    def number(part: str) -> int:
        found = (names or {}).get(part.upper()) if not part.isdigit() else int(part)
        if found is None or not low <= found <= high:
            raise ScheduleError(
                f"{text}: {name} takes {low}-{high}" + (" or names" if names else "") + f", not {part!r}"
            )
        return found

    chosen: set[int] = set()
    for part in value.split(","):
        if any(mark in part for mark in "LW#") and not all(
            word.upper() in (names or {}) for word in re.split(r"[-/]", part) if not word.isdigit()
        ):
            raise ScheduleError(f"{text}: {name} {part!r}: L, W and # are not supported; list the days instead")
        span, _, step = part.partition("/")
        if span in ("*", "?"):
            first, last = low, high
        elif "-" in span:
            first, last = (number(end) for end in span.split("-", 1))
        else:
            first = number(span)
            last = high if step else first
        if not step.isdigit() and step:
            raise ScheduleError(f"{text}: {name} step {step!r} is not a number")
        if first > last:
            raise ScheduleError(f"{text}: {name} range {span!r} runs backwards")
        chosen.update(range(first, last + 1, int(step or 1) or 1))
    return frozenset(chosen)


def _days(start: date, direction: int) -> Iterator[date]:
    return (start + timedelta(days=direction * offset) for offset in range(LOOK_DAYS))
