"""The month grid: weeks (Monday first) of days, each with its events and observance days."""

from __future__ import annotations

import calendar as pycal
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from portal.events import services
from portal.learn import services as learn
from portal.learn.observances import occurrence
from portal.paging import keyset_token
from portal.site import zone


@dataclass
class Day:
    date: date
    in_month: bool
    events: list = field(default_factory=list)
    observances: list = field(default_factory=list)  # (Observance, Occurrence)


def month(year: int, month_no: int, district: str | None = None,
          observance: str | None = None) -> tuple[list[list[Day]], str | None]:
    """The weeks of the month, and, when it holds more events than the grid shows
    (``services.MONTH_CAP``), the list cursor of the last one shown (the list goes on from
    there)."""
    tz = zone()
    weeks = pycal.Calendar(firstweekday=0).monthdatescalendar(year, month_no)
    first, last = weeks[0][0], weeks[-1][-1]
    days = {d: Day(d, d.month == month_no) for week in weeks for d in week}
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    shown = services.published_between(start, end, district, observance,
                                       limit=services.MONTH_CAP + 1, listed=True)
    more = None
    if len(shown) > services.MONTH_CAP:
        shown = shown[:services.MONTH_CAP]
        more = keyset_token((shown[-1].starts_at, shown[-1].id))
    for event in shown:
        day = event.starts_at.astimezone(tz).date()
        last_day = event.ends_at.astimezone(tz).date()
        while day <= last_day:
            if day in days:
                days[day].events.append(event)
            day += timedelta(days=1)
    for obs in learn.observances():
        if observance and obs.slug != observance:
            continue
        for y in {first.year, last.year}:
            occ = occurrence(obs, y)
            if occ is None:
                continue
            day = occ.start
            while day <= occ.end:
                if day in days:
                    days[day].observances.append((obs, occ))
                day += timedelta(days=1)
    return [[days[d] for d in week] for week in weeks], more
