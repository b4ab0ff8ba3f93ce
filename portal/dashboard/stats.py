"""Summary figures: derived rows that pages read instead of counting records.

Every figure the public sees (home page, dashboard, wall totals, the stats API, the monthly
dataset) is a sum over ``stat_slices``: one row per metric, district and calendar month (site
time), holding that month's count or sum.  Like the search index, the rows are derived: ``flask
stats rebuild`` recomputes every metric from the records, and nothing is lost if they are
deleted.

They follow the records by a job: a transaction that writes a table some metric is made from
marks that metric in ``stat_dirty`` (in the same transaction, so the mark cannot be lost) and
queues one ``stats.refresh`` job (coalesced: at most one waits at a time).  The job takes the
marks, recomputes those metrics with one grouped query each (outside the write lock) and
replaces their rows.  Figures therefore lag the records by about one refresh, a second or two
at a million households, and cost pages one small query whatever the number of records.

Metrics that count distinct people or households (volunteers, households with pledges) cannot
be added up across districts: they also get city-wide rows (district ``*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import jobs
from portal.dashboard.models import StatDirty, StatSlice
from portal.dashboard.sqltime import date_month, month_of
from portal.db import discard, on_commit_tables, utcnow, writing
from portal.events.models import CONFIRMED, PUBLISHED, Event, Signup
from portal.extensions import db
from portal.households.models import Household, HouseholdPledge, MonthlyReport
from portal.i18n import _l
from portal.schools.models import Activity, School
from portal.site import zone

CITY = "*"  # the district of city-wide rows (distinct metrics only)
NAMED = ("named", "rectification")
ALL_LEVELS = ("city", "provincial", "national")


@dataclass(frozen=True)
class Metric:
    name: str
    tables: frozenset[str]  # the records it is made from
    query: Callable[[], object]  # a select of (month, district, value)
    distinct: bool = False  # counts people or households: city-wide rows too
    city_query: Callable[[], object] | None = None  # a select of (month, value)


def _count_by(month, district, *where, joins=()):
    stmt = sa.select(month.label("month"), district.label("district"),
                     sa.func.count().label("value"))
    for join in joins:
        stmt = stmt.join(join)
    return stmt.where(*where).group_by(month, district)


def _households():
    return _count_by(month_of(Household.created_at), Household.district)


def _green_families():
    return _count_by(date_month(Household.named_on), Household.district,
                     Household.status.in_(NAMED), Household.named_on.is_not(None))


def _pledges():
    return _count_by(month_of(HouseholdPledge.created_at), Household.district,
                     joins=(Household,))


def _first_pledges(by_district: bool):
    first = (sa.select(HouseholdPledge.household_id,
                       sa.func.min(HouseholdPledge.created_at).label("first"))
             .group_by(HouseholdPledge.household_id).subquery())
    month = month_of(first.c.first)
    if not by_district:
        return sa.select(month.label("month"), sa.func.count().label("value")).group_by(month)
    return (sa.select(month.label("month"), Household.district.label("district"),
                      sa.func.count().label("value"))
            .join(Household, Household.id == first.c.household_id)
            .group_by(month, Household.district))


def _pledges_kept():
    kept = sa.func.sum(sa.func.json_array_length(MonthlyReport.kept))
    return (sa.select(MonthlyReport.month.label("month"), Household.district.label("district"),
                      kept.label("value")).join(Household)
            .group_by(MonthlyReport.month, Household.district))


def _signups():
    return _count_by(month_of(Signup.created_at), Event.district, joins=(Event,))


def _first_signups(by_district: bool):
    keys = [Signup.user_id, Event.district] if by_district else [Signup.user_id]
    first = (sa.select(*keys, sa.func.min(Signup.created_at).label("first")).join(Event)
             .where(Signup.user_id.is_not(None)).group_by(*keys).subquery())
    month = month_of(first.c.first)
    if not by_district:
        return sa.select(month.label("month"), sa.func.count().label("value")).group_by(month)
    return (sa.select(month.label("month"), first.c.district.label("district"),
                      sa.func.count().label("value")).group_by(month, first.c.district))


def _service_hours():
    month = month_of(Event.starts_at)
    return (sa.select(month.label("month"), Event.district.label("district"),
                      sa.func.coalesce(sa.func.sum(Signup.hours), 0).label("value"))
            .join(Event).where(Signup.status == CONFIRMED, Signup.hours.is_not(None))
            .group_by(month, Event.district))


def _events():
    return _count_by(month_of(Event.starts_at), Event.district, Event.status == PUBLISHED)


def _events_ending():
    return _count_by(month_of(Event.ends_at), Event.district, Event.status == PUBLISHED)


def _activities():
    return _count_by(month_of(Activity.published_at), School.district,
                     Activity.status == "published", Activity.hidden.is_(False),
                     Activity.published_at.is_not(None), joins=(School,))


def _schools(levels):
    return lambda: _count_by(month_of(School.created_at), School.district,
                             School.status == "verified", School.green_level.in_(levels))


_HOUSEHOLD_TABLES = frozenset({"households"})
METRICS = {m.name: m for m in (
    Metric("households", _HOUSEHOLD_TABLES, _households),
    Metric("green_families", _HOUSEHOLD_TABLES, _green_families),
    Metric("pledges", frozenset({"household_pledges", "households"}), _pledges),
    Metric("pledging_households", frozenset({"household_pledges", "households"}),
           lambda: _first_pledges(True), True, lambda: _first_pledges(False)),
    Metric("pledges_kept", frozenset({"monthly_reports", "households"}), _pledges_kept),
    Metric("signups", frozenset({"signups", "events"}), _signups),
    Metric("volunteers", frozenset({"signups", "events"}), lambda: _first_signups(True),
           True, lambda: _first_signups(False)),
    Metric("service_hours", frozenset({"signups", "events"}), _service_hours),
    Metric("events", frozenset({"events"}), _events),
    Metric("events_ending", frozenset({"events"}), _events_ending),
    Metric("published_activities", frozenset({"activities", "schools"}), _activities),
    Metric("green_schools", frozenset({"schools"}), _schools(ALL_LEVELS)),
    Metric("green_schools_provincial", frozenset({"schools"}),
           _schools(("provincial", "national"))),
)}


# -- following the records ----------------------------------------------------------------------

@on_commit_tables
def _mark(session, tables: frozenset[str]) -> None:
    """In the committing transaction: mark the metrics made from a table it wrote, and queue
    the (coalesced) refresh."""
    _mark_names(session, sorted(m.name for m in METRICS.values() if m.tables & tables))


def _mark_names(session, names: list[str]) -> None:
    if not names:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(StatDirty.__table__).values([{"metric": n} for n in names])
                    .on_conflict_do_nothing(index_elements=["metric"]))
    jobs.enqueue_coalesced("stats.refresh", session)


def compute(metric: Metric) -> list[dict]:
    """The metric's rows, computed from the records (reads only)."""
    rows = [{"metric": metric.name, "month": month, "district": district,
             "value": Decimal(str(value or 0))}
            for month, district, value in db.session.execute(metric.query())
            if month is not None and district is not None]
    if metric.distinct and metric.city_query is not None:
        rows += [{"metric": metric.name, "month": month, "district": CITY,
                  "value": Decimal(str(value or 0))}
                 for month, value in db.session.execute(metric.city_query())
                 if month is not None]
    return rows


def _replace(metric: Metric, rows: list[dict]) -> None:
    db.session.execute(sa.delete(StatSlice).where(StatSlice.metric == metric.name))
    if rows:
        db.session.execute(sa.insert(StatSlice), rows)


def refresh(_payload: dict | None = None) -> list[str]:
    """The job: recompute the marked metrics; returns their names."""
    with writing():
        names = list(db.session.scalars(sa.select(StatDirty.metric)))
        if names:
            db.session.execute(sa.delete(StatDirty).where(StatDirty.metric.in_(names)))
    try:
        computed = {n: compute(METRICS[n]) for n in names if n in METRICS}
        with writing():
            for name, rows in computed.items():
                _replace(METRICS[name], rows)
    except Exception:  # the marks are kept for the job's next attempt
        discard()
        with writing() as uow:
            _mark_names(uow.session, names)
        raise
    return sorted(computed)


def rebuild(each=iter) -> int:
    """Recompute every metric from the records (``flask stats rebuild`` passes a progress bar
    as ``each``); returns the number of rows written."""
    total = 0
    for metric in each(list(METRICS.values())):
        rows = compute(metric)
        with writing():
            _replace(metric, rows)
            db.session.execute(sa.delete(StatDirty).where(StatDirty.metric == metric.name))
        total += len(rows)
    return total


# -- reading -----------------------------------------------------------------------------------

def figure(value) -> Decimal:
    """A stored value as the figure it is: counts without a decimal place (1, not 1.0)."""
    number = Decimal(value or 0)
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _month(moment: datetime) -> str:
    return f"{moment.astimezone(zone()):%Y-%m}"


def _upto(metric: str, upto: dict[str, datetime] | None):
    """The condition that keeps ``metric`` to the months up to the one ``upto`` gives it."""
    if upto and metric in upto:
        return StatSlice.month <= _month(upto[metric])
    return sa.true()


def totals(names: list[str], until: datetime | None = None,
           district: str | None = None,
           upto: dict[str, datetime] | None = None) -> dict[str, Decimal]:
    """Each metric summed over its months up to the one ``until`` falls in (all by default),
    city-wide or for one district; a metric named in ``upto`` only up to the month of its
    moment there: one statement."""
    wanted = [METRICS[n] for n in names]
    conditions = []
    for metric in wanted:
        if district is not None:
            where = StatSlice.district == district
        elif metric.distinct:
            where = StatSlice.district == CITY
        else:
            where = StatSlice.district != CITY
        conditions.append(sa.and_(StatSlice.metric == metric.name, where,
                                  _upto(metric.name, upto)))
    stmt = sa.select(StatSlice.metric, sa.func.sum(StatSlice.value)).where(sa.or_(*conditions))
    if until is not None:
        stmt = stmt.where(StatSlice.month <= _month(until))
    found = dict(db.session.execute(stmt.group_by(StatSlice.metric)).all())
    return {n: figure(found.get(n)) for n in names}


def per_district(names: list[str], upto: dict[str, datetime] | None = None
                 ) -> dict[str, dict[str, Decimal]]:
    """{district: {metric: total}} for every district (a metric named in ``upto`` only up to
    the month of its moment there): one statement."""
    rows = db.session.execute(
        sa.select(StatSlice.district, StatSlice.metric, sa.func.sum(StatSlice.value))
        .where(sa.or_(*(sa.and_(StatSlice.metric == n, _upto(n, upto)) for n in names)),
               StatSlice.district != CITY)
        .group_by(StatSlice.district, StatSlice.metric))
    out: dict[str, dict[str, Decimal]] = {}
    for district, metric, value in rows:
        out.setdefault(district, {})[metric] = figure(value)
    return out


def by_month(names: list[str]) -> dict[str, dict[str, Decimal]]:
    """{metric: {month: value}} (city-wide; not cumulative): one statement."""
    conditions = [sa.and_(StatSlice.metric == m.name,
                          StatSlice.district == CITY if m.distinct
                          else StatSlice.district != CITY)
                  for m in (METRICS[n] for n in names)]
    rows = db.session.execute(
        sa.select(StatSlice.metric, StatSlice.month, sa.func.sum(StatSlice.value))
        .where(sa.or_(*conditions)).group_by(StatSlice.metric, StatSlice.month))
    out: dict[str, dict[str, Decimal]] = {n: {} for n in names}
    for metric, month, value in rows:
        out[metric][month] = figure(value)
    return out


def monthly_rows(names: list[str]):
    """(month, district, metric, value) rows, ordered: the monthly dataset's source."""
    return db.session.execute(
        sa.select(StatSlice.month, StatSlice.district, StatSlice.metric, StatSlice.value)
        .where(StatSlice.metric.in_(names), StatSlice.district != CITY)
        .order_by(StatSlice.month, StatSlice.district))


def _month_start() -> datetime:
    return datetime.now(zone()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def events_ended_this_month(district: str | None = None) -> int:
    """Events that ended earlier this month: the part of "events held" that moves with the
    clock (at most a month of the calendar)."""
    stmt = sa.select(sa.func.count()).select_from(Event).where(
        Event.status == PUBLISHED, Event.ends_at >= _month_start(), Event.ends_at < utcnow())
    if district is not None:
        stmt = stmt.where(Event.district == district)
    return db.session.scalar(stmt) or 0


def events_ended_this_month_by_district() -> dict[str, int]:
    """``events_ended_this_month`` for every district at once (their sum is the city's):
    one statement."""
    return dict(db.session.execute(
        sa.select(Event.district, sa.func.count()).where(
            Event.status == PUBLISHED, Event.ends_at >= _month_start(),
            Event.ends_at < utcnow()).group_by(Event.district)).all())


def mark_all() -> None:
    """Mark every metric (a new installation, or rows deleted by hand): the next refresh
    recomputes them."""
    with writing() as uow:
        _mark(uow.session, frozenset(t for m in METRICS.values() for t in m.tables))


def queue_if_pending() -> int:
    """Queue the refresh when metrics are marked (after an upgrade: migration 0013 marks them
    all); returns how many are marked.  ``flask setup`` calls it."""
    marked = db.session.scalar(sa.select(sa.func.count()).select_from(StatDirty)) or 0
    if marked:
        with writing() as uow:
            jobs.enqueue_coalesced("stats.refresh", uow.session)
    return marked


def init_app(app) -> None:
    jobs.register("stats.refresh", refresh, label=_l("Summary figures"))
