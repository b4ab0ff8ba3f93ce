"""Events and sign-ups: the rules.  Tested without HTTP.

Never overbook: every change to an event's places runs in a writer transaction that holds
the event (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), so
concurrent sign-ups and cancellations from any number of processes are applied one at a
time.  ``EVENTS_SIGNUP_LOCKING = False`` switches that off for the control test only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app

from portal import audit, jobs, markup, search, stored_html
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.db import UTCDateTime, utcnow, writing
from portal.events import notify
from portal.events.models import (
    CANCELLED,
    CONFIRMED,
    DRAFT,
    PUBLISHED,
    WAITLISTED,
    WITHDRAWN,
    CalendarFeed,
    Event,
    HoursCorrection,
    Signup,
)
from portal.extensions import db
from portal.i18n import _, _l
from portal.learn.models import Observance
from portal.paging import PAGE_SIZE, Page, keyset
from portal.rules import RuleError
from portal.site import resolve_division, site, zone

EVENT = "event"
MAIL_JOB = "events.mail"
DESCRIPTIONS = ("description_zh", "description_en")  # Markdown, stored with their HTML


# -- creating and editing events ---------------------------------------------------------------

@dataclass
class EventInput:
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    signup_deadline: datetime | None = None
    place: str = ""
    district: str = ""
    capacity: int | None = None
    observance_slug: str | None = None
    min_age: int | None = None
    notes: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    # The cover picture (a media id or None), applied only when ``set_cover`` (the form had
    # the field: people without the media library keep the event's cover as it is).
    cover_id: int | None = None
    set_cover: bool = False


def _within_ten_years(when: datetime, now: datetime) -> bool:
    try:
        return now - timedelta(days=3660) < when < now + timedelta(days=3660)
    except OverflowError:  # e.g. 9999-12-31T20:00-10:00 has no UTC equivalent
        return False


def validate(data: EventInput, now: datetime | None = None,
             creating: bool = True) -> dict[str, str]:
    """Field errors (translated) for an event; empty when it can be saved."""
    now = now or utcnow()
    errors = dict(data.errors)
    for name in ("starts_at", "ends_at", "signup_deadline"):
        when = getattr(data, name)
        if when is not None and not _within_ten_years(when, now):
            errors[name] = _("Give a date within ten years from now.")
            setattr(data, name, None)
    if not (data.title_zh.strip() or data.title_en.strip()):
        errors["title_zh"] = _("Give the event a title in at least one language.")
    for name in ("title_zh", "title_en"):
        if len(getattr(data, name).strip()) > markup.TITLE_MAX:
            errors[name] = _("A title has at most 200 characters.")
    for name in DESCRIPTIONS:
        if len(getattr(data, name)) > markup.TEXT_MAX:
            errors[name] = _("The text is too long (at most 20,000 characters).")
    if data.starts_at is None:
        errors.setdefault("starts_at", _("Please give the start."))
    elif creating and data.starts_at <= now:
        errors["starts_at"] = _("The start must be in the future.")
    if data.ends_at is None:
        errors.setdefault("ends_at", _("Please give the end."))
    elif data.starts_at and data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if data.signup_deadline and data.starts_at and data.signup_deadline > data.starts_at:
        errors["signup_deadline"] = _("Sign-ups must close before the event starts.")
    if not data.place.strip():
        errors["place"] = _("Please say where the event takes place.")
    if resolve_division(data.district) is None:
        errors["district"] = _("Choose one of the city's districts.")
    if data.capacity is None or data.capacity < 1:
        errors.setdefault("capacity", _("There must be at least one place."))
    elif data.capacity > 100_000:
        errors["capacity"] = _("That is more places than we can handle.")
    if data.min_age is not None and not 0 <= data.min_age <= 120:
        errors["min_age"] = _("The minimum age must be between 0 and 120.")
    if data.observance_slug and db.session.get(Observance, data.observance_slug) is None:
        errors["observance_slug"] = _("Unknown observance day.")
    return errors


def _rendered(data: EventInput) -> dict[str, str]:
    """The descriptions as HTML, each rendered within the Markdown budget, before the unit of
    work (a text that takes longer is refused: ``markdown_too_complex`` naming the field)."""
    return stored_html.render_fields({name: getattr(data, name) for name in DESCRIPTIONS})


def _apply(event: Event, data: EventInput, html: dict[str, str]) -> None:
    event.title_zh, event.title_en = data.title_zh.strip(), data.title_en.strip()
    event.description_zh, event.description_en = data.description_zh, data.description_en
    event.description_zh_html = html["description_zh"]
    event.description_en_html = html["description_en"]
    event.html_version = markup.VERSION
    event.starts_at, event.ends_at = data.starts_at, data.ends_at
    event.signup_deadline = data.signup_deadline or data.starts_at
    event.place, event.district = data.place.strip(), resolve_division(data.district)
    event.capacity, event.observance_slug = data.capacity, data.observance_slug or None
    event.min_age, event.notes = data.min_age, data.notes.strip()
    if data.set_cover:
        event.cover_id = data.cover_id
    event.updated_at = utcnow()


def _invalid(errors: dict[str, str]) -> RuleError:
    return RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)


def create_event(organizer: User, data: EventInput, publish: bool = False) -> Event:
    errors = validate(data)
    if errors:
        raise _invalid(errors)
    html = _rendered(data)
    with writing():
        event = Event(organizer_id=organizer.id, status=PUBLISHED if publish else DRAFT)
        _apply(event, data, html)
        db.session.add(event)
        db.session.flush()
        search.enqueue(EVENT, event.id)
    return event


def update_event(event_id: int, data: EventInput) -> Event:
    errors = validate(data, creating=False)
    if errors:
        raise _invalid(errors)
    html = _rendered(data)
    with _writing_event():
        event = _lock(event_id)
        if event.status == CANCELLED:
            raise RuleError("cancelled", _("This event has been cancelled."))
        _apply(event, data, html)
        event.sequence += 1
        _mail_each(_promote_waiting(event), "promoted")  # more places may have been added
        search.enqueue(EVENT, event.id)
    return event


audit.describe("events.publish", _l("{actor} published the event '{label}'"),
               _l("Event published"))
audit.describe("events.cancel", _l("{actor} cancelled the event '{label}' ({people})"),
               _l("Event cancelled"))
audit.describe("events.correct_hours", _l("{actor} corrected a volunteer's hours at '{label}' "
                                          "from {previous} to {hours}"), _l("Hours corrected"))
audit.count_word("people", "%(num)d person told", "%(num)d people told")


def _title(event: Event) -> str:
    return event.title_zh or event.title_en or ""


def publish(event_id: int, by: User | None = None) -> Event:
    with _writing_event():
        event = _lock(event_id)
        if event.status != DRAFT:
            raise RuleError("not_draft", _("Only a draft can be published."))
        event.status = PUBLISHED
        search.enqueue(EVENT, event.id)
        if by is not None:  # from the staff pages (the audit log)
            audit.record(by, "events.publish", f"event:{event.id}", _title(event))
    return event


def cancel_event(event_id: int, by: User | None = None) -> Event:
    """Cancel an event and tell everyone who signed up."""
    with _writing_event():
        event = _lock(event_id)
        if event.status == CANCELLED:
            raise RuleError("cancelled", _("This event has been cancelled."))
        if by is not None:  # from the staff pages (the audit log)
            audit.record(by, "events.cancel", f"event:{event.id}", _title(event), people=sum(
                1 for s in event.signups if s.status in (CONFIRMED, WAITLISTED)))
        event.status = CANCELLED
        event.updated_at = utcnow()
        event.sequence += 1
        _mail_each([s for s in event.signups if s.status in (CONFIRMED, WAITLISTED)],
                   "event_cancelled")
        search.enqueue(EVENT, event.id)
    return event


def can_manage(user: User | None, event: Event) -> bool:
    """City staff manage every event; a school's editor manages the events they created."""
    if user is None:
        return False
    if user.role in ("organizer", "admin"):
        return True
    return user.role == "school" and event.organizer_id == user.id


# -- places ------------------------------------------------------------------------------------

def _locking() -> bool:
    return current_app.config.get("EVENTS_SIGNUP_LOCKING", True)


def _writing_event():
    """The unit of work for a change to an event's places (see the module docstring)."""
    return writing(immediate=_locking())


def _lock(event_id: int) -> Event:
    """The event, held for the rest of the unit of work (``FOR UPDATE`` on PostgreSQL; on
    SQLite the unit of work already holds the write lock)."""
    stmt = sa.select(Event).where(Event.id == event_id)
    if _locking():
        stmt = stmt.with_for_update()
    event = db.session.scalar(stmt)
    if event is None:
        raise RuleError("not_found", _("This event does not exist."), 404)
    return event


def counts(event_id: int) -> dict[str, int]:
    return counts_for([event_id])[event_id]


def counts_for(event_ids) -> dict[int, dict[str, int]]:
    """Confirmed and waiting places of each event, for a whole page in one GROUP BY."""
    ids = list(dict.fromkeys(event_ids))
    found = {i: {CONFIRMED: 0, WAITLISTED: 0} for i in ids}
    if ids:
        rows = db.session.execute(
            sa.select(Signup.event_id, Signup.status, sa.func.count())
            .where(Signup.event_id.in_(ids), Signup.status.in_((CONFIRMED, WAITLISTED)))
            .group_by(Signup.event_id, Signup.status))
        for event_id, status, n in rows:
            found[event_id][status] = n
    return found


def positions(signups) -> dict[int, int]:
    """The waiting-list position of each waiting sign-up of a page, in one statement."""
    ids = [x.id for x in signups if x.status == WAITLISTED]
    if not ids:
        return {}
    other = sa.orm.aliased(Signup)
    ahead = (sa.select(sa.func.count()).select_from(other).where(
        other.event_id == Signup.event_id, other.status == WAITLISTED,
        sa.or_(other.queued_at < Signup.queued_at,
               sa.and_(other.queued_at == Signup.queued_at, other.id < Signup.id)))
        .correlate(Signup).scalar_subquery())
    return {i: n + 1 for i, n in db.session.execute(
        sa.select(Signup.id, ahead).where(Signup.id.in_(ids)))}


def position(signup: Signup) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if signup.status != WAITLISTED:
        return None
    return _position(signup.event_id, signup.queued_at, signup.id)


def _position(event_id: int, queued_at: datetime, signup_id: int) -> int:
    ahead = db.session.scalar(sa.select(sa.func.count()).select_from(Signup).where(
        Signup.event_id == event_id, Signup.status == WAITLISTED,
        sa.or_(Signup.queued_at < queued_at,
               sa.and_(Signup.queued_at == queued_at, Signup.id < signup_id))))
    return ahead + 1


def signup_of(user: User, event_id: int) -> Signup | None:
    return _signup_of(user.id, event_id)


def _signup_of(user_id: int, event_id: int) -> Signup | None:
    return db.session.scalar(sa.select(Signup).where(Signup.event_id == event_id,
                                                     Signup.user_id == user_id))


@dataclass
class SignupResult:
    signup_id: int
    status: str
    changed: bool
    position: int | None

    @property
    def signup(self) -> Signup:
        return db.session.get(Signup, self.signup_id)


def _status_for_newcomer(event_id: int, capacity: int):
    """SQL for the status a new sign-up gets: confirmed while places remain and nobody waits
    (so nobody jumps the queue when places are added), else the waiting list."""
    confirmed = (sa.select(sa.func.count()).select_from(Signup)
                 .where(Signup.event_id == event_id, Signup.status == CONFIRMED)
                 .scalar_subquery())
    waiting = sa.exists().where(Signup.event_id == event_id, Signup.status == WAITLISTED)
    return sa.case((sa.and_(confirmed < capacity, ~waiting), CONFIRMED), else_=WAITLISTED)


def sign_up(user: User, event_id: int, now: datetime | None = None) -> SignupResult:
    """Confirmed while places remain and nobody waits, else on the waiting list.

    The event is held from its ``SELECT … FOR UPDATE`` to the commit, and every sign-up for
    it waits for that, so the held section is short: the lock, one INSERT that counts and
    decides in SQL, the waiting-list position, the commit.  What does not need the lock comes
    before it: the person's existing row, and the mail job (it names the event and the
    person; the worker reads which mail to send from the sign-up as it is then).
    """
    accounts.require_verified(user)  # a confirmed address (issue 12, item 5)
    user_id = user.id  # read before the unit of work: the write lock is no time to reload it
    try:
        with _writing_event():
            existing = _signup_of(user_id, event_id)
            if existing is not None and existing.status in (CONFIRMED, WAITLISTED):
                return SignupResult(existing.id, existing.status, False, position(existing))
            jobs.enqueue(MAIL_JOB, {"event": event_id, "user": user_id, "kind": "signed_up"})
            event = _lock(event_id)
            now = now or utcnow()  # taken while holding the event: queue order is lock order
            if event.status == CANCELLED:
                raise RuleError("cancelled", _("This event has been cancelled."))
            if event.status != PUBLISHED:
                raise RuleError("not_found", _("This event does not exist."), 404)
            if now >= event.signup_deadline:
                raise RuleError("closed", _("Sign-ups for this event have closed."))
            status = _status_for_newcomer(event_id, event.capacity)
            when = sa.bindparam("now", now, type_=UTCDateTime)
            if existing is None:
                stmt = sa.insert(Signup).from_select(
                    ["event_id", "user_id", "status", "queued_at", "created_at", "updated_at"],
                    sa.select(sa.literal(event_id), sa.literal(user_id), status, when, when,
                              when))
            else:  # signing up again after cancelling: to the end of the queue
                stmt = (sa.update(Signup).where(Signup.id == existing.id)
                        .values(status=status, queued_at=when, updated_at=when,
                                checked_in_at=None, checked_out_at=None, hours=None))
            signup_id, decided = db.session.execute(
                stmt.returning(Signup.id, Signup.status)).one()
            # (read here rather than after the commit: it saves a transaction of its own)
            waiting = _position(event_id, now, signup_id) if decided == WAITLISTED else None
    except sa.exc.IntegrityError:  # the same person twice at once: the other request won
        existing = _signup_of(user_id, event_id)
        return SignupResult(existing.id, existing.status, False, position(existing))
    db.session.expire_all()  # the statements above changed rows behind the ORM's back
    return SignupResult(signup_id, decided, True, waiting)


def cancel_signup(user: User, event_id: int, now: datetime | None = None) -> list[Signup]:
    """Give up a place (or a place in the queue); the oldest waiting person moves up in the
    same transaction.  Returns the people promoted."""
    now = now or utcnow()
    user_id = user.id  # read before the unit of work, as in sign_up
    with _writing_event():
        event = _lock(event_id)
        signup = _signup_of(user_id, event_id)
        if signup is None or signup.status == WITHDRAWN:
            raise RuleError("not_signed_up", _("You are not signed up for this event."))
        if now >= event.starts_at:
            raise RuleError("started", _("The event has started: it is too late to cancel."))
        signup.status, signup.updated_at = WITHDRAWN, now
        db.session.flush()
        promoted = _promote_waiting(event, now) if event.status == PUBLISHED else []
        _mail_each(promoted, "promoted")
    return promoted


def _promote_waiting(event: Event, now: datetime | None = None) -> list[Signup]:
    """Fill free places from the waiting list, first come first served (caller holds the
    event and commits)."""
    now = now or utcnow()
    free = event.capacity - counts(event.id)[CONFIRMED]
    if free <= 0:
        return []
    waiting = list(db.session.scalars(
        sa.select(Signup).where(Signup.event_id == event.id, Signup.status == WAITLISTED)
        .order_by(Signup.queued_at, Signup.id).limit(free)))
    for s in waiting:
        s.status, s.updated_at = CONFIRMED, now
    db.session.flush()
    return waiting


# -- attendance and hours ----------------------------------------------------------------------

def hour_rules() -> tuple[list[tuple[int, Decimal]], Decimal]:
    """(rounding steps for the minutes past a full hour, minimum attendance share)."""
    rules = site().service_hours
    steps = [(int(limit), Decimal(str(value))) for limit, value in rules.rounding]
    return steps, Decimal(str(rules.min_attendance_share))


def compute_hours(event: Event, checked_in: datetime, checked_out: datetime) -> Decimal:
    """Service hours for one attendance: the time within the event, rounded per started hour;
    nothing when less than the minimum share of the event was attended."""
    steps, min_share = hour_rules()
    start, end = max(checked_in, event.starts_at), min(checked_out, event.ends_at)
    attended = max(timedelta(0), end - start)
    length = event.ends_at - event.starts_at
    if length.total_seconds() <= 0 or Decimal(attended / length) < min_share:
        return Decimal("0")
    minutes = int(attended.total_seconds() // 60)
    full, rest = divmod(minutes, 60)
    extra = Decimal("0")
    for limit, value in steps:
        if rest <= limit:
            extra = value
            break
    return (Decimal(full) + extra).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _signup_for_staff(event_id: int, signup_id: int) -> Signup:
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.event_id != event_id:
        raise RuleError("not_found", _("No such sign-up."), 404)
    return signup


def check_in(event_id: int, signup_id: int, now: datetime | None = None) -> Signup:
    with writing():
        signup = _signup_for_staff(event_id, signup_id)
        if signup.status != CONFIRMED:
            raise RuleError("not_confirmed", _("Only confirmed volunteers can be checked in."))
        signup.checked_in_at = now or utcnow()
        signup.checked_out_at = signup.hours = None
    return signup


def check_out(event_id: int, signup_id: int, now: datetime | None = None) -> Signup:
    with writing():
        signup = _signup_for_staff(event_id, signup_id)
        if signup.checked_in_at is None:
            raise RuleError("not_checked_in", _("Check the volunteer in first."))
        signup.checked_out_at = now or utcnow()
        if signup.checked_out_at < signup.checked_in_at:
            signup.checked_out_at = signup.checked_in_at
        signup.hours = compute_hours(signup.event, signup.checked_in_at, signup.checked_out_at)
    return signup


def correct_hours(event_id: int, signup_id: int, hours: Decimal, reason: str,
                  by: User) -> Signup:
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason_required", _("Please give a reason for the correction."), 422)
    if not Decimal("0") <= hours <= Decimal("24"):
        raise RuleError("bad_hours", _("Hours must be between 0 and 24."), 422)
    hours = hours.quantize(Decimal("0.1"), ROUND_HALF_UP)
    with writing():
        signup = _signup_for_staff(event_id, signup_id)
        db.session.add(HoursCorrection(signup_id=signup.id, previous=signup.hours, hours=hours,
                                       reason=reason[:500], by_id=by.id))
        audit.record(by, "events.correct_hours", f"signup:{signup.id}", _title(signup.event),
                     reason, previous=str(signup.hours or 0), hours=str(hours))
        signup.hours = hours
    return signup


# -- reading -----------------------------------------------------------------------------------

# What a list of events shows (title, time, place): the descriptions and notes stay behind.
_LONG = (Event.description_zh, Event.description_en, Event.description_zh_html,
         Event.description_en_html, Event.notes)
LISTED = tuple(sa.orm.defer(c) for c in _LONG)
SOONEST = (Event.starts_at, Event.id)  # the order of every list of events (paging.keyset)
MONTH_CAP = 300  # events one month of the calendar shows at most
ROSTER = (Signup.status, Signup.queued_at, Signup.id)  # confirmed first, then the queue
QUEUE = (Signup.queued_at, Signup.id)


def _public(stmt, start: datetime | None, end: datetime | None, district: str | None,
            observance: str | None, with_cancelled: bool = False):
    statuses = (PUBLISHED, CANCELLED) if with_cancelled else (PUBLISHED,)
    stmt = stmt.where(Event.status.in_(statuses))
    if start is not None:
        stmt = stmt.where(Event.ends_at >= start)
    if end is not None:
        stmt = stmt.where(Event.starts_at < end)
    if district:
        stmt = stmt.where(Event.district == district)
    if observance:
        stmt = stmt.where(Event.observance_slug == observance)
    return stmt


def published_between(start: datetime | None, end: datetime | None, district: str | None = None,
                      observance: str | None = None, with_cancelled: bool = False,
                      limit: int | None = None, listed: bool = False) -> list[Event]:
    """Public events in a time range (either end open), soonest first, at most ``limit``.
    Calendar feeds also want cancelled ones, so that subscribed calendars show the
    cancellation instead of losing the event.  ``listed``: without the descriptions."""
    stmt = _public(sa.select(Event), start, end, district, observance, with_cancelled)
    if listed:
        stmt = stmt.options(*LISTED)
    stmt = stmt.order_by(*SOONEST)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def page_between(start: datetime | None, end: datetime | None, after: tuple | None,
                 district: str | None = None, observance: str | None = None,
                 size: int = PAGE_SIZE, param: str = "after") -> Page:
    """A page of the published events in a time range (either end open; from now: the list
    of what is to come), soonest first by (start, id) after the cursor."""
    stmt = _public(sa.select(Event).options(*LISTED), start, end, district, observance)
    return keyset(stmt, SOONEST, after, size, param=param)


def _mine(user: User):
    """The person's sign-ups with their events (loaded in the same statement, as listed)."""
    listed = sa.orm.contains_eager(Signup.event).options(*LISTED)
    return (sa.select(Signup).join(Signup.event).options(listed)
            .where(Signup.user_id == user.id))


MY_ORDER = (Event.starts_at, Signup.id)


def my_signups(user: User) -> list[Signup]:
    """Every sign-up the person holds (the personal calendar feed), with its event."""
    return list(db.session.scalars(
        sa.select(Signup).join(Signup.event).options(sa.orm.contains_eager(Signup.event))
        .where(Signup.user_id == user.id, Signup.status != WITHDRAWN).order_by(*MY_ORDER)))


def my_coming(user: User, now: datetime, after: tuple | None) -> Page:
    """A page of the person's events not over yet, soonest first (``?after=``)."""
    stmt = _mine(user).where(Signup.status != WITHDRAWN, Event.ends_at >= now)
    return keyset(stmt, MY_ORDER, after)


def my_past(user: User, now: datetime, earlier: tuple | None) -> Page:
    """A page of the person's past events, latest first (``?earlier=``)."""
    stmt = _mine(user).where(Signup.status != WITHDRAWN, Event.ends_at < now)
    return keyset(stmt, MY_ORDER, earlier, descending=True, param="earlier")


def my_hours(user: User) -> tuple[list[Signup], Decimal]:
    """All of a person's recorded hours with their events (the printable record) and the
    total."""
    rows = list(db.session.scalars(_mine(user).where(Signup.hours.is_not(None))
                                   .order_by(*MY_ORDER)))
    return rows, sum((s.hours for s in rows), Decimal("0"))


def my_hours_page(user: User, after: tuple | None) -> Page:
    """A page of the person's recorded hours, in the order of the events (``?after=``)."""
    return keyset(_mine(user).where(Signup.hours.is_not(None)), MY_ORDER, after)


def hours_total(user: User) -> Decimal:
    """The person's recorded hours, all of them, in one SUM."""
    total = db.session.scalar(sa.select(sa.func.sum(Signup.hours)).where(
        Signup.user_id == user.id, Signup.hours.is_not(None)))
    return Decimal(total or 0)


def roster(event_id: int) -> list[Signup]:
    """Everyone signed up (the roster download), with their accounts, in one statement."""
    return list(db.session.scalars(
        sa.select(Signup).options(sa.orm.joinedload(Signup.user))
        .where(Signup.event_id == event_id, Signup.status.in_((CONFIRMED, WAITLISTED)))
        .order_by(*ROSTER)))


def roster_page(event_id: int, after: tuple | None) -> Page:
    """A page of the roster: confirmed first, then the waiting list in queue order."""
    stmt = (sa.select(Signup).options(sa.orm.joinedload(Signup.user))
            .where(Signup.event_id == event_id, Signup.status.in_((CONFIRMED, WAITLISTED))))
    return keyset(stmt, ROSTER, after)


def attendance_page(event_id: int, after: tuple | None) -> Page:
    """A page of the confirmed volunteers, with their accounts and hours corrections."""
    stmt = (sa.select(Signup).options(sa.orm.joinedload(Signup.user),
                                      sa.orm.selectinload(Signup.corrections))
            .where(Signup.event_id == event_id, Signup.status == CONFIRMED))
    return keyset(stmt, QUEUE, after)


def feed_made_at(user: User) -> datetime | None:
    """When the person's calendar feed address was made, if they have one (reading only).
    The address itself cannot be shown again: only its hash is kept."""
    return db.session.scalar(sa.select(CalendarFeed.created_at)
                             .where(CalendarFeed.user_id == user.id))


def new_feed_token(user: User) -> str:
    """Create the person's feed address, or replace it (the old one stops working).  The raw
    token is returned once, to be shown; the database keeps its hash."""
    token = secrets.token_urlsafe(24)
    with writing():
        row = db.session.get(CalendarFeed, user.id)
        if row is None:
            db.session.add(CalendarFeed(user_id=user.id, token_hash=accounts.token_hash(token)))
        else:
            row.token_hash, row.created_at = accounts.token_hash(token), utcnow()
    return token


def user_for_feed(token: str) -> User | None:
    row = db.session.scalar(sa.select(CalendarFeed).where(
        CalendarFeed.token_hash == accounts.token_hash(token or "")))
    return db.session.get(User, row.user_id) if row else None


# -- mail --------------------------------------------------------------------------------------
# A mail about a sign-up is a job of the unit of work that changed it; the worker renders it
# when it runs, in the person's language, and skips it if the sign-up has moved on since
# (a confirmation for a place given up, a reminder for someone no longer confirmed).

STILL_TRUE = {"confirmed": (CONFIRMED,), "promoted": (CONFIRMED,), "reminder": (CONFIRMED,),
              "waitlisted": (WAITLISTED,), "event_cancelled": None}


def _mail_each(signups: list[Signup], kind: str) -> None:
    """Enqueue one mail job per sign-up (inside the caller's unit of work)."""
    for s in signups:
        if s.user_id is not None:
            jobs.enqueue(MAIL_JOB, {"signup": s.id, "kind": kind})


def send_signup_mail(payload: dict) -> None:
    """The job: mail one person about their sign-up."""
    kind = payload["kind"]
    if kind == "signed_up":  # written before the place was decided: read it now
        signup = _signup_of(payload["user"], payload["event"])
        if signup is None or signup.status not in (CONFIRMED, WAITLISTED):
            return
        if signup.status == CONFIRMED and signup.updated_at != signup.queued_at:
            return  # promoted from the waiting list since: the promotion mail says so
        kind = "confirmed" if signup.status == CONFIRMED else "waitlisted"
    else:
        signup = db.session.get(Signup, payload["signup"])
    if signup is None or signup.user is None:
        return  # the account was deleted meanwhile: nobody to write to
    wanted = STILL_TRUE[kind]
    if wanted is not None and signup.status not in wanted:
        return
    notify.send(signup, kind, position(signup))


jobs.register(MAIL_JOB, send_signup_mail, label=_l("Mail about a sign-up"))

# Descriptions are rendered again when the renderer changes; the index then reads the new HTML.
stored_html.register("events", Event, {name: f"{name}_html" for name in DESCRIPTIONS},
                     after=lambda event: search.enqueue(EVENT, event.id))


def remind(now: datetime | None = None) -> int:
    """Mail a reminder to everyone confirmed for an event that starts tomorrow (site time);
    each person is reminded once.  Run daily by the job worker."""
    now = now or utcnow()
    local_tomorrow = (now.astimezone(zone()) + timedelta(days=1)).date()
    start = datetime.combine(local_tomorrow, datetime.min.time(), zone())
    end = start + timedelta(days=1)
    with writing():
        due = list(db.session.scalars(
            sa.select(Signup).join(Event).where(
                Event.status == PUBLISHED, Event.starts_at >= start, Event.starts_at < end,
                Signup.status == CONFIRMED, Signup.reminded_at.is_(None),
                Signup.user_id.is_not(None))))
        for s in due:
            s.reminded_at = now
        _mail_each(due, "reminder")
    return len(due)


jobs.register_periodic("events.remind", lambda _payload: remind(), "day",
                       at_hour=lambda: current_app.config["EVENTS_REMINDER_HOUR"],
                       label=_l("Reminders for tomorrow's events"))


# -- personal data -----------------------------------------------------------------------------

def _export(user: User) -> list[dict]:
    # The events and corrections of all the sign-ups in two statements, not two per sign-up.
    rows = db.session.scalars(sa.select(Signup).where(Signup.user_id == user.id)
                              .options(sa.orm.joinedload(Signup.event),
                                       sa.orm.selectinload(Signup.corrections))
                              .order_by(Signup.id))
    return [{"event": s.event.title(user.locale or "zh"), "event_id": s.event_id,
             "status": s.status, "signed_up_at": s.created_at, "checked_in_at": s.checked_in_at,
             "checked_out_at": s.checked_out_at,
             "hours": str(s.hours) if s.hours is not None else None,
             "hours_corrections": [
                 {"previous": str(c.previous) if c.previous is not None else None,
                  "hours": str(c.hours), "reason": c.reason, "created_at": c.created_at}
                 for c in sorted(s.corrections, key=lambda c: c.id)]} for s in rows]


def _export_feed(user: User) -> dict | None:
    made = feed_made_at(user)
    return None if made is None else {"created_at": made}


def _erase_feed(user: User) -> None:
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user.id))


def _erase(user: User) -> None:
    # Sign-ups stay (events' totals and hours statistics need them) but no longer name anyone;
    # places at future events are given up, and the waiting list moves up, each event held
    # like any other change to its places, and the promotion mails are jobs of the same unit
    # of work as the deletion.
    now = utcnow()
    held = db.session.execute(sa.select(Signup.id, Signup.event_id).join(Event).where(
        Signup.user_id == user.id, Signup.status.in_((CONFIRMED, WAITLISTED)),
        Event.starts_at > now).order_by(Signup.event_id)).all()
    for signup_id, event_id in held:
        event = _lock(event_id)
        signup = db.session.get(Signup, signup_id)
        signup.status, signup.updated_at = WITHDRAWN, now
        db.session.flush()
        if event.status == PUBLISHED:
            _mail_each(_promote_waiting(event, now), "promoted")
    # Corrections of the person's hours keep their figures, not the words about them.
    db.session.execute(sa.update(HoursCorrection).where(HoursCorrection.signup_id.in_(
        sa.select(Signup.id).where(Signup.user_id == user.id))).values(reason=""))
    db.session.execute(sa.update(Signup).where(Signup.user_id == user.id).values(user_id=None))
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user.id))


def register_personal_data() -> None:
    accounts.register_personal_data("events", _export, _erase)
    accounts.register_personal_data("calendar_feed", _export_feed, _erase_feed)
