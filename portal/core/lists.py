"""Two more kinds of bounded list, beside ``portal.paging``'s newest-first keyset pages.

* ``oldest_first``: a keyset page in ascending id order (``?after=<id>``), for the staff
  queues, which are worked through from the oldest waiting item.  Same costs as
  ``newest_first``: an index walk from the cursor, whatever the number of rows before it.
* ``numbered``: a page by number (``?page=2``), for lists whose order is not by id (the
  school directory, alphabetical; a school's posts, by the activity's date) and that stay
  small enough for an offset (a few thousand rows: skipping them is cheaper than a composite
  cursor is to read).  No COUNT: one row more than the page is read to know whether there is
  a next page.

Written here, in ``portal.core``, while ``portal/paging.py`` belongs to another change; both
could move there unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request

from portal.extensions import db
from portal.i18n import _
from portal.paging import PAGE_SIZE, Page, cursor
from portal.rules import RuleError

#: A page number above this is refused: no list read by number is ever this long.
MAX_PAGE = 10_000


def oldest_first(stmt, id_column, after: int | None, size: int = PAGE_SIZE,
                 scalars: bool = True) -> Page:
    """One page of ``stmt``, oldest first by ``id_column``, after the cursor.  ``Page.before``
    holds the cursor of this page (None: the first page), ``Page.next`` the next page's."""
    stmt = stmt.order_by(id_column.asc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(id_column > after)
    result = db.session.execute(stmt)
    rows = list(result.scalars() if scalars else result.all())
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    if last is not None and not scalars:
        last = last[0]
    return Page(rows, after, sa.inspect(last).identity[0] if more and last is not None
                else None)


def after_cursor(name: str = "after") -> int | None:
    """The ascending cursor of this request (``?after=123``), checked like ``paging.cursor``."""
    return cursor(name)


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
    the same message as a bad cursor."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_PAGE:
        raise RuleError("bad_cursor", _("This page address is not valid. Start again from the "
                                        "first page."), 400)
    return int(raw)


def numbered(stmt, number: int, size: int = PAGE_SIZE, scalars: bool = True) -> Numbered:
    """Page ``number`` of ``stmt`` (which must be ordered, ending with a unique column so
    that pages neither overlap nor skip)."""
    number = max(1, min(int(number), MAX_PAGE))
    result = db.session.execute(stmt.limit(size + 1).offset((number - 1) * size))
    rows = list(result.scalars() if scalars else result.all())
    return Numbered(rows[:size], number, len(rows) > size)

