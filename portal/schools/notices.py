"""What school applicants, school editors, reporters and staff are told (issue 14): the
notification kinds of the schools feature and who receives each.  Called by ``services``
inside its units of work; the mail is the notification's (``portal.inbox``), so no decision
is mailed twice."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import User
from portal.extensions import db
from portal.i18n import _l
from portal.inbox import services as inbox
from portal.inbox.services import path as url_for
from portal.schools.models import Activity, ActivityReport, School, SchoolEditor
from portal.security import ADMIN, ORGANIZER

APPLICATION = inbox.kind(
    "schools.application", label=_l("A decision on a school I applied to register"),
    sentence={"verified": _l("{school} is now registered on Green Jiaxing, and you are its "
                             "editor. You can write about the school's activities and invite "
                             "colleagues to help."),
              "rejected": _l("The application to register {school} on Green Jiaxing was not "
                             "accepted. You can correct the details and apply again.")},
    subject={"verified": _l("Your school is registered on Green Jiaxing"),
             "rejected": _l("Your school's registration was not accepted")})
POST = inbox.kind(
    "schools.post", label=_l("A decision on a post of my school"),
    sentence={"approved": _l("The post “{title}” of {school} was approved and is on the site."),
              "rejected": _l("The post “{title}” of {school} was not approved."),
              "hidden": _l("The post “{title}” of {school} was hidden by staff."),
              "hidden_by_reports": _l("The post “{title}” of {school} was hidden after "
                                      "reports. Staff will look at it."),
              "restored": _l("The post “{title}” of {school} is on the site again.")},
    subject={"approved": _l("Your school's post was approved"),
             "rejected": _l("Your school's post was not approved"),
             "hidden": _l("Your school's post was hidden"),
             "hidden_by_reports": _l("Your school's post was hidden after reports"),
             "restored": _l("Your school's post is on the site again")})
REPORT_HANDLED = inbox.kind(
    "schools.report_handled", label=_l("What staff decided about a post I reported"),
    sentence={"hidden": _l("Thank you for your report: staff took the post “{title}” off the "
                           "site."),
              "restored": _l("Thank you for your report: staff looked at the post “{title}” "
                             "and it stays on the site.")},
    subject={"hidden": _l("The post you reported was taken off the site"),
             "restored": _l("The post you reported was looked at")})
REPORTED = inbox.kind(
    "schools.reported", staff=True, label=_l("A school post receives its first report"),
    sentence=_l("Someone has reported a post of {school}: “{title}”. Please look at it and "
                "at what the reports say."),
    subject=_l("A school post has been reported on Green Jiaxing"))
AUTO_HIDDEN = inbox.kind(
    "schools.auto_hidden", staff=True, label=_l("A school post is hidden by reports"),
    sentence=_l("Reports took the post “{title}” of {school} off the site. Restore it or "
                "keep it hidden."),
    subject=_l("A school post was hidden by reports"))


def _names(school: School) -> dict:
    return {"zh": school.name_zh, "en": school.name_en or school.name_zh}


def school_decided(school: School) -> None:
    """The applicant hears how their school's application was decided."""
    if school.applicant_id is None:
        return
    verified = school.status == "verified"
    params = {"variant": school.status, "school": _names(school)}
    if not verified and school.reason:
        params["reason"] = school.reason
    inbox.notify(school.applicant_id, APPLICATION.name,
                 url_for("schools.mine" if verified else "schools.apply"), **params)


def _post_params(post: Activity, variant: str) -> dict:
    return {"variant": variant, "title": post.title or post.draft_title,
            "school": _names(post.school)}


def post_decided(post: Activity, variant: str, reason: str = "") -> None:
    """The school's editors hear a decision about one of its posts."""
    editors = db.session.scalars(sa.select(SchoolEditor.user_id).where(
        SchoolEditor.school_id == post.school_id))
    params = _post_params(post, variant)
    if reason:
        params["reason"] = reason
    link = (url_for("schools.activity", activity_id=post.id) if variant in ("approved",
                                                                            "restored")
            else url_for("schools.edit_activity", activity_id=post.id))
    inbox.notify_many(list(editors), POST.name, link, **params)


def reports_handled(post: Activity, hidden: bool) -> None:
    """Everyone whose report of the post was still open hears what staff decided (before
    the reports are marked resolved)."""
    reporters = db.session.scalars(sa.select(ActivityReport.user_id).where(
        ActivityReport.activity_id == post.id, ActivityReport.resolved.is_(False),
        ActivityReport.user_id.is_not(None)))
    inbox.notify_many(list(reporters), REPORT_HANDLED.name,
                      url_for("schools.school", slug=post.school.slug),
                      variant="hidden" if hidden else "restored",
                      title=post.title or post.draft_title)


def _staff() -> list[int]:
    return list(db.session.scalars(sa.select(User.id).where(User.role.in_((ORGANIZER, ADMIN)))
                                   .order_by(User.id)))


def first_report(post: Activity) -> None:
    """Organizers and admins hear of a post's first open report (one per post)."""
    inbox.notify_many(_staff(), REPORTED.name,
                      url_for("schools.moderate", activity_id=post.id),
                      **_post_params(post, "reported"))


def hidden_by_reports(post: Activity) -> None:
    """Organizers and admins, and the school's editors, hear that reports hid a post."""
    inbox.notify_many(_staff(), AUTO_HIDDEN.name,
                      url_for("schools.moderate", activity_id=post.id),
                      **_post_params(post, "hidden_by_reports"))
    post_decided(post, "hidden_by_reports")
