"""Open datasets: public fields only, as CSV and JSON.  Nothing personal beyond what a person
agreed to show (a green family appears masked, and only if it chose the public wall)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.dashboard import stats as summary
from portal.events.models import CANCELLED, PUBLISHED, Event
from portal.extensions import db
from portal.households.models import Household
from portal.households.services import mask_name
from portal.i18n import _l
from portal.learn import services as learn
from portal.learn.observances import occurrence
from portal.schools.models import School
from portal.site import site, zone

LICENCE = _l("Free to reuse, also commercially, if you name the source: Green Jiaxing "
             "(Creative Commons Attribution 4.0, CC BY 4.0).")


@dataclass(frozen=True)
class Dataset:
    name: str
    title: object
    description: object
    fields: tuple[tuple[str, object], ...]
    rows: Callable[[], Iterator[dict]]  # a generator: datasets stream


def _iso(value):
    return value.astimezone(zone()).isoformat() if value else None


def _stream(stmt, scalars: bool = True):
    """Rows of ``stmt`` a batch at a time (a server-side cursor on PostgreSQL): records, or
    with ``scalars=False`` rows of the columns selected."""
    result = db.session.execute(stmt.execution_options(yield_per=500))
    return result.scalars() if scalars else result


def _events():
    for e in _stream(sa.select(Event).where(Event.status.in_((PUBLISHED, CANCELLED)))
                     .order_by(Event.starts_at, Event.id)):
        yield {"id": e.id, "title_zh": e.title_zh, "title_en": e.title_en,
               "starts_at": _iso(e.starts_at), "ends_at": _iso(e.ends_at), "place": e.place,
               "district": e.district, "capacity": e.capacity, "status": e.status,
               "observance": e.observance_slug or ""}


def _observances():
    year = datetime.now(zone()).year
    for o in learn.observances():
        for y in (year, year + 1):
            occ = occurrence(o, y)
            yield {"slug": o.slug, "name_zh": o.zh, "name_en": o.en, "kind": o.kind,
                   "year": y, "start": occ.start.isoformat() if occ else None,
                   "end": occ.end.isoformat() if occ else None,
                   "provisional": occ.provisional if occ else None}


def _green_families():
    # The five columns it shows, in naming order (the index on (named_on, id)): a named family
    # always has its naming date.
    for h in _stream(sa.select(Household.name, Household.show_on_wall, Household.district,
                               Household.named_on, Household.status).where(
            Household.named_on.is_not(None), Household.status.in_(("named", "rectification")))
            .order_by(Household.named_on, Household.id), scalars=False):
        yield {"name": mask_name(h.name) if h.show_on_wall and h.name else "",
               "district": h.district, "year": h.named_on.year if h.named_on else None,
               "status": h.status}


def _schools():
    for s in _stream(sa.select(School).where(School.status == "verified")
                     .order_by(School.district, School.name_zh, School.id)):
        yield {"slug": s.slug, "name_zh": s.name_zh, "name_en": s.name_en,
               "district": s.district, "type": s.type, "green_level": s.green_level,
               "green_year": s.green_year}


MONTHLY = ("households", "pledges_kept", "signups", "service_hours")
MONTHLY_FIELDS = {"households": "households_registered"}


def _monthly():
    """From the summary rows (portal/dashboard/stats.py), already grouped by month and
    district: as many rows as there are months and districts, whatever the records."""
    known = {d.code for d in site().divisions}
    current, values = None, {}
    for month, district, metric, value in summary.monthly_rows(list(MONTHLY)):
        if (month, district) != current:
            if current is not None and current[1] in known:
                yield _monthly_row(current, values)
            current, values = (month, district), {}
        values[MONTHLY_FIELDS.get(metric, metric)] = value
    if current is not None and current[1] in known:
        yield _monthly_row(current, values)


def _monthly_row(key: tuple[str, str], values: dict) -> dict:
    return {"month": key[0], "district": key[1],
            "households_registered": int(values.get("households_registered", 0)),
            "pledges_kept": int(values.get("pledges_kept", 0)),
            "signups": int(values.get("signups", 0)),
            "service_hours": float(values.get("service_hours", 0))}


DATASETS = (
    Dataset("events", _l("Events"), _l("Published and cancelled events: when, where, places."),
            (("id", _l("number")), ("title_zh", _l("title in Chinese")),
             ("title_en", _l("title in English")), ("starts_at", _l("start, ISO 8601")),
             ("ends_at", _l("end, ISO 8601")), ("place", _l("place")),
             ("district", _l("district code")), ("capacity", _l("places")),
             ("status", _l("published or cancelled")),
             ("observance", _l("observance day slug")) ), _events),
    Dataset("observances", _l("Observance days"),
            _l("This year's and next year's dates of the observance days."),
            (("slug", _l("identifier")), ("name_zh", _l("name in Chinese")),
             ("name_en", _l("name in English")), ("kind", _l("fixed, rule or announced")),
             ("year", _l("year")), ("start", _l("first day")), ("end", _l("last day")),
             ("provisional", _l("worked out from the rule, not yet announced"))), _observances),
    Dataset("green-families", _l("Named green families"),
            _l("Households recognised as green families: masked name (only if they chose to "
               "appear publicly), district and year."),
            (("name", _l("masked name, or empty")), ("district", _l("district code")),
             ("year", _l("year named")), ("status", _l("named or rectification"))),
            _green_families),
    Dataset("schools", _l("Verified schools"),
            _l("Schools verified on the portal and their recorded green-school status."),
            (("slug", _l("identifier")), ("name_zh", _l("name in Chinese")),
             ("name_en", _l("name in English")), ("district", _l("district code")),
             ("type", _l("kind of school")), ("green_level", _l("green-school level")),
             ("green_year", _l("year of the title"))), _schools),
    Dataset("district-monthly", _l("Monthly figures per district"),
            _l("Per month and district: households registered, pledges kept, sign-ups and "
               "service hours."),
            (("month", _l("YYYY-MM")), ("district", _l("district code")),
             ("households_registered", _l("households registered that month")),
             ("pledges_kept", _l("pledges reported kept for that month")),
             ("signups", _l("event sign-ups made that month")),
             ("service_hours", _l("service hours of events that month"))), _monthly),
)


def dataset(name: str) -> Dataset | None:
    return next((d for d in DATASETS if d.name == name), None)
