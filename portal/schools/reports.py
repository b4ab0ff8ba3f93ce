"""Reports about school posts (issue 12, item 5): which reports count towards hiding a post,
the mail to staff at a post's first report, and the lists of the moderation queue.

A post is hidden when ``SCHOOLS_REPORTS_TO_HIDE`` open reports *that count* are in
(``services.report``).  A report counts when its author's address was confirmed and their
account was at least ``REPORTS_MIN_ACCOUNT_AGE`` old when they reported; that is decided
then and kept in ``activity_reports.counted``, so a report neither starts counting later
(accounts made today and kept a week) nor stops when its author deletes their account.
Every report, counting or not, is recorded and shown to staff.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from portal import jobs, links, mail
from portal.accounts.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.i18n import _l
from portal.paging import Page, keyset, newest_first
from portal.schools.models import PUBLISHED, Activity, ActivityReport
from portal.security import ADMIN, ORGANIZER

REPORT_MAIL_JOB = "schools.report_mail"
REPORT_SUBJECT = _l("A school post has been reported on Green Jiaxing")
#: ``activities.hidden_reason`` of a post hidden by reports (staff's own hiding has words).
HIDDEN_BY_REPORTS = "reports"


def counts(user: User) -> bool:
    """Whether a report by ``user``, made now, counts towards hiding the post."""
    old_enough = utcnow() - current_app.config["REPORTS_MIN_ACCOUNT_AGE"]
    return user.email_verified_at is not None and user.created_at <= old_enough


def moderators() -> list[User]:
    """Who may moderate school posts (``schools.moderation`` is for staff)."""
    return list(db.session.scalars(sa.select(User).where(User.role.in_((ORGANIZER, ADMIN)))
                                   .order_by(User.id)))


def send_report_mail(payload: dict) -> None:
    """The job: tell every moderator that a post has been reported (the post's first open
    report; later reports of it send nothing).  The mail names the post, not the reporter or
    their words: staff read those in the queue."""
    post = db.session.get(Activity, payload["activity"])
    if post is None:
        return
    link = links.absolute("schools.moderate", activity_id=post.id)
    for person in moderators():
        mail.send_template(person.email, person.locale, REPORT_SUBJECT,
                           "schools/mail/reported.txt", user=person, post=post,
                           school=post.school, link=link)


jobs.register(REPORT_MAIL_JOB, send_report_mail, label=_l("Mail to staff about a reported post"))


@dataclass(frozen=True)
class Reported:
    post: Activity
    open: int  # open reports
    counting: int  # … of which count towards hiding
    reasons: str = ""  # what the open reports say, joined (issue 14: shown in the queue)


def _open_counts():
    return (sa.select(ActivityReport.activity_id,
                      sa.func.count().label("open"),
                      sa.func.sum(sa.case((ActivityReport.counted.is_(True), 1), else_=0))
                      .label("counting"),
                      sa.func.aggregate_strings(ActivityReport.reason, " / ").label("reasons"))
            .where(ActivityReport.resolved.is_(False))
            .group_by(ActivityReport.activity_id).subquery())


def _reported(page: Page) -> Page:
    page.items = [Reported(post, int(n), int(k or 0), (why or "")[:300])
                  for post, n, k, why in page.items]
    return page


#: Open reports per post (one subquery, shared by the statements below and their cursors).
_OPEN = _open_counts()
#: The order of the posts hidden by reports: oldest post first.
HIDDEN_ORDER = (Activity.id,)
#: The order of the reported posts still up: most open reports first (then newest).
REPORTED_ORDER = (_OPEN.c.open, Activity.id)


def hidden_by_reports(after: tuple | None = None) -> Page:
    """One page of the posts the reports took down, waiting for staff to restore them or
    keep them hidden, with their schools in the same statement."""
    return _reported(keyset(
        sa.select(Activity, sa.func.coalesce(_OPEN.c.open, 0),
                  sa.func.coalesce(_OPEN.c.counting, 0), _OPEN.c.reasons)
        .outerjoin(_OPEN, _OPEN.c.activity_id == Activity.id)
        .options(orm.joinedload(Activity.school))
        .where(Activity.hidden.is_(True), Activity.hidden_reason == HIDDEN_BY_REPORTS),
        HIDDEN_ORDER, after, scalars=False, param="hidden_after"))


def reported_visible(after: tuple | None = None) -> Page:
    """One page of the published posts still up that have open reports (not enough that
    count to hide), most reported first, with their schools in the same statement."""
    return _reported(keyset(
        sa.select(Activity, _OPEN.c.open, _OPEN.c.counting, _OPEN.c.reasons)
        .join(_OPEN, _OPEN.c.activity_id == Activity.id)
        .options(orm.joinedload(Activity.school))
        .where(Activity.hidden.is_(False), Activity.status == PUBLISHED),
        REPORTED_ORDER, after, scalars=False, descending=True, param="reported_after"))


def reports_of(activity_id: int, before: int | None = None) -> Page:
    """One page of the reports of a post, newest first (resolved ones too)."""
    return newest_first(sa.select(ActivityReport).where(
        ActivityReport.activity_id == activity_id), ActivityReport.id, before)
