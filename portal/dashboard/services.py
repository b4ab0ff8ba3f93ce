"""Progress toward the plan's targets, and the open datasets.  Counts come from the other
features' tables (read only); entered figures from staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal import audit
from portal.dashboard import stats
from portal.dashboard.models import EnteredFigure
from portal.db import writing
from portal.extensions import db
from portal.i18n import Localized, _, _l, pick
from portal.rules import RuleError
from portal.schools.models import Activity, School
from portal.site import site, zone


@dataclass
class Target:
    key: str
    label: dict
    target: Decimal
    year: int
    source: str  # "entered" or "live:<metric>"
    unit: str = "count"

    def text(self, locale: str | None = None) -> Localized:
        return pick(self, "label", locale)

    @property
    def live(self) -> str | None:
        return self.source.split(":", 1)[1] if self.source.startswith("live:") else None


@dataclass
class Progress:
    target: Target
    value: Decimal | None
    as_of: date | None
    note: str
    trend: list[tuple[str, Decimal]] = field(default_factory=list)  # (YYYY-MM, value)

    @property
    def share(self) -> float | None:
        if self.value is None or not self.target.target:
            return None
        return float(self.value / self.target.target)


def targets() -> list[Target]:
    return [Target(t.key, t.label.model_dump(), t.target, t.year, t.source, t.unit)
            for t in site().targets]


# -- live metrics ---------------------------------------------------------------------------

def month_ends(months: int = 12, today: date | None = None) -> list[tuple[str, datetime]]:
    """The last ``months`` calendar months, oldest first: ("YYYY-MM", start of next month)."""
    today = today or datetime.now(zone()).date()
    out = []
    for back in range(months - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        first = date(index // 12, index % 12 + 1, 1)
        following = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        out.append((f"{first:%Y-%m}", datetime.combine(following, datetime.min.time(), zone())))
    return out


def _until_label(until: datetime | None) -> datetime | None:
    return None if until is None else until - timedelta(microseconds=1)


def live_value(metric: str, until: datetime | None = None,
               district: str | None = None) -> Decimal:
    """The metric's value (cumulative up to ``until``; optionally for one district), from the
    summary rows (portal/dashboard/stats.py)."""
    if metric not in LIVE:
        raise ValueError(f"unknown metric {metric}")
    return _values([metric], _until_label(until), district)[metric]


#: The live metrics targets and headlines can name, and the summary metric each reads.
LIVE = {"green_families": "green_families", "green_schools": "green_schools",
        "green_schools_provincial": "green_schools_provincial", "volunteers": "volunteers",
        "service_hours": "service_hours", "published_activities": "published_activities",
        "events_held": "events_ending"}


def _values(metrics: list[str], until: datetime | None = None,
            district: str | None = None) -> dict[str, Decimal]:
    """Live metrics from the summary rows.  "Events held" are the published events that
    ended: the rows up to last month, and this month's so far, counted now (two statements
    in all)."""
    held = "events_held" in metrics and (
        until is None
        or f"{until.astimezone(zone()):%Y-%m}" >= datetime.now(zone()).strftime("%Y-%m"))
    found = stats.totals([LIVE[m] for m in metrics], until, district,
                         upto={"events_ending": _last_month_end()} if held else None)
    out = {m: found[LIVE[m]] for m in metrics}
    if held:
        out["events_held"] = found["events_ending"] + stats.events_ended_this_month(district)
    return out


def _last_month_end() -> datetime:
    start = datetime.now(zone()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start - timedelta(microseconds=1)


HEADLINES = ("green_families", "green_schools", "volunteers", "service_hours",
             "published_activities", "events_held")


def headline_labels() -> dict[str, str]:
    return {"green_families": _("Green families named"),
            "green_schools": _("Green schools recorded"),
            "volunteers": _("Volunteers"), "service_hours": _("Service hours"),
            "published_activities": _("School activities published"),
            "events_held": _("Events held")}


def headlines() -> dict[str, Decimal]:
    return _values(list(HEADLINES))


def _trend(metric: str, months: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """Cumulative values at the end of each of the last twelve months."""
    ends = month_ends()
    first = ends[0][0]
    running = sum((v for m, v in months.items() if m < first), Decimal(0))
    out = []
    for month, _end in ends:
        running += months.get(month, Decimal(0))
        out.append((month, running))
    return out


@dataclass
class Overview:
    """Everything the dashboard shows, read with four statements whatever the number of
    targets, districts or records: the entered figures, the city's summary rows by month,
    the districts' summary rows, and this month's ended events per district."""

    progress: list[Progress]
    headlines: dict[str, Decimal]
    districts: list[tuple[object, dict[str, Decimal]]]
    entered: dict[str, list[EnteredFigure]]  # every target's entered figures, newest first


def _now_values(metrics: list[str], monthly: dict[str, dict[str, Decimal]],
                ended: int) -> dict[str, Decimal]:
    """Live metrics from the city's rows by month (``stats.by_month``) and this month's ended
    events."""
    last = f"{_last_month_end():%Y-%m}"
    out = {}
    for m in metrics:
        months = monthly[LIVE[m]]
        if m == "events_held":
            out[m] = stats.figure(sum((v for month, v in months.items() if month <= last),
                                       Decimal(0)) + ended)
        else:
            out[m] = stats.figure(sum(months.values(), Decimal(0)))
    return out


def _progress(entered: dict[str, list[EnteredFigure]], monthly: dict[str, dict[str, Decimal]],
              now_values: dict[str, Decimal]) -> list[Progress]:
    out = []
    for t in targets():
        if t.live:
            trend = _trend(t.live, monthly[LIVE[t.live]])
            if t.live == "events_held" and trend:
                trend[-1] = (trend[-1][0], now_values[t.live])  # this month: ended so far
            out.append(Progress(t, now_values[t.live], datetime.now(zone()).date(),
                                _("counted on this portal"), trend))
        else:
            history = entered.get(t.key, [])
            latest = history[0] if history else None
            trend = [(f"{f.as_of:%Y-%m}", Decimal(f.value)) for f in reversed(history)]
            out.append(Progress(t, Decimal(latest.value) if latest else None,
                                latest.as_of if latest else None,
                                latest.source if latest else "", trend))
    return out


def _districts(ended: dict[str, int]) -> list[tuple[object, dict[str, Decimal]]]:
    totals = stats.per_district([LIVE[m] for m in HEADLINES],
                                upto={"events_ending": _last_month_end()})
    rows = []
    for d in site().divisions:
        values = {m: totals.get(d.code, {}).get(LIVE[m], Decimal(0)) for m in HEADLINES}
        values["events_held"] = stats.figure(values["events_held"] + ended.get(d.code, 0))
        rows.append((d, values))
    return rows


def _live_targets() -> list[str]:
    return [t.live for t in targets() if t.live]


def overview(with_districts: bool = True) -> Overview:
    """The dashboard's figures (see ``Overview``)."""
    ended = stats.events_ended_this_month_by_district()
    metrics = list(dict.fromkeys([*HEADLINES, *_live_targets()]))
    monthly = stats.by_month(list(dict.fromkeys(LIVE[m] for m in metrics)))
    now_values = _now_values(metrics, monthly, sum(ended.values()))
    entered = entered_figures()
    return Overview(_progress(entered, monthly, now_values),
                    {m: now_values[m] for m in HEADLINES},
                    _districts(ended) if with_districts else [], entered)


def progress() -> list[Progress]:
    return overview(with_districts=False).progress


def by_district() -> list[tuple[object, dict[str, Decimal]]]:
    return _districts(stats.events_ended_this_month_by_district())


def by_school() -> list[tuple[object, dict[str, int]]]:
    published = (sa.select(sa.func.count()).where(Activity.school_id == School.id,
                                                  Activity.status == "published")
                 .correlate(School).scalar_subquery())
    return [(school, {"published_activities": count or 0})
            for school, count in db.session.execute(
                sa.select(School, published).where(School.status == "verified")
                .order_by(School.district, School.name_zh))]


# -- entered figures -----------------------------------------------------------------------

def entered_figures() -> dict[str, list[EnteredFigure]]:
    """Every target's entered figures, newest first (the first is current): one statement
    (staff enter a figure now and then; the table stays small)."""
    out: dict[str, list[EnteredFigure]] = {}
    for f in db.session.scalars(sa.select(EnteredFigure).order_by(
            EnteredFigure.as_of.desc(), EnteredFigure.id.desc())):
        out.setdefault(f.target_key, []).append(f)
    return out


def history_of(key: str) -> list[EnteredFigure]:
    return list(db.session.scalars(sa.select(EnteredFigure).where(
        EnteredFigure.target_key == key).order_by(EnteredFigure.as_of.desc(),
                                                  EnteredFigure.id.desc())))


def enter_figure(key: str, value: Decimal | None, as_of: date | None, source: str,
                 by) -> EnteredFigure:
    target = next((t for t in targets() if t.key == key and not t.live), None)
    errors = {}
    if target is None:
        errors["key"] = _("This target does not take entered figures.")
    if value is None or not value.is_finite() or value < 0 or value >= Decimal("1e9"):
        errors["value"] = _("Enter a number of 0 or more.")
    elif target is not None and target.unit == "percent" and value > 100:
        errors["value"] = _("A share is at most 100.")
    if as_of is None:
        errors["as_of"] = _("Give the date the figure refers to.")
    elif as_of > datetime.now(zone()).date():
        errors["as_of"] = _("The date cannot be in the future.")
    if not (source or "").strip():
        errors["source"] = _("Say where the figure comes from.")
    if errors:
        raise RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)
    with writing():
        row = EnteredFigure(target_key=key, value=value, as_of=as_of,
                            source=source.strip()[:300], entered_by_id=by.id)
        db.session.add(row)
        db.session.flush()
        audit.record(by, "dashboard.figure", f"figure:{row.id}", str(target.text("zh")),
                     value=str(value), as_of=as_of, source=row.source)
    return row


audit.describe("dashboard.figure", _l("{actor} entered {value} for '{label}' (as of {as_of}, "
                                      "source: {source})"), _l("Figure entered"))
