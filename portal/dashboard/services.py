"""Progress toward the plan's targets, and the open datasets.  Counts come from the other
features' tables (read only); entered figures from staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.dashboard.models import EnteredFigure
from portal.db import utcnow, writing
from portal.events.models import CONFIRMED, PUBLISHED, Event, Signup
from portal.extensions import db
from portal.households.models import Household
from portal.i18n import Localized, _, pick
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


def live_value(metric: str, until: datetime | None = None,
               district: str | None = None) -> Decimal:
    """The metric's value (cumulative up to ``until``; optionally for one district)."""
    until = until or utcnow() + timedelta(days=1)
    if metric == "green_families":
        stmt = sa.select(sa.func.count()).select_from(Household).where(
            Household.status.in_(("named", "rectification")),
            Household.named_on < until.date())
        if district:
            stmt = stmt.where(Household.district == district)
    elif metric in ("green_schools_provincial", "green_schools"):
        levels = ("provincial", "national") if metric.endswith("provincial") else (
            "city", "provincial", "national")
        stmt = sa.select(sa.func.count()).select_from(School).where(
            School.status == "verified", School.green_level.in_(levels),
            School.created_at < until)
        if district:
            stmt = stmt.where(School.district == district)
    elif metric == "volunteers":
        stmt = sa.select(sa.func.count(sa.distinct(Signup.user_id))).join(Event).where(
            Signup.user_id.is_not(None), Signup.created_at < until)
        if district:
            stmt = stmt.where(Event.district == district)
    elif metric == "service_hours":
        stmt = sa.select(sa.func.coalesce(sa.func.sum(Signup.hours), 0)).join(Event).where(
            Signup.status == CONFIRMED, Event.starts_at < until)
        if district:
            stmt = stmt.where(Event.district == district)
    elif metric == "published_activities":
        stmt = sa.select(sa.func.count()).select_from(Activity).join(School).where(
            Activity.status == "published", Activity.hidden.is_(False),
            Activity.published_at < until)
        if district:
            stmt = stmt.where(School.district == district)
    elif metric == "events_held":
        stmt = sa.select(sa.func.count()).select_from(Event).where(
            Event.status == PUBLISHED, Event.ends_at < min(until, utcnow()))
        if district:
            stmt = stmt.where(Event.district == district)
    else:
        raise ValueError(f"unknown metric {metric}")
    return Decimal(str(db.session.scalar(stmt) or 0))


HEADLINES = ("green_families", "green_schools", "volunteers", "service_hours",
             "published_activities", "events_held")


def headline_labels() -> dict[str, str]:
    return {"green_families": _("Green families named"),
            "green_schools": _("Green schools recorded"),
            "volunteers": _("Volunteers"), "service_hours": _("Service hours"),
            "published_activities": _("School activities published"),
            "events_held": _("Events held")}


def headlines() -> dict[str, Decimal]:
    return {m: live_value(m) for m in HEADLINES}


def progress() -> list[Progress]:
    out = []
    entered = _latest_entered()
    for t in targets():
        if t.live:
            trend = [(month, live_value(t.live, end)) for month, end in month_ends()]
            out.append(Progress(t, live_value(t.live), datetime.now(zone()).date(),
                                _("counted on this portal"), trend))
        else:
            latest = entered.get(t.key)
            history = history_of(t.key)
            trend = [(f"{f.as_of:%Y-%m}", Decimal(f.value)) for f in reversed(history)]
            out.append(Progress(t, Decimal(latest.value) if latest else None,
                                latest.as_of if latest else None,
                                latest.source if latest else "", trend))
    return out


def by_district() -> list[tuple[object, dict[str, Decimal]]]:
    return [(d, {m: live_value(m, district=d.code) for m in HEADLINES})
            for d in site().divisions]


def by_school() -> list[tuple[object, dict[str, int]]]:
    rows = []
    for school in db.session.scalars(sa.select(School).where(School.status == "verified")
                                     .order_by(School.district, School.name_zh)):
        published = db.session.scalar(sa.select(sa.func.count()).select_from(Activity).where(
            Activity.school_id == school.id, Activity.status == "published")) or 0
        rows.append((school, {"published_activities": published}))
    return rows


# -- entered figures -----------------------------------------------------------------------

def _latest_entered() -> dict[str, EnteredFigure]:
    latest = {}
    for f in db.session.scalars(sa.select(EnteredFigure).order_by(EnteredFigure.as_of,
                                                                  EnteredFigure.id)):
        latest[f.target_key] = f
    return latest


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
    return row
