"""Pages by number, for the one list whose order ``portal.paging`` cannot key on yet.

A school's posts are ordered by the activity's *date*, and ``paging.keyset`` has a cursor form
for times, numbers and text but not for dates.  That list stays small (a school publishes some
hundreds of posts), so an offset never skips much: ``numbered`` reads page ``n`` (``?page=2``)
with one row more than the page to know whether another follows, and no COUNT.  Once the
cursor has a form for dates this can go, and the school page can use ``paging.keyset``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from portal.extensions import db
from portal.paging import PAGE_SIZE, _bad_cursor

#: A page number above this is refused: no list read by number is ever this long.
MAX_PAGE = 10_000


@dataclass
class Numbered:
    items: list
    number: int  # this page's number, from 1
    more: bool  # whether a page follows

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.more else None

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None


def page_number(name: str = "page") -> int:
    """The page number of this request (``?page=2``; none: 1); anything else is refused with
    the message of a bad cursor."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_PAGE:
        raise _bad_cursor()
    return int(raw)


def numbered(stmt, number: int, size: int = PAGE_SIZE) -> Numbered:
    """Page ``number`` of ``stmt``, which must be ordered, ending with a unique column so that
    pages neither overlap nor skip."""
    number = max(1, min(int(number), MAX_PAGE))
    rows = list(db.session.scalars(stmt.limit(size + 1).offset((number - 1) * size)))
    return Numbered(rows[:size], number, len(rows) > size)
