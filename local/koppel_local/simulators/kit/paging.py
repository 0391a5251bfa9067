"""Paging as the simulated systems do it: numbered pages, offset and limit, and cursors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def page_of(items: Sequence[T], page: int, size: int) -> list[T]:
    """The `page`-th page (from 1) of `size` items; an empty list past the end."""
    if page < 1 or size < 1:
        raise ValueError("page and size count from 1")
    return list(items[(page - 1) * size : page * size])


def offset_window(items: Sequence[T], offset: int, limit: int) -> list[T]:
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit cannot be negative")
    return list(items[offset : offset + limit])


@dataclass(frozen=True)
class CursorPage:
    items: list[object]
    offset: int  # the position of the first item in the whole list
    has_next: bool
    has_previous: bool

    @property
    def cursors(self) -> list[str]:
        return [str(self.offset + index) for index in range(len(self.items))]


def cursor_page(
    items: Sequence[T], *, first: int | None = None, last: int | None = None, after: str | None = None
) -> CursorPage:
    """A Relay-style page: `first` items after the cursor `after`, or the `last` items. A cursor is
    the item's position, opaque to the client."""
    start = int(after) + 1 if str(after or "").isdigit() else 0
    window = list(items[start:])
    page = window[:first] if first is not None else window[-last:] if last else []
    offset = start if first is not None else start + len(window) - len(page)
    return CursorPage(list(page), offset, offset + len(page) < len(items), offset > 0)
