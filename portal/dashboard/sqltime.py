"""Calendar months in SQL, in the site's time zone: aggregates are grouped where the rows are.

``local_month(column)`` is the ``YYYY-MM`` of a UTC timestamp column in the site's zone, and
``date_month(column)`` that of a date column, each compiled for SQLite and PostgreSQL.  On
SQLite the zone is applied as the offset it has now (``site.yaml``'s Asia/Shanghai has had no
daylight saving since 1991); PostgreSQL applies the zone itself.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.site import zone


class local_month(FunctionElement):  # noqa: N801 (an SQL function)
    type = sa.String()
    inherit_cache = True


class date_month(FunctionElement):  # noqa: N801
    type = sa.String()
    inherit_cache = True


def month_of(column) -> local_month:
    return local_month(column, sa.literal(_zone_argument(), sa.String))


def _zone_argument() -> str:
    """What the SQL needs of the zone: its name (PostgreSQL) and offset (SQLite), together."""
    offset = datetime.now(zone()).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"{zone().key}|{minutes:+d} minutes"


@compiles(local_month, "sqlite")
def _sqlite_month(element, compiler, **kw):
    column, arg = list(element.clauses)
    # the offset is the part after "|" of the bound argument
    return (f"strftime('%Y-%m', {compiler.process(column, **kw)}, "
            f"substr({compiler.process(arg, **kw)}, "
            f"instr({compiler.process(arg, **kw)}, '|') + 1))")


@compiles(local_month, "postgresql")
def _pg_month(element, compiler, **kw):
    column, arg = list(element.clauses)
    name = f"split_part({compiler.process(arg, **kw)}, '|', 1)"
    return f"to_char(({compiler.process(column, **kw)}) AT TIME ZONE {name}, 'YYYY-MM')"


@compiles(date_month, "sqlite")
def _sqlite_date_month(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(column, **kw)})"


@compiles(date_month, "postgresql")
def _pg_date_month(element, compiler, **kw):
    (column,) = list(element.clauses)
    return f"to_char({compiler.process(column, **kw)}, 'YYYY-MM')"
