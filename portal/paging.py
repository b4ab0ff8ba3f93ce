"""Bounded lists: every list a person or client can ask for comes in pages.

Keyset pagination ("the ones before id N") rather than offsets: a page costs the same at the
millionth row as at the first (an index walk from the cursor, never counting or skipping what
came before), and rows written meanwhile neither repeat nor vanish between pages.  Lists are
newest first; the cursor is the id of the last row shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request

from portal.extensions import db
from portal.i18n import _
from portal.rules import RuleError

PAGE_SIZE = 50
_MAX_ID = 10**18


@dataclass
class Page:
    items: list
    before: int | None  # the cursor of this page (None: the first page)
    next: int | None  # the cursor of the following page, or None at the end

    @property
    def first(self) -> bool:
        return self.before is None


def cursor(name: str = "before") -> int | None:
    """The page cursor of this request (``?before=123``); a cursor that is not one is refused
    with a message (it was edited by hand, or comes from a broken link)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < _MAX_ID:
        raise RuleError("bad_cursor", _("This page address is not valid. Start again from the "
                                        "first page."), 400)
    return int(raw)


def newest_first(stmt, id_column, before: int | None, size: int = PAGE_SIZE,
                 scalars: bool = True) -> Page:
    """One page of ``stmt`` (a select), newest first by ``id_column``, after the cursor."""
    stmt = stmt.order_by(id_column.desc()).limit(size + 1)
    if before is not None:
        stmt = stmt.where(id_column < before)
    result = db.session.execute(stmt)
    rows = list(result.scalars() if scalars else result.all())
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    if last is not None and not scalars:
        last = last[0]
    return Page(rows, before, sa.inspect(last).identity[0] if more and last is not None
                else None)
