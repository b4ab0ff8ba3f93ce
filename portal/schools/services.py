"""Schools and their activity posts: applications, editors, drafts, review, reports and the
moderation log.  Tested without HTTP."""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from portal import audit, jobs, links, mail, markup, search, stored_html
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.i18n import _, _l
from portal.jobs.models import RUNNING, Job
from portal.learn.models import Topic
from portal.markup import slugify
from portal.paging import Page, keyset, newest_first
from portal.rules import RuleError
from portal.schools import notices, reports
from portal.schools.forms import LEVEL_LABELS
from portal.schools.models import (
    DECLINED,
    DRAFT,
    PENDING,
    PUBLISHED,
    REJECTED,
    SCHOOL_TYPES,
    SUBMITTED,
    VERIFIED,
    Activity,
    ActivityReport,
    EditorInvite,
    School,
    SchoolEditor,
)
from portal.security import ADMIN, CITIZEN, ORGANIZER
from portal.site import resolve_division

ACTIVITY = "activity"
GREEN_LEVELS = ("city", "provincial", "national")



def log(actor: User | None, action: str, target: str, reason: str = "", label: str = "",
        **data) -> None:
    """One entry of the audit log (``portal.audit``); the actions are described below."""
    audit.record(actor, action, target, label, reason, **data)


def _school_label(school: School) -> str:
    return school.name_zh or school.name_en or ""


def _post_label(activity: Activity) -> str:
    return activity.title or activity.draft_title or ""


audit.describe("school_applied", _l("{actor} applied to register the school '{label}'"),
               _l("School application"))
audit.describe("school_verified", _l("{actor} registered the school '{label}'"),
               _l("School registered"))
audit.describe("school_rejected", _l("{actor} declined the school application '{label}'"),
               _l("School application declined"))
audit.describe("green_status", _l("{actor} set the green-school title of '{label}' to "
                                  "{level} {year}"), _l("Green-school title"))
audit.value_words("level", {**LEVEL_LABELS, "": _l("none")})
audit.describe("editor_invited", _l("{actor} invited an editor for '{label}'"),
               _l("School editor invited"))
audit.describe("editor_joined", _l("{actor} became an editor of '{label}'"),
               _l("School editor joined"))
audit.describe("editor_removed", _l("{actor} removed an editor from '{label}'"),
               _l("School editor removed"))
audit.describe("school_imported", _l("{actor} imported the school '{label}'"),
               _l("School imported"))
audit.describe("submitted", _l("{actor} submitted the post '{label}' for review"),
               _l("Post submitted"))
audit.describe("approved", _l("{actor} approved the post '{label}'"), _l("Post approved"))
audit.describe("rejected", _l("{actor} sent back the post '{label}'"), _l("Post sent back"))
audit.describe("hidden_by_reports", _l("{actor} hid '{label}' ({reports})"),
               _l("Post hidden after reports"))
audit.describe("hidden", _l("{actor} hid '{label}' ({reports})"), _l("Post hidden"))
audit.describe("restored", _l("{actor} restored '{label}' ({reports})"), _l("Post restored"))


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in (ORGANIZER, ADMIN)


# -- schools ---------------------------------------------------------------------------------

@dataclass
class SchoolInput:
    name_zh: str = ""
    name_en: str = ""
    district: str = ""
    type: str = ""
    address: str = ""
    contact: str = ""


def _validate_school(data: SchoolInput) -> dict[str, str]:
    errors = {}
    if not data.name_zh.strip():
        errors["name_zh"] = _("Give the school's name in Chinese.")
    if resolve_division(data.district) is None:
        errors["district"] = _("Choose one of the city's districts.")
    if data.type not in SCHOOL_TYPES:
        errors["type"] = _("Choose the kind of school.")
    if not data.contact.strip():
        errors["contact"] = _("Give a contact (name and phone or e-mail).")
    return errors


def _unique_slug(school: School) -> str:
    base = slugify(school.name_en) if school.name_en.strip() else ""
    if not base or base == "section" or not base.isascii():
        base = "school"
    slug, n = base, 1
    while db.session.scalar(sa.select(School.id).where(School.slug == slug, School.id !=
                                                       (school.id or 0))):
        n += 1
        slug = f"{base}-{n}"
    return slug


def apply_school(user: User, data: SchoolInput) -> School:
    errors = _validate_school(data)
    if errors:
        raise RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)
    with writing():
        school = School(name_zh=data.name_zh.strip(), name_en=data.name_en.strip(),
                        district=resolve_division(data.district), type=data.type,
                        address=data.address.strip(), contact=data.contact.strip(),
                        applicant_id=user.id, status=PENDING, slug=secrets.token_hex(6))
        db.session.add(school)
        db.session.flush()
        school.slug = _unique_slug(school) if school.name_en else f"school-{school.id}"
        log(user, "school_applied", f"school:{school.id}", label=_school_label(school))
    return school


def _make_editor(school: School, user: User) -> None:
    if not any(e.user_id == user.id for e in school.editors):
        school.editors.append(SchoolEditor(user_id=user.id))
    if user.role == CITIZEN:
        user.role = "school"


def verify_school(school_id: int, by: User) -> School:
    with writing():
        school = db.session.get(School, school_id)
        if school is None or school.status != PENDING:
            raise RuleError("not_pending", _("This application has already been decided."))
        school.status, school.verified_at = VERIFIED, utcnow()
        applicant = db.session.get(User, school.applicant_id) if school.applicant_id else None
        if applicant is not None:
            _make_editor(school, applicant)
        log(by, "school_verified", f"school:{school.id}", label=_school_label(school))
        notices.school_decided(school)  # its mail replaces the decision mail
    return school


def reject_school(school_id: int, by: User, reason: str) -> School:
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason_required", _("Please give a reason."), 422)
    with writing():
        school = db.session.get(School, school_id)
        if school is None or school.status != PENDING:
            raise RuleError("not_pending", _("This application has already been decided."))
        school.status, school.reason = REJECTED, reason
        log(by, "school_rejected", f"school:{school.id}", reason, _school_label(school))
        notices.school_decided(school)  # its mail replaces the decision mail
    return school


def set_green_status(school_id: int, level: str, year: int | None, by: User) -> School:
    if level and level not in GREEN_LEVELS:
        raise RuleError("bad_level", _("Unknown green-school level."), 422)
    if level and (year is None or not 1990 <= year <= 2100):
        raise RuleError("bad_year", _("Give the year of the title."), 422)
    with writing():
        school = db.session.get(School, school_id)
        if school is None:
            raise RuleError("not_found", _("There is no such school."), 404)
        school.green_level, school.green_year = level, year if level else None
        log(by, "green_status", f"school:{school.id}", label=_school_label(school),
            level=level, year=year or "")
    return school


def is_editor(user: User | None, school: School) -> bool:
    return user is not None and school.status == VERIFIED and any(
        e.user_id == user.id for e in school.editors)


def schools_of(user: User) -> list[School]:
    return list(db.session.scalars(sa.select(School).join(SchoolEditor).where(
        SchoolEditor.user_id == user.id).order_by(School.name_zh)))


#: The directory's order, by district then name (its page cursor has these columns).
DIRECTORY_ORDER = (School.district, School.name_zh, School.id)
#: The order of the schools waiting to be verified: oldest application first.
PENDING_ORDER = (School.id,)


def directory(after: tuple | None = None, district: str | None = None,
              kind: str | None = None, param: str = "after") -> Page:
    """One page of the verified schools, by district then name, after the cursor (carried
    in links by the query parameter ``param``)."""
    stmt = sa.select(School).where(School.status == VERIFIED)
    if district:
        stmt = stmt.where(School.district == district)
    if kind:
        stmt = stmt.where(School.type == kind)
    return keyset(stmt, DIRECTORY_ORDER, after, param=param)


def pending_page(after: tuple | None = None) -> Page:
    """One page of the schools waiting for staff to verify them, oldest application first."""
    return keyset(sa.select(School).where(School.status == PENDING), PENDING_ORDER, after)


DECISION_MAIL_JOB = "schools.decision_mail"
DECISION_SUBJECTS = {VERIFIED: _l("Your school is registered on Green Jiaxing"),
                     REJECTED: _l("Your school's registration was not accepted")}


def send_decision_mail(payload: dict) -> None:
    """The job: tell the applicant how their school's application was decided."""
    school = db.session.get(School, payload["school"])
    if school is None or school.status not in DECISION_SUBJECTS or school.applicant_id is None:
        return
    applicant = db.session.get(User, school.applicant_id)
    if applicant is None:
        return
    mail.send_template(applicant.email, applicant.locale, DECISION_SUBJECTS[school.status],
                       "schools/mail/decision.txt", user=applicant, school=school,
                       verified=school.status == VERIFIED,
                       link=links.absolute("schools.mine" if school.status == VERIFIED
                                           else "schools.apply"))


jobs.register(DECISION_MAIL_JOB, send_decision_mail, label=_l("Mail about a school's application"))

# Post bodies are rendered again when the renderer changes; the index then reads the new HTML.
stored_html.register("activities", Activity, {"body": "body_html", "draft_body": "draft_body_html"},
                     after=lambda post: search.enqueue(ACTIVITY, post.id))

INVITE_MAIL_JOB = "schools.invite_mail"
INVITE_SUBJECT = _l("You are invited to edit a school's page on Green Jiaxing")


def invite_editor(school: School, by: User, email: str) -> None:
    """Invite someone by address to edit the school's page: the mail is a job of the same
    unit of work as the invitation.  The database keeps the token's hash; the raw token lives
    only in the job's payload, which is forgotten once the mail is sent."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise RuleError("bad_email", _("Please enter a valid e-mail address."), 422)
    token = secrets.token_urlsafe(24)
    with writing():
        invite = EditorInvite(school_id=school.id, email=email,
                              token_hash=accounts.token_hash(token))
        db.session.add(invite)
        db.session.flush()
        log(by, "editor_invited", f"school:{school.id}", label=_school_label(school))
        jobs.enqueue(INVITE_MAIL_JOB, {"invite": invite.id, "token": token})


def send_invite_mail(payload: dict) -> None:
    """The job: mail the invitation, unless it was accepted or withdrawn meanwhile."""
    invite = db.session.get(EditorInvite, payload["invite"])
    if invite is None or "token" not in payload or _invite_expired(invite):
        return
    mail.send_template(invite.email, None, INVITE_SUBJECT, "schools/mail/invite.txt",
                       school=invite.school, days=_invite_days(),
                       link=links.absolute("schools.accept_invite", token=payload["token"]))


jobs.register(INVITE_MAIL_JOB, send_invite_mail, scrub=True,
              label=_l("Invitation to edit a school"))


def _invite_days() -> int:
    return int(current_app.config["SCHOOLS_INVITE_DAYS"])


def _invite_expired(invite: EditorInvite) -> bool:
    return invite.created_at + timedelta(days=_invite_days()) <= utcnow()


def check_invite(user: User, token: str) -> EditorInvite:
    """The invitation behind ``token`` if ``user`` can accept it, else ``RuleError`` (the
    invitation page shows the refusal instead of a button)."""
    invite = db.session.scalar(sa.select(EditorInvite).where(
        EditorInvite.token_hash == accounts.token_hash(token or "")))
    if invite is None or invite.email != user.email:
        raise RuleError("bad_invite", _("This invitation is not valid for your account."),
                        404)
    if _invite_expired(invite):
        raise RuleError("invite_expired", _(
            "This invitation has expired. Ask an editor of the school to invite you "
            "again."), 410)
    return invite


def accept_invite(user: User, token: str) -> School:
    with writing():
        invite = check_invite(user, token)
        school = invite.school
        _make_editor(school, user)
        accounts.mark_verified(user)  # the link came by mail to this address
        db.session.delete(invite)
        log(user, "editor_joined", f"school:{school.id}", label=_school_label(school))
    return school


def remove_editor(school: School, by: User, user_id: int) -> None:
    with writing():
        if len(school.editors) <= 1:
            raise RuleError("last_editor", _("A school needs at least one editor."))
        row = next((e for e in school.editors if e.user_id == user_id), None)
        if row is None:
            raise RuleError("not_editor", _("This person is not an editor."), 404)
        school.editors.remove(row)
        db.session.flush()
        leaving = db.session.get(User, user_id)
        if leaving is not None and leaving.role == "school" and not db.session.scalar(
                sa.select(SchoolEditor.id).where(SchoolEditor.user_id == user_id)):
            leaving.role = CITIZEN  # no school left to edit for
        log(by, "editor_removed", f"school:{school.id}", label=_school_label(school))


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def import_csv(path: str) -> ImportResult:
    """Rows ``name,district,type,editor_email``: verified schools with those editors.
    Rows naming unknown accounts are reported and skipped; running it again changes nothing."""
    result = ImportResult()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for number, row in enumerate(rows, start=2):
        name = (row.get("name") or "").strip()
        district = resolve_division(row.get("district"))
        kind = (row.get("type") or "").strip()
        email = (row.get("editor_email") or "").strip().lower()
        user = db.session.scalar(sa.select(User).where(User.email == email)) if email else None
        if not name or district is None or kind not in SCHOOL_TYPES:
            result.skipped.append(f"line {number}: name, district or type is not valid")
            continue
        if user is None:
            result.skipped.append(f"line {number}: no account with the address {email}")
            continue
        with writing():
            school = db.session.scalar(sa.select(School).where(School.name_zh == name,
                                                               School.district == district))
            if school is None:
                school = School(name_zh=name, district=district, type=kind, status=VERIFIED,
                                verified_at=utcnow(), slug=secrets.token_hex(6))
                db.session.add(school)
                db.session.flush()
                school.slug = f"school-{school.id}"
                log(None, "school_imported", f"school:{school.id}", label=_school_label(school))
                result.created.append(school.slug)
            else:
                result.existing.append(school.slug)
            _make_editor(school, user)
    return result


# -- activity posts ----------------------------------------------------------------------------

@dataclass
class ActivityInput:
    title: str = ""
    body: str = ""
    activity_date: date | None = None
    topics: list[str] = field(default_factory=list)
    cover: str | None = None  # stored file name
    event_id: int | None = None


def _validate_activity(data: ActivityInput) -> dict[str, str]:
    errors = {}
    if not data.title.strip():
        errors["title"] = _("Give the post a title.")
    elif len(data.title) > markup.TITLE_MAX:
        errors["title"] = _("A title has at most 200 characters.")
    if not data.body.strip():
        errors["body"] = _("Write what happened.")
    elif len(data.body) > markup.TEXT_MAX:
        errors["body"] = _("The text is too long (at most 20,000 characters).")
    if data.activity_date is None:
        errors["activity_date"] = _("Give the date of the activity.")
    known = {t for t in db.session.scalars(sa.select(Topic.slug))}
    unknown = [t for t in data.topics if t not in known]
    if unknown:
        errors["topics"] = _("Unknown topic: %(t)s", t=", ".join(unknown))
    return errors


def editable(user: User, activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None or not is_editor(user, activity.school):
        raise RuleError("not_found", _("No such post."), 404)
    return activity


def save_activity(user: User, school: School, data: ActivityInput,
                  activity_id: int | None = None) -> Activity:
    if not is_editor(user, school):
        raise RuleError("forbidden", _("You are not an editor of this school."), 403)
    accounts.require_verified(user)
    errors = _validate_activity(data)
    if errors:
        raise RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)
    # Rendered before the unit of work, within the budget (or refused: markdown_too_complex).
    draft_html = stored_html.render_fields({"body": data.body})["body"]
    published = _published_html(activity_id)
    with writing():
        if activity_id is None:
            activity = Activity(school_id=school.id, author_id=user.id, status=DRAFT)
            db.session.add(activity)
        else:
            activity = db.session.get(Activity, activity_id)
            if activity is None or activity.school_id != school.id:
                raise RuleError("not_found", _("No such post."), 404)
        activity.draft_title, activity.draft_body = data.title.strip(), data.body
        activity.draft_body_html = draft_html
        _bring_published_html_up_to_date(activity, published)
        activity.draft_date, activity.draft_topics = data.activity_date, list(data.topics)
        if data.cover:
            activity.draft_cover = data.cover
        elif activity_id is None:
            activity.draft_cover = None
        activity.event_id = data.event_id
        activity.review, activity.consent_confirmed = "", False
    return activity


def _published_html(activity_id: int | None) -> tuple[str, str | None] | None:
    """For a post whose stored HTML an older renderer made (or none yet): its published text
    and that text rendered now (None: refused), so that saving a draft leaves the whole row
    of this renderer's version.  Rendered before the unit of work, like the draft."""
    post = db.session.get(Activity, activity_id) if activity_id is not None else None
    if post is None or markup.is_current(post.html_version) or not post.body:
        return None
    return post.body, stored_html.budgeted(post.body)


def _bring_published_html_up_to_date(activity: Activity,
                                     published: tuple[str, str | None] | None) -> None:
    if markup.is_current(activity.html_version) and activity.body:
        return
    if not activity.body:  # nothing published yet: the draft's HTML is all there is
        activity.html_version = markup.VERSION
    elif published is not None and published[0] == activity.body:
        if published[1] is None:  # refused: the published HTML stays as it was
            activity.html_version = -markup.VERSION
        else:
            activity.body_html, activity.html_version = published[1], markup.VERSION
    # else: published again meanwhile; the markup.rerender job brings the row up to date


def submit(user: User, activity_id: int, consent: bool) -> Activity:
    accounts.require_verified(user)
    if not consent:
        raise RuleError("consent_required", _("Please confirm that no pupil can be "
                                              "identified without a guardian's consent."),
                          422, {"consent": "required"})
    with writing():
        activity = editable(user, activity_id)
        if activity.review == SUBMITTED:
            raise RuleError("already_submitted", _("This version is already waiting for review."))
        activity.review, activity.consent_confirmed, activity.submitted_at = SUBMITTED, True, \
            utcnow()
        if activity.status in (DRAFT, DECLINED):
            activity.status = SUBMITTED
        log(user, "submitted", f"activity:{activity.id}", label=_post_label(activity))
    return activity


#: The review queue's order: longest waiting first.
QUEUE_ORDER = (Activity.submitted_at, Activity.id)


def queue_page(after: tuple | None = None) -> Page:
    """One page of the posts waiting for review, longest waiting first, each with its school
    in the same statement."""
    return keyset(sa.select(Activity).where(Activity.review == SUBMITTED)
                  .options(orm.joinedload(Activity.school)), QUEUE_ORDER, after)


def queue() -> list[Activity]:
    """The first page of the posts waiting for review."""
    return queue_page().items


def _moderated(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        raise RuleError("not_found", _("No such post."), 404)
    return activity


def approve(activity_id: int, by: User) -> Activity:
    accounts.require_verified(by)
    with writing():
        activity = _moderated(activity_id)
        if activity.review != SUBMITTED:
            raise RuleError("not_submitted", _("Nothing is waiting for review in this post."))
        activity.title, activity.body = activity.draft_title, activity.draft_body
        activity.body_html = activity.draft_body_html  # rendered when the draft was saved
        activity.activity_date, activity.topics = activity.draft_date, list(activity.draft_topics)
        activity.cover = activity.draft_cover
        activity.status, activity.review, activity.reason = PUBLISHED, "", ""
        activity.published_at = utcnow()
        notices.post_decided(activity, "approved")
        log(by, "approved", f"activity:{activity.id}", label=_post_label(activity))
        search.enqueue(ACTIVITY, activity.id)
    return activity


def reject(activity_id: int, by: User, reason: str) -> Activity:
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason_required", _("Please give a reason."), 422,
                        {"reason": "required"})
    with writing():
        activity = _moderated(activity_id)
        if activity.review != SUBMITTED:
            raise RuleError("not_submitted", _("Nothing is waiting for review in this post."))
        activity.review, activity.reason = DECLINED, reason[:500]
        if activity.status == SUBMITTED:
            activity.status = DECLINED
        notices.post_decided(activity, "rejected", reason[:500])
        log(by, "rejected", f"activity:{activity.id}", reason, _post_label(activity))
    return activity


def report(user: User, activity_id: int, reason: str) -> bool:
    """Returns True when this report hid the post (at the configured threshold).  Only
    reports that count (``reports.counts``: a confirmed address and an account old enough)
    hide it; every report is recorded for staff, who are mailed at the post's first one."""
    accounts.require_verified(user)
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason_required", _("Please say what is wrong."), 422,
                        {"reason": "required"})
    with writing():
        activity = db.session.get(Activity, activity_id)
        if activity is None or not activity.public:
            raise RuleError("not_found", _("No such post."), 404)
        if db.session.scalar(sa.select(ActivityReport.id).where(
                ActivityReport.activity_id == activity_id, ActivityReport.user_id == user.id)):
            raise RuleError("already_reported", _("You have already reported this post."))
        first = not db.session.scalar(sa.select(ActivityReport.id).where(
            ActivityReport.activity_id == activity_id, ActivityReport.resolved.is_(False)))
        db.session.add(ActivityReport(activity_id=activity_id, user_id=user.id,
                                      reason=reason[:500], counted=reports.counts(user)))
        db.session.flush()
        if first:  # staff hear of a post's first open report (once, not once per report)
            notices.first_report(activity)
        open_reports = db.session.scalar(sa.select(sa.func.count()).select_from(ActivityReport)
                                         .where(ActivityReport.activity_id == activity_id,
                                                ActivityReport.resolved.is_(False),
                                                ActivityReport.counted.is_(True)))
        hid = open_reports >= current_app.config.get("SCHOOLS_REPORTS_TO_HIDE", 3)
        if hid:
            activity.hidden, activity.hidden_reason = True, "reports"
            notices.hidden_by_reports(activity)
            log(None, "hidden_by_reports", f"activity:{activity.id}", label=_post_label(activity),
                reports=open_reports)
            search.enqueue(ACTIVITY, activity.id)
    return hid


def set_hidden(activity_id: int, by: User, hidden: bool, reason: str) -> Activity:
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason_required", _("Please give a reason."), 422)
    with writing():
        activity = _moderated(activity_id)
        was_hidden = activity.hidden
        activity.hidden, activity.hidden_reason = hidden, reason[:500] if hidden else ""
        notices.reports_handled(activity, hidden)  # before the reports are resolved
        if hidden != was_hidden:
            notices.post_decided(activity, "hidden" if hidden else "restored",
                                 reason[:500] if hidden else "")
        # Staff's decision (restore, or keep hidden with their reason) resolves the reports
        # that led here: the post leaves the queue of posts hidden by reports.
        handled = db.session.execute(sa.update(ActivityReport).where(
            ActivityReport.activity_id == activity_id, ActivityReport.resolved.is_(False))
            .values(resolved=True)).rowcount
        log(by, "hidden" if hidden else "restored", f"activity:{activity.id}", reason,
            _post_label(activity), reports=handled)
        search.enqueue(ACTIVITY, activity.id)
    return activity


#: The order of a school's published posts: by the activity's date, newest first.
PUBLISHED_ORDER = (Activity.activity_date, Activity.id)


def _published(school: School):
    return sa.select(Activity).where(
        Activity.school_id == school.id, Activity.status == PUBLISHED,
        Activity.hidden.is_(False))


def published_for(school: School, limit: int = 30) -> list[Activity]:
    """The school's newest published posts (its feed)."""
    return list(db.session.scalars(_published(school).order_by(
        *(c.desc() for c in PUBLISHED_ORDER)).limit(limit)))


def published_page(school: School, after: tuple | None = None) -> Page:
    """One page of the school's published posts, by the activity's date, newest first."""
    return keyset(_published(school), PUBLISHED_ORDER, after, descending=True)


def posts_of_editor(user: User, before: int | None = None) -> Page:
    """One page of the posts of every school ``user`` edits, newest first, with their schools
    in the same statement (drafts and declined ones too: this is the editors' list)."""
    schools = sa.select(SchoolEditor.school_id).where(SchoolEditor.user_id == user.id)
    stmt = (sa.select(Activity).where(Activity.school_id.in_(schools))
            .options(orm.joinedload(Activity.school)))
    return newest_first(stmt, Activity.id, before)


def can_view(user: User | None, activity: Activity) -> bool:
    return activity.public or is_staff(user) or is_editor(user, activity.school)


def published_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Activity).where(
        Activity.status == PUBLISHED, Activity.hidden.is_(False))) or 0




# -- personal data ---------------------------------------------------------------------------

def _export(user: User) -> dict:
    applied = db.session.scalars(sa.select(School).where(School.applicant_id == user.id)
                                 .order_by(School.id))
    # Complete, not paged (an export is not a page); each with its school in the same statement.
    invites = db.session.scalars(sa.select(EditorInvite).where(EditorInvite.email == user.email)
                                 .options(orm.joinedload(EditorInvite.school))
                                 .order_by(EditorInvite.id))
    posts = db.session.scalars(sa.select(Activity).where(Activity.author_id == user.id)
                               .options(orm.joinedload(Activity.school)).order_by(Activity.id))
    return {"schools_edited": [s.name_zh for s in schools_of(user)],
            "applications": [{"name_zh": s.name_zh, "name_en": s.name_en,
                              "address": s.address, "contact": s.contact, "status": s.status,
                              "reason": s.reason, "created_at": s.created_at} for s in applied],
            "invitations": [{"school": i.school.name_zh, "created_at": i.created_at}
                            for i in invites],
            "posts_authored": [{"school": a.school.name_zh, "status": a.status,
                                "title": a.title, "body": a.body,
                                "draft_title": a.draft_title, "draft_body": a.draft_body,
                                "created_at": a.created_at} for a in posts],
            "reports_made": [{"activity_id": r.activity_id, "reason": r.reason,
                              "created_at": r.created_at} for r in db.session.scalars(
                sa.select(ActivityReport).where(ActivityReport.user_id == user.id))]}


def _erase(user: User) -> None:
    # Reports keep counting towards hiding, but no longer say who made them.
    db.session.execute(sa.update(ActivityReport).where(ActivityReport.user_id == user.id)
                       .values(user_id=None, reason=""))
    # A school stays (its editors, posts and status), but the address and contact its
    # applicant wrote, and the decision's words to them, go.
    db.session.execute(sa.update(School).where(School.applicant_id == user.id)
                       .values(address="", contact="", reason="", applicant_id=None))
    # Invitations to the address go, and with them their waiting mails (which hold the link).
    invites = list(db.session.scalars(sa.select(EditorInvite.id).where(
        EditorInvite.email == user.email)))
    if invites:
        for job in db.session.scalars(sa.select(Job).where(Job.kind == INVITE_MAIL_JOB,
                                                           Job.state != RUNNING)):
            if isinstance(job.payload, dict) and job.payload.get("invite") in invites:
                db.session.delete(job)
        db.session.execute(sa.delete(EditorInvite).where(EditorInvite.id.in_(invites)))
    # Posts belong to the school: they stay, without their author (ON DELETE SET NULL).


def register_personal_data() -> None:
    accounts.register_personal_data("schools", _export, _erase)
