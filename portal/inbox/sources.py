"""The staff inbox's sources from the existing features.  The inbox only reads their tables
(like the dashboard): each source is one count statement (asked together with the others)
and one statement for its first items.

What "due" means here (kept simple on purpose):

* **Entered figures due**: a target whose figure staff enter (``source: entered`` in
  site.yaml) and whose latest figure is dated more than ``FIGURE_PERIOD_DAYS`` (a quarter)
  ago, or that has none yet.  Targets carry no reporting period of their own.
* **Reviews falling due**: a green family (named, or asked to put things right) whose review
  date (``households.review_due``) is within ``REVIEW_AHEAD_DAYS``, or past.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from sqlalchemy import orm

from portal.dashboard import services as dashboard
from portal.dashboard.models import EnteredFigure
from portal.extensions import db
from portal.households.models import NAMED, PENDING, RECTIFY, Application, Household
from portal.i18n import _, _l, _n, format_date
from portal.inbox.services import Item, register_source
from portal.jobs import services as jobs
from portal.jobs.models import DEAD, Job
from portal.schools import reports
from portal.schools.models import PENDING as SCHOOL_PENDING
from portal.schools.models import SUBMITTED, Activity, ActivityReport, School
from portal.security import ADMIN
from portal.site import site, zone

FIGURE_PERIOD_DAYS = 92
REVIEW_AHEAD_DAYS = 30


def _today() -> date:
    return datetime.now(zone()).date()


# -- school posts waiting for review ---------------------------------------------------------

def _review_count():
    return sa.select(sa.func.count()).select_from(Activity).where(Activity.review == SUBMITTED)


def _review_items(limit: int) -> list[Item]:
    posts = db.session.scalars(
        sa.select(Activity).where(Activity.review == SUBMITTED)
        .options(orm.joinedload(Activity.school))
        .order_by(Activity.submitted_at, Activity.id).limit(limit))
    return [Item(p.draft_title or p.title, str(p.school.name()), p.submitted_at,
                 url_for("schools.moderate", activity_id=p.id),
                 url_for("schools.media", name=p.draft_cover) if p.draft_cover else None)
            for p in posts]


# -- school posts reported or hidden by reports --------------------------------------------

def _reported_count():
    return sa.select(sa.func.count(sa.distinct(ActivityReport.activity_id))).where(
        ActivityReport.resolved.is_(False))


def _reported_items(limit: int) -> list[Item]:
    per_post = (sa.select(ActivityReport.activity_id,
                          sa.func.count().label("n"),
                          sa.func.min(ActivityReport.created_at).label("since"),
                          sa.func.aggregate_strings(ActivityReport.reason, " / ")
                          .label("reasons"))
                .where(ActivityReport.resolved.is_(False))
                .group_by(ActivityReport.activity_id).subquery())
    rows = db.session.execute(
        sa.select(Activity, per_post.c.n, per_post.c.since, per_post.c.reasons)
        .join(per_post, per_post.c.activity_id == Activity.id)
        .options(orm.joinedload(Activity.school))
        .order_by(per_post.c.since, Activity.id).limit(limit))
    out = []
    for post, n, since, reason_text in rows:
        state = (_("hidden by reports") if post.hidden
                 and post.hidden_reason == reports.HIDDEN_BY_REPORTS else _("still visible"))
        detail = "{school} · {state} · {count}: {reasons}".format(
            school=post.school.name(), state=state,
            count=_n("%(num)d report", "%(num)d reports", int(n)),
            reasons=(reason_text or "")[:300])
        since = since if since is None or since.tzinfo else since.replace(tzinfo=zone())
        out.append(Item(post.title or post.draft_title, detail, since,
                        url_for("schools.moderate", activity_id=post.id),
                        url_for("schools.media", name=post.cover) if post.cover else None))
    return out


def _district(code: str) -> str:
    """The district's name in the reader's language (never its code)."""
    division = site().division(code)
    return str(division.label()) if division else code


# -- school applications ---------------------------------------------------------------------

def _schools_count():
    return sa.select(sa.func.count()).select_from(School).where(School.status == SCHOOL_PENDING)


def _schools_items(limit: int) -> list[Item]:
    rows = db.session.scalars(sa.select(School).where(School.status == SCHOOL_PENDING)
                              .order_by(School.id).limit(limit))
    return [Item(str(s.name()), _district(s.district), s.created_at,
                 url_for("schools.manage_schools") + f"#school-{s.id}") for s in rows]


# -- green-family applications ---------------------------------------------------------------

def _families_count():
    return sa.select(sa.func.count()).select_from(Application).where(
        Application.status == PENDING)


def _families_items(limit: int) -> list[Item]:
    rows = db.session.scalars(sa.select(Application).where(Application.status == PENDING)
                              .options(orm.joinedload(Application.household))
                              .order_by(Application.id).limit(limit))
    return [Item(a.household.name, _district(a.household.district), a.created_at,
                 url_for("households.decide", application_id=a.id)) for a in rows]


# -- green-family reviews falling due -------------------------------------------------------

def _reviews_where():
    return (Household.status.in_((NAMED, RECTIFY)), Household.review_due.is_not(None),
            Household.review_due <= _today() + timedelta(days=REVIEW_AHEAD_DAYS))


def _reviews_count():
    return sa.select(sa.func.count()).select_from(Household).where(*_reviews_where())


def _reviews_items(limit: int) -> list[Item]:
    rows = db.session.scalars(sa.select(Household).where(*_reviews_where())
                              .order_by(Household.review_due, Household.id).limit(limit))
    return [Item(h.name, _("Review due %(day)s", day=format_date(h.review_due, "long")),
                 None, url_for("households.manage_detail", household_id=h.id)) for h in rows]


# -- entered figures due ---------------------------------------------------------------------

def _entered() -> tuple[list[str], list[str]]:
    """The keys of the targets staff enter figures for: (running, ended).  A target whose
    year is over is due only while it has no figure at all (its final figure is missing); a
    running one when its latest figure is older than ``FIGURE_PERIOD_DAYS``."""
    year = _today().year
    entered = [t for t in dashboard.targets() if t.source == "entered"]
    return ([t.key for t in entered if t.year >= year],
            [t.key for t in entered if t.year < year])


def _distinct_keys(keys: list[str], *where):
    return (sa.select(sa.func.count(sa.distinct(EnteredFigure.target_key)))
            .where(EnteredFigure.target_key.in_(keys), *where).scalar_subquery())


def _figures_count():
    running, ended = _entered()
    cutoff = _today() - timedelta(days=FIGURE_PERIOD_DAYS)
    return sa.select(sa.literal(len(running) + len(ended))
                     - _distinct_keys(running, EnteredFigure.as_of >= cutoff)
                     - _distinct_keys(ended))


def _figures_items(limit: int) -> list[Item]:
    running, ended = _entered()
    targets = {t.key: t for t in dashboard.targets() if t.key in (*running, *ended)}
    latest = dict(db.session.execute(
        sa.select(EnteredFigure.target_key, sa.func.max(EnteredFigure.as_of))
        .where(EnteredFigure.target_key.in_(list(targets)))
        .group_by(EnteredFigure.target_key)).all())
    cutoff = _today() - timedelta(days=FIGURE_PERIOD_DAYS)
    out = []
    for key, target in targets.items():
        last = latest.get(key)
        if last is not None and (key in ended or last >= cutoff):
            continue
        if key in ended:
            detail = _("The plan period ended in %(year)s; its final figure is missing",
                       year=target.year)
        elif last:
            detail = _("Latest figure as of %(day)s", day=format_date(last, "long"))
        else:
            detail = _("No figure entered yet")
        out.append(Item(str(target.text()), detail, None, url_for("dashboard.staff")))
    return out[:limit]


# -- dead jobs -------------------------------------------------------------------------------

def _dead_count():
    return sa.select(sa.func.count()).select_from(Job).where(Job.state == DEAD)


def _dead_items(limit: int) -> list[Item]:
    rows = db.session.scalars(sa.select(Job).where(Job.state == DEAD)
                              .order_by(Job.id).limit(limit)
                              .options(orm.load_only(Job.id, Job.kind, Job.last_error,
                                                     Job.created_at, Job.attempts)))
    return [Item(jobs.label(j.kind), (j.last_error or "")[:200], j.created_at,
                 url_for("jobs.dead_jobs")) for j in rows]


def register() -> None:
    register_source("schools.review", _l("School posts waiting for review"), _review_count,
                    _review_items, "schools.moderation")
    register_source("schools.reported", _l("Reported or hidden school posts"),
                    _reported_count, _reported_items, "schools.moderation")
    register_source("schools.applications", _l("School applications"), _schools_count,
                    _schools_items, "schools.manage_schools")
    register_source("households.applications", _l("Green-family applications"),
                    _families_count, _families_items, "households.manage_list")
    register_source("households.reviews", _l("Green-family reviews falling due"),
                    _reviews_count, _reviews_items, "households.manage_list")
    register_source("dashboard.figures", _l("Entered figures due"), _figures_count,
                    _figures_items, "dashboard.staff")
    register_source("jobs.dead", _l("Jobs that failed for good"), _dead_count, _dead_items,
                    "jobs.dead_jobs", roles=(ADMIN,))
