"""Bounded lists: every list a person or client can ask for comes in pages.

Keyset pagination ("the ones before id N") rather than offsets: a page costs the same at the
millionth row as at the first (an index walk from the cursor, never counting or skipping what
came before), and rows written meanwhile neither repeat nor vanish between pages.  Lists are
newest first; the cursor is the id of the last row shown.  Lists in another order (upcoming
events soonest first) page the same way on their sort key and id (:func:`keyset`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import request

from portal.extensions import db
from portal.i18n import _
from portal.rules import RuleError

PAGE_SIZE = 50
_MAX_ID = 2**31  # ids and other integers in cursors fit PostgreSQL's integer (-2**31 … 2**31-1)


@dataclass
class Page:
    items: list
    before: int | None  # the cursor of this page (None: the first page)
    next: int | None  # the cursor of the following page, or None at the end
    param: str = "before"  # the query parameter that carries the cursor in links

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


#: A page number above this is refused: no list read by number is ever this long.
MAX_PAGE = 10_000


def page_number(name: str = "page") -> int:
    """The page number of this request (``?page=2``; none: 1), for the short lists read by
    number with ``db.paginate`` (dead jobs); anything else is refused like a bad cursor."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_PAGE:
        raise _bad_cursor()
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


# -- pages in the order of a sort key ----------------------------------------------------------
# Lists that are not read by id (upcoming events soonest first, a roster in queue order) page
# on (sort key, …, id): the cursor holds the last row's values, so a page is still an index walk
# from the cursor.  In a link it is one opaque word, e.g. ``1780650000000000.42`` for
# (starts_at, id): each value in a plain form (a time as microseconds since 1970 UTC, a day as
# its proleptic Gregorian ordinal, text as URL-safe base64), joined by dots; a word that does
# not decode to values of the columns' types is refused like a bad ``?before=``.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _bad_cursor() -> RuleError:
    return RuleError("bad_cursor", _("This page address is not valid. Start again from the "
                                     "first page."), 400)


def _encode(value) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a page cursor")
        return str((value - _EPOCH) // _MICRO)
    if isinstance(value, date):
        return str(value.toordinal())
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no cursor form for {type(value).__name__}")
    if isinstance(value, int):
        return str(value)
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode(word: str, kind: type):
    signed = word[1:] if word.startswith("-") else word
    if kind is int or kind is datetime or kind is date:
        if not signed.isascii() or not signed.isdigit() or len(signed) > 18:
            raise _bad_cursor()
        number = int(word)
        if kind is int:
            return number
        if kind is date:
            if not 0 < number <= date.max.toordinal():
                raise _bad_cursor()
            return date.fromordinal(number)
        try:
            return _EPOCH + number * _MICRO
        except OverflowError:
            raise _bad_cursor() from None
    if len(word) > 400 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in word):
        raise _bad_cursor()
    try:
        return base64.urlsafe_b64decode(word + "=" * (-len(word) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None


def _kind(column) -> type:
    found = column.type
    while isinstance(found, sa.types.TypeDecorator):  # e.g. UTCDateTime: its DateTime
        found = found.impl_instance
    kind = found.python_type
    return datetime if issubclass(kind, datetime) else kind


def keyset_token(values) -> str:
    """The cursor word for a row's sort values (see above)."""
    return ".".join(_encode(v) for v in values)


def keyset_cursor(columns, name: str = "after") -> tuple | None:
    """The cursor of this request for a list ordered by ``columns`` (``?after=<word>``), as
    the values of those columns; a word that is not one is refused with a message."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    words = raw.split(".")
    if len(words) != len(columns):
        raise _bad_cursor()
    values = tuple(_decode(w, _kind(c)) for w, c in zip(words, columns, strict=True))
    if any(isinstance(v, int) and not -_MAX_ID <= v < _MAX_ID for v in values):
        raise _bad_cursor()
    return values


def keyset(stmt, columns, after: tuple | None, size: int = PAGE_SIZE, scalars: bool = True,
           descending: bool = False, param: str = "after") -> Page:
    """One page of ``stmt`` ordered by ``columns`` (ascending, or all descending), the last of
    them unique (an id), after the cursor ``after`` (the values of the previous page's last
    row, from :func:`keyset_cursor`).  ``Page.next`` is the cursor word of the following page
    and ``Page.param`` the query parameter that carries it."""
    order = [c.desc() if descending else c.asc() for c in columns]
    keys = [c.label(f"_page_key_{i}") for i, c in enumerate(columns)]
    stmt = stmt.add_columns(*keys).order_by(*order).limit(size + 1)
    if after is not None:
        row = sa.tuple_(*columns)
        bound = sa.tuple_(*(sa.literal(v, c.type) for v, c in zip(after, columns, strict=True)))
        stmt = stmt.where(row < bound if descending else row > bound)
    rows = db.session.execute(stmt).all()
    more = len(rows) > size
    rows = rows[:size]
    width = len(columns)
    items = [r[0] if scalars else tuple(r[:-width]) for r in rows]
    following = keyset_token(rows[-1][-width:]) if more and rows else None
    return Page(items, keyset_token(after) if after is not None else None, following, param)
