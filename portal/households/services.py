"""Green households: registration, members, consents, pledges, monthly reports, progress,
recognition as a green family, reviews and the public wall.  Tested without HTTP."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm

from portal import audit, jobs, links, mail
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.dashboard import stats as summary
from portal.db import utcnow, writing
from portal.extensions import db
from portal.households import notices
from portal.households.catalogue import catalogue
from portal.households.models import (
    APPROVED,
    NAMED,
    NONE,
    PENDING,
    RECTIFY,
    REJECTED,
    REVOKED,
    Application,
    Household,
    HouseholdMember,
    HouseholdPledge,
    MonthlyReport,
    PhoneUnmask,
    StatusEvent,
)
from portal.i18n import _, _l
from portal.paging import Page, keyset, newest_first
from portal.rules import RuleError
from portal.site import GreenFamily, resolve_division, site, zone

MOBILE = re.compile(r"^1[3-9]\d{9}$")



def _code(length: int = 8) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    return "".join(secrets.choice(alphabet) for _ in range(length))


def normalise_phone(raw: str | None) -> str | None:
    """A Chinese mobile number, or None when empty; raises when it is not one."""
    digits = re.sub(r"[\s-]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits:
        return None
    if not MOBILE.match(digits):
        raise RuleError("bad_phone", _("Enter an 11-digit mainland mobile number, "
                                       "e.g. 13812345678."), 422, {"phone": "bad"})
    return digits


def mask_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone else ""


def mask_name(name: str) -> str:
    """'王家' → '王** 家', '李小明家' → '李** 家', 'Green' → 'G**'."""
    name = name.strip()
    if not name:
        return "**"
    return name[0] + "**" + (" 家" if len(name) > 1 and name.endswith("家") else "")


# -- the household ---------------------------------------------------------------------------

def household_of(user: User | None) -> Household | None:
    if user is None:
        return None
    return db.session.scalar(sa.select(Household).join(HouseholdMember).where(
        HouseholdMember.user_id == user.id))


def is_owner(user: User, household: Household) -> bool:
    return household.owner_id == user.id


@dataclass
class HouseholdInput:
    name: str = ""
    district: str = ""
    town: str = ""
    members: int | None = 1
    phone: str | None = None
    show_on_wall: bool = False
    staff_contact: bool = False


def _validate(data: HouseholdInput) -> tuple[dict[str, str], str | None, str | None]:
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("Give the household a name, e.g. 王家.")
    elif len(name) > 40:
        errors["name"] = _("A household name has at most 40 characters.")
    district = resolve_division(data.district)
    if district is None:
        errors["district"] = _("Choose one of the city's districts.")
    if data.members is None or not 1 <= data.members <= 30:
        errors["members"] = _("A household has between 1 and 30 members.")
    if len(data.town or "") > 80:
        errors["town"] = _("At most 80 characters.")
    phone = None
    try:
        phone = normalise_phone(data.phone)
    except RuleError as err:
        errors["phone"] = err.message
    return errors, district, phone


def register(user: User, data: HouseholdInput) -> Household:
    errors, district, phone = _validate(data)
    if errors:
        raise RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)
    with writing():
        if household_of(user) is not None:
            raise RuleError("exists", _("You already belong to a household."))
        now = utcnow()
        household = Household(owner_id=user.id, name=data.name.strip(), district=district,
                              town=(data.town or "").strip(), members_count=data.members,
                              phone=phone, invite_code=_code(), created_at=now,
                              show_on_wall=bool(data.show_on_wall),
                              wall_consent_at=now if data.show_on_wall else None,
                              staff_contact=bool(data.staff_contact),
                              contact_consent_at=now if data.staff_contact else None)
        household.members.append(HouseholdMember(user_id=user.id, joined_at=now))
        db.session.add(household)
    return household


def update_details(household: Household, data: HouseholdInput) -> None:
    errors, district, phone = _validate(data)
    if errors:
        raise RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)
    with writing():
        household.name, household.district = data.name.strip(), district
        household.town, household.members_count, household.phone = (data.town or "").strip(), \
            data.members, phone


def set_consents(household: Household, show_on_wall: bool, staff_contact: bool) -> None:
    """Consents take effect at once, and their time is recorded."""
    with writing():
        now = utcnow()
        if show_on_wall != household.show_on_wall:
            household.show_on_wall = show_on_wall
            household.wall_consent_at = now if show_on_wall else None
        if staff_contact != household.staff_contact:
            household.staff_contact = staff_contact
            household.contact_consent_at = now if staff_contact else None


def join(user: User, code: str) -> Household:
    with writing():
        if household_of(user) is not None:
            raise RuleError("exists", _("You already belong to a household."))
        household = db.session.scalar(sa.select(Household).where(
            Household.invite_code == (code or "").strip().upper()))
        if household is None or household.owner_id is None:
            raise RuleError("bad_code", _("This invite code is not valid."), 404)
        household.members.append(HouseholdMember(user_id=user.id, joined_at=utcnow()))
    return household


def reset_invite(household: Household) -> str:
    with writing():
        household.invite_code = _code()
    return household.invite_code


def remove_member(household: Household, user_id: int) -> None:
    if user_id == household.owner_id:
        raise RuleError("owner", _("The owner cannot be removed."))
    with writing():
        deleted = db.session.execute(sa.delete(HouseholdMember).where(
            HouseholdMember.household_id == household.id, HouseholdMember.user_id == user_id))
    if deleted.rowcount != 1:
        raise RuleError("not_member", _("This person is not a member."), 404)


# -- pledges and reports ---------------------------------------------------------------------

def set_pledges(household: Household, codes: list[str]) -> None:
    known = catalogue().actions
    unknown = sorted({c for c in codes if c not in known})
    if unknown:
        raise RuleError("unknown_pledge", _("Unknown pledge: %(codes)s",
                                            codes=", ".join(unknown)), 422,
                             {"codes": ", ".join(unknown)})
    with writing():
        wanted = set(codes)
        for pledge in list(household.pledges):
            if pledge.code not in wanted:
                household.pledges.remove(pledge)
        have = {p.code for p in household.pledges}
        for code in sorted(wanted - have):
            household.pledges.append(HouseholdPledge(code=code))


def reportable_months(today: date | None = None) -> list[str]:
    """The current and the previous month (site time), newest first."""
    today = today or datetime.now(zone()).date()
    previous = today.replace(day=1) - timedelta(days=1)
    return [f"{today:%Y-%m}", f"{previous:%Y-%m}"]


def report(household: Household, month: str, kept: list[str],
           today: date | None = None) -> MonthlyReport:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise RuleError("bad_month", _("Give the month as YYYY-MM."), 422,
                        {"month": "format"})
    allowed = reportable_months(today)
    if month not in allowed:
        message = (_("You cannot report a month that has not started.") if month > allowed[0]
                   else _("You can report the current and the previous month only."))
        raise RuleError("month_not_open", message, 422, {"month": "closed"})
    pledged = sorted(p.code for p in household.pledges)
    if not pledged:
        raise RuleError("no_pledges", _("Choose your pledges first."))
    stray = sorted(set(kept) - set(pledged))
    if stray:
        raise RuleError("not_pledged", _("Not among your pledges: %(codes)s",
                                         codes=", ".join(stray)), 422,
                             {"kept": ", ".join(stray)})
    with writing():
        row = db.session.scalar(sa.select(MonthlyReport).where(
            MonthlyReport.household_id == household.id, MonthlyReport.month == month))
        if row is None:
            row = MonthlyReport(household_id=household.id, month=month)
            db.session.add(row)
        row.pledged, row.kept, row.updated_at = pledged, sorted(set(kept)), utcnow()
    return row


@dataclass
class Progress:
    months: list[MonthlyReport]
    streak: int  # consecutive months, up to the latest report, at or above the kept rate
    savings_kg: Decimal  # estimated, from kept actions that carry an estimate


def _next_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"


def progress(household: Household) -> Progress:
    months = list(household.reports)
    rate = Decimal(str(site().green_family.min_kept_rate))
    streak, expected = 0, None
    for r in reversed(months):
        if expected is not None and _next_month(r.month) != expected:
            break
        if Decimal(str(r.rate)) < rate:
            break
        streak += 1
        expected = r.month
    actions = catalogue().actions
    savings = sum((actions[c].co2_kg_per_month for r in months for c in r.kept
                   if c in actions and actions[c].co2_kg_per_month), Decimal("0"))
    return Progress(months, streak, savings)


@dataclass
class Eligibility:
    ok: bool
    pledges: int
    headings: int
    streak: int
    needed: GreenFamily


def eligibility(household: Household) -> Eligibility:
    rules = site().green_family
    actions = catalogue().actions
    codes = [p.code for p in household.pledges if p.code in actions]
    headings = len({actions[c].heading for c in codes})
    streak = progress(household).streak
    ok = (len(codes) >= rules.min_pledges and headings >= rules.min_headings
          and streak >= rules.months)
    return Eligibility(ok, len(codes), headings, streak, rules)


# -- recognition -----------------------------------------------------------------------------

def _history(household: Household, action: str, by: User | None, reason: str = "") -> None:
    event = StatusEvent(action=action, reason=reason[:500], by_id=by.id if by else None)
    household.history.append(event)
    if action in notices.NOTIFIED:  # a notification, with its mail (issue 14)
        notices.application_decided(household, action, reason)
    elif action in DECISION_SUBJECTS:  # the family hears of every decision about it
        db.session.flush()
        jobs.enqueue(MAIL_JOB, {"event": event.id})


MAIL_JOB = "households.mail"
REVIEW_MAIL_JOB = "households.review_mail"
REVIEW_NOTICE_JOB = "households.reviews_due"
DECISION_SUBJECTS = {
    "approved": _l("Your household is a green family"),
    "rejected": _l("Your green-family application was not approved"),
    "confirm": _l("Your green-family title has been confirmed"),
    "rectify": _l("Your green family is asked to put things right"),
    "revoke": _l("Your green-family title has been revoked"),
}
REVIEW_SUBJECT = _l("Your green-family title is due for review")
audit.describe("households.approved", _l("{actor} named '{label}' a green family"),
               _l("Green family named"))
audit.describe("households.rejected", _l("{actor} turned down the green-family application of "
                                         "'{label}'"), _l("Green-family application declined"))
audit.describe("households.confirm", _l("{actor} confirmed the green-family title of '{label}'"),
               _l("Green-family title confirmed"))
audit.describe("households.rectify", _l("{actor} asked '{label}' to put things right by {until}"),
               _l("Green family asked to put things right"))
audit.describe("households.revoke", _l("{actor} revoked the green-family title of '{label}'"),
               _l("Green-family title revoked"))
audit.describe("households.unmask", _l("{actor} looked at the full phone number of '{label}'"),
               _l("Phone number shown"))


def send_decision_mail(payload: dict) -> None:
    """The job: tell the household's owner about a decision (nobody, if they left)."""
    event = db.session.get(StatusEvent, payload["event"])
    household = db.session.get(Household, event.household_id) if event else None
    owner = db.session.get(User, household.owner_id) if household and household.owner_id \
        else None
    if owner is None:
        return
    mail.send_template(owner.email, owner.locale, DECISION_SUBJECTS[event.action],
                       "households/mail/decision.txt", user=owner, household=household,
                       action=event.action, reason=event.reason,
                       link=links.absolute("households.mine"))


def notify_reviews_due(_payload: dict | None = None, today: date | None = None) -> int:
    """Periodic: tell each green family once, a month ahead, that its review falls due."""
    today = today or datetime.now(zone()).date()
    ahead = today + timedelta(days=REVIEW_NOTICE_DAYS)
    with writing():
        due = list(db.session.scalars(sa.select(Household).where(
            Household.status.in_((NAMED, RECTIFY)), Household.owner_id.is_not(None),
            Household.review_due.is_not(None), Household.review_due <= ahead,
            sa.or_(Household.review_noticed_for.is_(None),
                   Household.review_noticed_for != Household.review_due))
            .order_by(Household.id).limit(1000)))
        for household in due:
            household.review_noticed_for = household.review_due
            jobs.enqueue(REVIEW_MAIL_JOB, {"household": household.id,
                                           "due": household.review_due.isoformat()})
    return len(due)


def send_review_mail(payload: dict) -> None:
    household = db.session.get(Household, payload["household"])
    if household is None or household.owner_id is None or household.review_due is None \
            or household.review_due.isoformat() != payload["due"]:
        return  # reviewed (or left) meanwhile
    owner = db.session.get(User, household.owner_id)
    mail.send_template(owner.email, owner.locale, REVIEW_SUBJECT,
                       "households/mail/review_due.txt", user=owner, household=household,
                       link=links.absolute("households.mine"))


REVIEW_NOTICE_DAYS = 30
jobs.register(MAIL_JOB, send_decision_mail, label=_l("Mail about a green-family decision"))
jobs.register(REVIEW_MAIL_JOB, send_review_mail,
              label=_l("Mail that a green-family review falls due"))
jobs.register_periodic(REVIEW_NOTICE_JOB, notify_reviews_due, "day", at_hour=lambda: 9,
                       label=_l("Green-family reviews falling due"))


def pending_application(household: Household) -> Application | None:
    return db.session.scalar(sa.select(Application).where(
        Application.household_id == household.id, Application.status == PENDING))


def apply(household: Household, story: str, by: User) -> Application:
    story = (story or "").strip()
    if len(story) > 300:
        raise RuleError("story_too_long", _("The story has at most 300 characters."), 422,
                        {"story": "long"})
    if household.status in (NAMED, RECTIFY):
        raise RuleError("already_named", _("Your household is already a green family."))
    if not eligibility(household).ok:
        raise RuleError("not_eligible", _("Your household does not meet the criteria "
                                          "yet."))
    with writing():
        if pending_application(household) is not None:
            raise RuleError("pending", _("Your application is already being reviewed."))
        app = Application(household_id=household.id, story=story)
        db.session.add(app)
        _history(household, "applied", by)
    return app


#: The order of the applications waiting for a decision (its page cursor has these columns).
APPLICATION_ORDER = (Application.id,)


def applications_page(after: tuple | None = None) -> Page:
    """One page of the applications waiting for a decision, oldest first (the order staff
    work through them), each with its household in the same statement."""
    stmt = (sa.select(Application).where(Application.status == PENDING)
            .options(orm.joinedload(Application.household)))
    return keyset(stmt, APPLICATION_ORDER, after)


def queue() -> list[Application]:
    """The first page of the applications waiting for a decision."""
    return applications_page().items


#: The recognition states staff can filter the households by.
STATUSES = (NONE, NAMED, RECTIFY, REVOKED)


def staff_list(before: int | None = None, district: str | None = None,
               status: str | None = None) -> Page:
    """One page of every household, newest first, for staff: in one district and/or one
    recognition state when asked.  Keyset pages: the same cost at the millionth household."""
    stmt = sa.select(Household)
    if district:
        stmt = stmt.where(Household.district == district)
    if status:
        stmt = stmt.where(Household.status == status)
    return newest_first(stmt, Household.id, before)


def decide(application_id: int, approve: bool, by: User, reason: str = "") -> Application:
    with writing():
        app = db.session.get(Application, application_id)
        if app is None or app.status != PENDING:
            raise RuleError("not_pending", _("This application has already been decided."),
                            404 if app is None else 409)
        reason = (reason or "").strip()
        if not approve and not reason:
            raise RuleError("reason_required", _("Please give a reason."), 422,
                            {"reason": "required"})
        household = app.household
        app.status, app.reason = (APPROVED if approve else REJECTED), reason[:500]
        app.decided_at, app.decided_by_id = utcnow(), by.id
        if approve:
            today = datetime.now(zone()).date()
            household.status, household.named_on = NAMED, today
            household.review_due = today + timedelta(days=site().green_family.review_after_days)
            household.rectify_by = None
            household.certificate_code = household.certificate_code or _code(10)
            _history(household, "approved", by, reason)
        else:
            _history(household, "rejected", by, reason)
        audit.record(by, f"households.{'approved' if approve else 'rejected'}",
                     f"household:{household.id}", household.name, reason)
    return app


def review(household_id: int, action: str, by: User, reason: str = "",
           rectify_by: date | None = None) -> Household:
    """Periodic review of a named household: confirm, ask for rectification, or revoke."""
    with writing():
        household = db.session.get(Household, household_id)
        if household is None:
            raise RuleError("not_found", _("No such household."), 404)
        reason = (reason or "").strip()
        if household.status not in (NAMED, RECTIFY):
            raise RuleError("not_named", _("Only a named green family can be reviewed."))
        today = datetime.now(zone()).date()
        if action == "confirm":
            household.status, household.rectify_by = NAMED, None
            household.review_due = today + timedelta(days=site().green_family.review_after_days)
        elif action == "rectify":
            if not reason or rectify_by is None or rectify_by <= today:
                raise RuleError("reason_required", _("Give a reason and a date in the future "
                                                     "by which to put things right."), 422)
            household.status, household.rectify_by = RECTIFY, rectify_by
        elif action == "revoke":
            if not reason:
                raise RuleError("reason_required", _("Please give a reason."), 422)
            household.status, household.rectify_by, household.review_due = REVOKED, None, None
        else:
            raise RuleError("bad_action", _("Unknown review action."), 422)
        _history(household, action, by, reason)
        audit.record(by, f"households.{action}", f"household:{household.id}", household.name,
                     reason, until=rectify_by if action == "rectify" else None)
    return household


def verify(code: str) -> Household | None:
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{6,16}", code):
        return None
    return db.session.scalar(sa.select(Household).where(Household.certificate_code == code))


def unmask_phone(household: Household, by: User) -> str:
    """Staff see the full number only on request, and every request is recorded."""
    with writing():
        db.session.add(PhoneUnmask(household_id=household.id, by_id=by.id))
        audit.record(by, "households.unmask", f"household:{household.id}", household.name)
        phone = household.phone or ""
    return phone


# -- public figures ------------------------------------------------------------------------

def wall(before: int | None = None) -> Page:
    """One page of the public wall, newest first: (household, number of pledges) rows."""
    pledges = (sa.select(sa.func.count()).where(HouseholdPledge.household_id == Household.id)
               .correlate(Household).scalar_subquery())
    stmt = sa.select(Household, pledges).where(Household.show_on_wall.is_(True),
                                              Household.owner_id.is_not(None))
    return newest_first(stmt, Household.id, before, scalars=False)


def district_totals() -> dict[str, int]:
    """Registered households per district, from the summary rows."""
    return {district: int(values.get("households", 0))
            for district, values in summary.per_district(["households"]).items()}


def stats() -> dict[str, int | float]:
    """The public figures of the stats API, from the summary rows (one statement)."""
    found = summary.totals(["households", "pledging_households", "pledges", "green_families",
                          "volunteers", "service_hours", "events", "published_activities"])
    return {
        "households": int(found["households"]),
        "pledging_households": int(found["pledging_households"]),
        "pledges": int(found["pledges"]),
        "green_families": int(found["green_families"]),
        "volunteers": int(found["volunteers"]),
        "service_hours": float(found["service_hours"]),
        "events": int(found["events"]),
        "published_activities": int(found["published_activities"]),
    }


# -- personal data ---------------------------------------------------------------------------

def _export(user: User):
    household = household_of(user)
    if household is None:
        return None
    owner = household.owner_id == user.id
    data = {"name": household.name, "district": household.district, "role":
            "owner" if owner else "member", "members": household.members_count,
            "pledges": [{"code": p.code, "created_at": p.created_at} for p in household.pledges],
            "reports": [{"month": r.month, "pledged": r.pledged, "kept": r.kept,
                         "updated_at": r.updated_at} for r in household.reports],
            "status": household.status}
    if owner:
        data.update(town=household.town, phone=household.phone,
                    show_on_wall=household.show_on_wall,
                    wall_consent_at=household.wall_consent_at,
                    staff_contact=household.staff_contact,
                    contact_consent_at=household.contact_consent_at,
                    applications=[
                        {"story": a.story, "status": a.status, "reason": a.reason,
                         "created_at": a.created_at, "decided_at": a.decided_at}
                        for a in db.session.scalars(sa.select(Application).where(
                            Application.household_id == household.id)
                            .order_by(Application.id))],
                    history=[{"action": e.action, "reason": e.reason,
                              "created_at": e.created_at}
                             for e in sorted(household.history, key=lambda e: e.id)])
    return data


def _erase(user: User) -> None:
    household = db.session.scalar(sa.select(Household).where(Household.owner_id == user.id))
    if household is not None:  # the owner leaves: nothing personal stays, aggregates do
        household.name, household.town, household.phone = "", "", None
        household.show_on_wall = household.staff_contact = False
        household.wall_consent_at = household.contact_consent_at = None
        household.owner_id = None
        household.invite_code = _code(12)
        for member in list(household.members):
            household.members.remove(member)
        for app in db.session.scalars(sa.select(Application).where(
                Application.household_id == household.id)):
            app.story, app.reason = "", ""
        for event in household.history:  # decisions stay, the words about the family go
            event.reason = ""
    db.session.execute(sa.delete(HouseholdMember).where(HouseholdMember.user_id == user.id))


def register_personal_data() -> None:
    accounts.register_personal_data("household", _export, _erase)


