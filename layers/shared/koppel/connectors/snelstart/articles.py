"""SnelStart's articles read in batches, and the change-feed cursor stock and products share.

`GET /artikelen` answers at most 25 articles a page; koppel reads `BATCH_PAGES` pages per call, so one
call hands the flow up to 100 articles. The list takes `$filter=modifiedOn ge …` (every article
carries `modifiedOn`), and SnelStart sends no webhooks for articles: changes are polled.

The spec declares no `$orderby`, so a pass over the changed articles pages with `$skip` through a
list in SnelStart's own order. Two things keep a change from being lost:
- the next pass starts no later than the gateway's time when this pass began (its `Date` header,
  less `CLOCK_MARGIN`): an article changed while the pass pages has a later `modifiedOn` than that,
  so the next pass reads it again, even when it was read before its change;
- the next pass reads from that moment *inclusive* (`ge`), so a change in the same second (the same
  instant) as the cursor is read. What was read at or after that moment is kept in the cursor as a
  short digest of (id, modifiedOn, stock figures) and not handed over twice; an article changed
  again at the same instant has other figures, another digest, and is handed over.
A pass that found something changed after it began is followed at once by another (`more`), which
reads what changed meanwhile; a pass that finds nothing new keeps its cursor as it was.

If SnelStart orders the list by `modifiedOn` (not published), an article changed during a pass moves
to the end and shifts the ones after the current page by one: one could be skipped until the next
full read (the reconciliation by `stock_page`). Not verified against the live API.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from koppel.connectors.snelstart.client import ARTICLE_PAGE, SnelStartClient, odata_moment, parse_moment

BATCH_PAGES = 4
BATCH = ARTICLE_PAGE * BATCH_PAGES
CLOCK_MARGIN = timedelta(seconds=5)  # the gateway's clock against the one that stamps modifiedOn


@dataclass(frozen=True)
class Batch:
    rows: tuple[dict[str, Any], ...]
    exhausted: bool  # the list has nothing beyond these rows
    answered_at: datetime | None


def read_articles(client: SnelStartClient, *, skip: int, filter: str = "") -> Batch:
    """Up to `BATCH` articles from `skip` on, a page of 25 at a time."""
    rows: list[dict[str, Any]] = []
    answered: datetime | None = None
    for _ in range(BATCH_PAGES):
        found = client.page("/artikelen", skip=skip + len(rows), top=ARTICLE_PAGE, filter=filter)
        answered = answered or found.answered_at
        rows.extend(found.rows)
        if len(found.rows) < ARTICLE_PAGE:
            return Batch(tuple(rows), True, answered)
    return Batch(tuple(rows), False, answered)


def digest(article: dict[str, Any]) -> str:
    """A short fingerprint of one version of an article's stock: id, modifiedOn and its figures."""
    parts = [
        str(article.get(key))
        for key in ("id", "modifiedOn", "technischeVoorraad", "vrijeVoorraad", "voorraadControle", "isNonActief")
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


@dataclass
class Feed:
    """Where a change feed stands: the moment it reads from and what it already handed over from then
    on; during a pass also how far the pass got, when it began and what it has seen."""

    since: datetime | None = None
    handed: frozenset[str] = frozenset()
    skip: int | None = None  # None: between passes
    began: datetime | None = None
    newest: datetime | None = None
    seen: dict[str, str] = field(default_factory=dict)  # digest -> modifiedOn, at or after the next start
    found_new: bool = False
    new_since_began: bool = False

    @classmethod
    def read(cls, cursor: str | None) -> Feed:
        """The cursor's feed; anything unreadable starts from the beginning."""
        try:
            held = json.loads(cursor) if cursor else {}
        except ValueError:
            held = {}
        if not isinstance(held, dict):
            held = {}
        feed = cls(since=parse_moment(held.get("since")), handed=frozenset(held.get("handed") or ()))
        if isinstance(held.get("skip"), int):
            feed.skip = held["skip"]
            feed.began = parse_moment(held.get("began"))
            feed.newest = parse_moment(held.get("newest"))
            feed.seen = {str(key): str(value) for key, value in (held.get("seen") or {}).items()}
            feed.found_new = bool(held.get("found_new"))
            feed.new_since_began = bool(held.get("new_since_began"))
        return feed

    def idle(self) -> str:
        return json.dumps(
            {"since": odata_moment(self.since) if self.since else "", "handed": sorted(self.handed)},
            separators=(",", ":"),
        )

    def paging(self) -> str:
        state = json.loads(self.idle()) | {
            "skip": self.skip,
            "began": odata_moment(self.began) if self.began else "",
            "newest": odata_moment(self.newest) if self.newest else "",
            "seen": self.seen,
            "found_new": self.found_new,
            "new_since_began": self.new_since_began,
        }
        return json.dumps(state, separators=(",", ":"))

    @property
    def filter(self) -> str:
        return f"modifiedOn ge {odata_moment(self.since)}" if self.since else ""

    def start(self, answered: datetime | None) -> None:
        """A pass begins: no later than the gateway's time now (or koppel's own, without a Date)."""
        if self.skip is None:
            self.skip = 0
            self.began = (answered or datetime.now(UTC)) - CLOCK_MARGIN
            self.newest, self.seen, self.found_new, self.new_since_began = None, {}, False, False

    def take(self, article: dict[str, Any]) -> bool:
        """Note an article read in this pass; True when it is new to koppel (not handed over before)."""
        moment = parse_moment(article.get("modifiedOn"))
        fingerprint = digest(article)
        new = fingerprint not in self.handed
        if new:
            self.found_new = True
            if moment is not None and self.began is not None and moment >= self.began:
                self.new_since_began = True
        if moment is not None:
            self.newest = moment if self.newest is None else max(self.newest, moment)
            start = self.next_start()
            if start is not None and moment >= start:
                self.seen[fingerprint] = odata_moment(moment)
            self.seen = {key: value for key, value in self.seen.items() if start is None or _at(value) >= start}
        return new

    def next_start(self) -> datetime | None:
        if self.newest is None:
            return self.since
        start = min(self.newest, self.began) if self.began is not None else self.newest
        return max(start, self.since) if self.since is not None else start

    def advance(self, count: int) -> None:
        self.skip = (self.skip or 0) + count

    def finish(self) -> tuple[str, bool]:
        """The pass is done: the cursor to keep and whether another pass should follow at once."""
        if not self.found_new:
            return Feed(self.since, self.handed).idle(), False
        start = self.next_start()
        handed = frozenset(key for key, value in self.seen.items() if start is None or _at(value) >= start)
        return Feed(start, handed).idle(), self.new_since_began


def _at(value: str) -> datetime:
    return parse_moment(value) or datetime.min.replace(tzinfo=UTC)


def sequence_of(article: dict[str, Any]) -> int | None:
    """The article's `modifiedOn` in microseconds since the epoch: later for every change."""
    moment = parse_moment(article.get("modifiedOn"))
    if moment is None:
        return None
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return max(0, (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
