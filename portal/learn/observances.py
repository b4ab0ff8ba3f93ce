"""When an observance day falls: fixed days, rule days (provisional until announced) and
days that exist only when announced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.learn.models import Observance
from portal.site import zone


@dataclass(frozen=True)
class Occurrence:
    start: date
    end: date
    provisional: bool  # derived from the rule, not yet announced

    @property
    def single_day(self) -> bool:
        return self.start == self.end


def today() -> date:
    return datetime.now(zone()).date()


def week_containing(day: date) -> tuple[date, date]:
    """The Sunday-to-Saturday week that contains ``day``."""
    start = day - timedelta(days=(day.weekday() + 1) % 7)
    return start, start + timedelta(days=6)


def occurrence(obs: Observance, year: int) -> Occurrence | None:
    """The day(s) of ``obs`` in ``year``, or None when no date is known."""
    if obs.since and year < obs.since:
        return None
    announced = (obs.announced or {}).get(str(year))
    if announced:
        return Occurrence(date.fromisoformat(announced[0]), date.fromisoformat(announced[1]),
                          provisional=False)
    if obs.kind == "fixed" and obs.month_day:
        month, day = map(int, obs.month_day.split("-"))
        fixed = date(year, month, day)
        return Occurrence(fixed, fixed, provisional=False)
    if obs.kind == "rule" and obs.week_containing:
        month, day = map(int, obs.week_containing.split("-"))
        start, end = week_containing(date(year, month, day))
        return Occurrence(start, end, provisional=True)
    return None


def upcoming(obs: Observance, on: date | None = None,
             years: int = 3) -> list[tuple[int, Occurrence | None]]:
    """This year's (if not yet over) and the following years' occurrences; None = not yet
    announced."""
    on = on or today()
    out = []
    for year in range(on.year, on.year + years + 1):
        occ = occurrence(obs, year)
        if occ is not None and occ.end < on:
            continue
        out.append((year, occ))
    return out[:years]


def next_occurrence(obs: Observance, on: date | None = None) -> Occurrence | None:
    return next((occ for _year, occ in upcoming(obs, on) if occ is not None), None)
