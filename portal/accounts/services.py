"""Account rules: registration and e-mail verification, sign-in and lockout, sessions,
passwords, tokens, my data, and people (administrators find accounts, change roles, suspend
and restore them, send password resets).

Tested without HTTP.  Views call these and turn ``RuleError`` into messages.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_request_context, request
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from portal import audit, jobs, links, mail
from portal.accounts.models import (
    ApiToken,
    EmailVerification,
    LoginSession,
    LoginThrottle,
    PasswordReset,
    User,
)
from portal.db import bookkeeping, end_read, utcnow, writing
from portal.extensions import db
from portal.i18n import _, _l
from portal.jobs.models import DONE, RUNNING, Job
from portal.paging import PAGE_SIZE, Page, keyset
from portal.rules import RuleError
from portal.security import ADMIN, CITIZEN, ROLES
from portal.site import site

RESET_MAIL_JOB = "accounts.reset_mail"
REGISTER_JOB = "accounts.register"
VERIFY_MAIL_JOB = "accounts.verify_mail"


def _refused(code: str, message: str, status: int = 422) -> RuleError:
    return RuleError(code, message, status)


# -- helpers ------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"],
                          parallelism=cfg["ARGON2_PARALLELISM"], type=Type.ID)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _check(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """(password matches, a stronger hash to store or None)."""
    hasher = _hasher()
    try:
        hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored_hash) else None




@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    data = resources.files("portal").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problem(password: str, email: str = "") -> str | None:
    """The reason ``password`` is refused, translated, or None when it is acceptable."""
    cfg = current_app.config
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        return _("Use at least %(n)d characters.", n=cfg["PASSWORD_MIN_LENGTH"])
    if len(password) > cfg["PASSWORD_MAX_LENGTH"]:
        return _("Use at most %(n)d characters.", n=cfg["PASSWORD_MAX_LENGTH"])
    if password.lower() in common_passwords() or len(set(password)) < 4:
        return _("This password is too common. Choose one that is harder to guess.")
    if email and normalise_email(email) and normalise_email(email) in password.lower():
        return _("The password must not contain your e-mail address.")
    return None


# -- registration -------------------------------------------------------------------------

def get_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _registration_problem(email: str, password: str, consent: bool) -> None:
    if not consent:
        raise _refused("consent_required",
                       _("Please read and accept the privacy notice to register."))
    problem = password_problem(password, email)
    if problem:
        raise _refused("weak_password", problem)


def register(email: str, display_name: str, password: str, consent: bool,
             locale: str | None = None, role: str = CITIZEN, verified: bool = True) -> User:
    """An account made on purpose, at once: ``flask users create`` (staff creating it for
    someone), tests and benchmarks.  It is verified unless ``verified=False``.  The public
    registration form does not come here: it calls ``request_registration``, whose answer
    does not tell whether the address has an account, and whose accounts start unverified."""
    _registration_problem(email, password, consent)
    if role not in ROLES:
        raise _refused("unknown_role", _("Unknown role."))
    taken = RuleError("email_taken", _("An account with this e-mail address already exists."))
    if get_by_email(email) is not None:
        raise taken
    password_hash = hash_password(password)  # slow: before the write lock is taken
    now = utcnow()
    try:
        with writing():
            user = _new_user(normalise_email(email), display_name, password_hash, locale,
                             site().privacy_notice_version, now, role=role)
            user.email_verified_at = now if verified else None
    except sa.exc.IntegrityError:  # the same address registered at the same moment
        raise taken from None
    return user


def _new_user(email: str, display_name: str, password_hash: str, locale: str | None,
              privacy_version: str, consented_at: datetime, role: str = CITIZEN) -> User:
    user = User(email=email, display_name=display_name.strip(), password_hash=password_hash,
                role=role, locale=locale, privacy_version=privacy_version,
                privacy_consented_at=consented_at, created_at=consented_at,
                email_verified_at=None)
    db.session.add(user)
    db.session.flush()
    return user


def request_registration(email: str, display_name: str, password: str, consent: bool,
                         locale: str | None = None) -> None:
    """The registration form.  Consent and the password are checked as before (those
    answers depend only on what was typed); then the same work whether or not the address
    has an account: the password is hashed and one job is written that names the address.

    The job (``run_registration``) decides: a new address gets an unverified account and a
    verification link; an address that has an account gets a mail telling its owner that
    someone tried to register with it.  The person is not signed in."""
    _registration_problem(email, password, consent)
    password_hash = hash_password(password)  # slow: before the write lock is taken
    with writing():
        jobs.enqueue(REGISTER_JOB, {
            "email": normalise_email(email), "display_name": display_name.strip()[:80],
            "password_hash": password_hash, "locale": locale,
            "privacy_version": site().privacy_notice_version,
            "consented_at": utcnow().isoformat()})


def run_registration(payload: dict) -> None:
    """The job (its payload, which holds the password's hash, is erased once done): make the
    account and queue its verification mail, or queue the note to the address's owner."""
    email = payload["email"]
    if get_by_email(email) is None:
        try:
            with writing():
                user = _new_user(email, payload["display_name"], payload["password_hash"],
                                 payload.get("locale"), payload["privacy_version"],
                                 datetime.fromisoformat(payload["consented_at"]))
                jobs.enqueue(VERIFY_MAIL_JOB, {"user": user.id, "kind": "link"})
            return
        except sa.exc.IntegrityError:  # registered by another job at the same moment
            pass
    owner = get_by_email(email)
    if owner is None:
        raise RuntimeError("the address was taken and is free again; trying later")
    with writing():
        jobs.enqueue(VERIFY_MAIL_JOB, {"user": owner.id, "kind": "taken"})


jobs.register(REGISTER_JOB, run_registration, scrub=True, label=_l("Registration"))


# -- e-mail verification ----------------------------------------------------------------------

def require_verified(user: User | None) -> None:
    """Refuse (403 ``unverified``) what only accounts with a confirmed address may do:
    report a post, sign up for an event, write, submit or publish a school post."""
    if getattr(user, "email_verified_at", None) is None:
        raise RuleError("unverified", _(
            "Please confirm your e-mail address first: open the link we mailed you, or ask "
            "for a new one on your account page."), 403)


def mark_verified(user: User) -> None:
    """Inside the caller's unit of work: the person has shown they read mail at the address
    (a verification link, a password reset or an editor invitation opened from a mail)."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()


def request_verification_mail(user: User) -> None:
    """"Send the link again": one job; the worker makes a new link (the old one stops
    working) and mails it."""
    if user.email_verified_at is not None:
        raise RuleError("already_verified", _("Your e-mail address is already confirmed."))
    with writing():
        jobs.enqueue(VERIFY_MAIL_JOB, {"user": user.id, "kind": "link"})


VERIFY_SUBJECT = _l("Confirm your e-mail address for Green Jiaxing")
TAKEN_SUBJECT = _l("Someone tried to register with your address on Green Jiaxing")


def send_verify_mail(payload: dict) -> None:
    """The job: ``link`` makes a single-use verification link (replacing any earlier one) and
    mails it, unless the address was confirmed meanwhile; ``taken`` tells the owner of an
    existing account that someone tried to register with their address."""
    user = db.session.get(User, payload["user"])
    if user is None:
        return
    if payload.get("kind") == "taken":
        mail.send_template(user.email, user.locale, TAKEN_SUBJECT,
                           "accounts/mail/register_taken.txt", user=user,
                           login=links.absolute("accounts.login"),
                           forgot=links.absolute("accounts.forgot_password"))
        return
    if user.email_verified_at is not None:
        return
    now, raw = utcnow(), secrets.token_urlsafe(32)
    valid_for = current_app.config["EMAIL_VERIFY_VALID_FOR"]
    with writing():
        db.session.execute(sa.delete(EmailVerification).where(
            EmailVerification.user_id == user.id))
        db.session.add(EmailVerification(user_id=user.id, token_hash=token_hash(raw),
                                         created_at=now, expires_at=now + valid_for))
    days, hours = verify_link_lifetime()
    mail.send_template(user.email, user.locale, VERIFY_SUBJECT, "accounts/mail/verify.txt",
                       user=user, days=days, hours=hours,
                       link=links.absolute("accounts.verify_email", token=raw))


jobs.register(VERIFY_MAIL_JOB, send_verify_mail, label=_l("E-mail verification mail"))


def verify_link_lifetime() -> tuple[int, int]:
    """How long a verification link works, for people: (whole days or 0, hours)."""
    seconds = current_app.config["EMAIL_VERIFY_VALID_FOR"].total_seconds()
    return (int(seconds // 86400) if seconds % 86400 == 0 else 0), math.ceil(seconds / 3600)


def valid_verification(raw: str) -> EmailVerification | None:
    row = db.session.scalar(sa.select(EmailVerification).where(
        EmailVerification.token_hash == token_hash(raw or "")))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def verify_email(raw: str, password: str | None, signed_in: User | None = None) -> User:
    """Confirm the address with the mailed link.  The link alone is not enough: the person
    must be signed in to that account or give its password, so that someone who registered
    another person's address (and so knows its password) cannot have the owner confirm it
    for them by opening the mail (pre-hijacking).  The link works once."""
    def invalid():
        return RuleError("invalid_link", _("This link is invalid or has expired. "
                                           "Please ask for a new one."), 404)

    row = valid_verification(raw)
    if row is None:
        raise invalid()
    row_id, user = row.id, db.session.get(User, row.user_id)
    if signed_in is None or signed_in.id != user.id:
        user = authenticate(user.email, password or "")  # counted and locked like a sign-in
    user_id = user.id
    with writing():
        used = db.session.execute(
            sa.update(EmailVerification).where(EmailVerification.id == row_id,
                                               EmailVerification.used_at.is_(None),
                                               EmailVerification.expires_at > utcnow())
            .values(used_at=utcnow()))
        if used.rowcount != 1:  # used at the same moment by another request
            raise invalid()
        user = db.session.get(User, user_id)
        mark_verified(user)
    return user


def set_locale(user: User, locale: str) -> None:
    if user.locale != locale:
        with writing():
            user.locale = locale


# -- sign-in and lockout --------------------------------------------------------------------

def _throttle_key(email: str, address: str | None = None) -> str:
    """A keyed hash of the account (``address`` None), or of the account and one client
    address: the table never holds an e-mail or IP address in clear."""
    secret = current_app.config["SECRET_KEY"].encode()
    subject = normalise_email(email) + ("" if address is None else f"\n{address}")
    return hmac.new(secret, subject.encode(), hashlib.sha256).hexdigest()


def _client_address() -> str:
    """The client's address (behind a proxy, what ProxyFix made of X-Forwarded-For)."""
    return (request.remote_addr if has_request_context() else None) or ""


def forget_failures(email: str, address: str | None = None) -> None:
    """Forget the failures counted from ``address`` (after a success from there); with no
    address, the account's own counter and the current client's."""
    keys = [_throttle_key(email, address if address is not None else _client_address())]
    if address is None:
        keys.append(_throttle_key(email))
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def _locked_until(key: str, now: datetime) -> datetime | None:
    until = db.session.scalar(sa.select(LoginThrottle.locked_until).where(LoginThrottle.key == key))
    return until if until is not None and until > now else None


class LockedOut(RuleError):
    """Too many failed sign-ins: 429, and how many seconds until the lock ends."""

    def __init__(self, message: str, retry_after: int):
        super().__init__("locked", message, 429)
        self.retry_after = retry_after


def record_failure(key: str, now: datetime | None = None, ceiling: int | None = None) -> None:
    """Count one failed sign-in for ``key`` in a single atomic statement; at ``ceiling``
    failures (default ``LOGIN_MAX_FAILURES``) within the window the key is locked.

    Every SET expression reads the row as it was before the statement, on SQLite and
    PostgreSQL alike, so concurrent failures from any number of processes are all counted.
    """
    cfg = current_app.config
    now = now or utcnow()
    t = LoginThrottle.__table__
    stale = sa.or_(t.c.window_started_at < now - cfg["LOGIN_FAILURE_WINDOW"],
                   sa.and_(t.c.locked_until.is_not(None), t.c.locked_until <= now))
    failures = sa.case((stale, 1), else_=t.c.failures + 1)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(key=key, failures=1, window_started_at=now, locked_until=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.key],
        set_={
            "failures": failures,
            "window_started_at": sa.case((stale, now), else_=t.c.window_started_at),
            "locked_until": sa.case(
                (failures >= (ceiling or cfg["LOGIN_MAX_FAILURES"]), now + cfg["LOGIN_LOCKOUT"]),
                (stale, None),
                else_=t.c.locked_until),
        },
    )
    with writing():
        db.session.execute(stmt)


_DUMMY_HASH: str | None = None


def authenticate(email: str, password: str) -> User:
    """The user with this e-mail and password, or ``RuleError``.

    The messages never tell whether the address has an account: unknown addresses are
    throttled and locked exactly like known ones, and take the same hashing time.

    Failures count per account and client address (``LOGIN_MAX_FAILURES`` lock that pair),
    and per account with a much higher ceiling (``LOGIN_ACCOUNT_MAX_FAILURES``, against
    guessing spread over many addresses): someone guessing wrongly from one address does not
    lock the owner out from another.
    """
    now = utcnow()
    pair, account = _throttle_key(email, _client_address()), _throttle_key(email)
    until = max(filter(None, [_locked_until(pair, now), _locked_until(account, now)]),
                default=None)
    if until is not None:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        raise LockedOut(_("Too many failed sign-ins. Please try again in %(minutes)d minutes.",
                          minutes=math.ceil(seconds / 60)), seconds)
    user = get_by_email(email)
    stored_hash = user.password_hash if user is not None else None
    end_read()  # no transaction (and no SQLite snapshot) held while hashing
    if user is None:
        _verify_dummy(password)  # same cost as a real check
        ok, new_hash = False, None
    else:
        ok, new_hash = _check(stored_hash, password)
    if not ok:
        record_failure(pair, now)
        record_failure(account, now, current_app.config["LOGIN_ACCOUNT_MAX_FAILURES"])
        raise RuleError("invalid", _("The e-mail address or password is not correct."), 401)
    if user.suspended_at is not None:  # told only to someone who knows the password
        raise RuleError("suspended", _(
            "This account is suspended, so it cannot sign in. If you think this is a mistake, "
            "please contact the city's environment bureau."), 403)
    with writing():
        if new_hash:
            user.password_hash = new_hash
        forget_failures(email, _client_address())
    return user


def _verify_dummy(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    try:
        _hasher().verify(_DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


def start_session(user: User, remember: bool) -> str:
    """Create a LoginSession and return its raw token (kept only in the user's cookies)."""
    now = utcnow()
    cfg = current_app.config
    lifetime = cfg["REMEMBER_COOKIE_DURATION"] if remember else cfg["SESSION_LIFETIME"]
    raw = secrets.token_urlsafe(32)
    with writing():
        db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id,
                                                         LoginSession.expires_at <= now))
        db.session.add(LoginSession(user_id=user.id, token_hash=token_hash(raw),
                                    remember=remember, created_at=now,
                                    expires_at=now + lifetime))
        db.session.execute(sa.update(User).where(User.id == user.id)
                           .values(last_sign_in_at=now))
    user.session_token = raw
    return raw


def user_for_session(raw: str) -> User | None:
    # Every signed-in request: the session and its account in one statement.
    row = db.session.scalar(sa.select(LoginSession).options(
        sa.orm.joinedload(LoginSession.user, innerjoin=True)).where(
        LoginSession.token_hash == token_hash(raw or "")))
    if row is None or row.expires_at <= utcnow() or row.user.suspended_at is not None:
        return None
    user = row.user
    user.session_token = raw
    return user


def end_session(raw: str | None) -> None:
    if raw:
        with writing():
            db.session.execute(
                sa.delete(LoginSession).where(LoginSession.token_hash == token_hash(raw)))


def end_other_sessions(user: User, keep_raw: str | None) -> None:
    stmt = sa.delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_raw:
        stmt = stmt.where(LoginSession.token_hash != token_hash(keep_raw))
    db.session.execute(stmt)


# -- passwords ------------------------------------------------------------------------------

def _password_checked(user: User, password: str, message: str) -> None:
    """Raise unless ``password`` is the user's (hashing happens outside any transaction)."""
    stored = user.password_hash
    end_read()
    ok, _new_hash = _check(stored, password)
    if not ok:
        raise _refused("wrong_password", message)


def change_password(user: User, current: str, new: str) -> None:
    _password_checked(user, current, _("Your current password is not correct."))
    problem = password_problem(new, user.email)
    if problem:
        raise _refused("weak_password", problem)
    new_hash = hash_password(new)
    with writing():
        user.password_hash = new_hash
        end_other_sessions(user, user.session_token)


RESET_SUBJECT = _l("Reset your Green Jiaxing password")


def request_password_reset(email: str) -> None:
    """Known and unknown addresses alike: one job and nothing else, so neither the answer nor
    its timing tells whether the address has an account.  The job makes the link, if there
    is an account, and mails it."""
    with writing():
        jobs.enqueue(RESET_MAIL_JOB, {"email": normalise_email(email)})


def send_reset_mail(payload: dict) -> None:
    """The job: make a single-use link for the account with this address (replacing any
    earlier one) and mail it; nothing for an address without an account.  The raw token is
    never stored: the database keeps its hash, and the mail the link."""
    if "email" not in payload:  # queued before links were made by the job: {reset, token}
        reset = db.session.get(PasswordReset, payload["reset"])
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            return
        _mail_reset(db.session.get(User, reset.user_id), payload["token"])
        return
    user = get_by_email(payload["email"])
    if user is None:
        return
    now, raw = utcnow(), secrets.token_urlsafe(32)
    with writing():
        db.session.execute(sa.delete(PasswordReset).where(PasswordReset.user_id == user.id))
        db.session.add(PasswordReset(
            user_id=user.id, token_hash=token_hash(raw), created_at=now,
            expires_at=now + current_app.config["PASSWORD_RESET_VALID_FOR"]))
    _mail_reset(user, raw)


def _mail_reset(user: User, raw: str) -> None:
    minutes = int(current_app.config["PASSWORD_RESET_VALID_FOR"].total_seconds() // 60)
    mail.send_template(user.email, user.locale, RESET_SUBJECT, "accounts/mail/reset.txt",
                       user=user, minutes=minutes,
                       link=links.absolute("accounts.reset_password", token=raw))


jobs.register(RESET_MAIL_JOB, send_reset_mail, scrub=True, label=_l("Password reset mail"))


def valid_reset(raw: str) -> PasswordReset | None:
    row = db.session.scalar(sa.select(PasswordReset).where(
        PasswordReset.token_hash == token_hash(raw or "")))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def reset_password(raw: str, new: str) -> User:
    def invalid():
        return RuleError("invalid_link", _("This link is invalid or has expired. "
                                           "Please ask for a new one."), 404)

    row = valid_reset(raw)
    if row is None:
        raise invalid()
    problem = password_problem(new, db.session.get(User, row.user_id).email)
    if problem:
        raise _refused("weak_password", problem)
    new_hash = hash_password(new)  # slow: before the write lock is taken
    with writing():
        row = valid_reset(raw)
        if row is None:
            raise invalid()
        user = db.session.get(User, row.user_id)
        # A guarded UPDATE, so that two simultaneous uses cannot both succeed.
        used = db.session.execute(
            sa.update(PasswordReset).where(PasswordReset.id == row.id,
                                           PasswordReset.used_at.is_(None))
            .values(used_at=utcnow()))
        if used.rowcount != 1:
            raise invalid()
        user.password_hash = new_hash
        mark_verified(user)  # the link came by mail: the address is the person's
        end_other_sessions(user, None)
        forget_failures(user.email)
    return user


# -- API tokens -----------------------------------------------------------------------------

TOKEN_PREFIX = "gj_"  # noqa: S105  (a public marker, not a secret)


#: The most API tokens one account can hold (the account page lists them all).
MAX_API_TOKENS = 20


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with writing():
        held = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)
                                 .where(ApiToken.user_id == user.id))
        if held >= MAX_API_TOKENS:
            raise RuleError("too_many_tokens", _(
                "An account can have at most %(n)d API tokens. Revoke one you no longer use "
                "first.", n=MAX_API_TOKENS), 409, {"name": "too_many"})
        token = ApiToken(user_id=user.id, name=(name or "").strip()[:80] or "API",
                         token_hash=token_hash(raw), prefix=raw[:10], created_at=utcnow())
        db.session.add(token)
    return token, raw


def revoke_api_token(user: User, token_id: int) -> None:
    with writing():
        deleted = db.session.execute(sa.delete(ApiToken).where(ApiToken.id == token_id,
                                                               ApiToken.user_id == user.id))
        if deleted.rowcount != 1:
            raise RuleError("not_found", _("This token does not exist."), 404)


def user_for_api_token(raw: str) -> User | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user))
                              .where(ApiToken.token_hash == token_hash(raw)))
    if token is None or token.user.suspended_at is not None:  # refused while suspended
        return None
    now = utcnow()
    user = token.user  # loaded with the token: one query
    # Record use at most once a minute, as bookkeeping (with the request's own unit of work,
    # or at its end if the database is free): a courtesy to the owner, never a reason to
    # fail or slow a request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        _touch_token(token.id, now)
    return user


def _touch_token(token_id: int, now: datetime) -> None:
    bookkeeping(sa.update(ApiToken).where(
        ApiToken.id == token_id,
        sa.or_(ApiToken.last_used_at.is_(None),
               ApiToken.last_used_at < now - timedelta(seconds=60)))
        .values(last_used_at=now))


# -- my data --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonalData:
    """A feature's share of a person's data: how to show/export it and how to erase it."""

    name: str
    export: Callable[[User], dict | list]
    erase: Callable[[User], None]


_PERSONAL_DATA: list[PersonalData] = []


def register_personal_data(name: str, export: Callable, erase: Callable) -> None:
    """Features call this at import time so that export and deletion cover their tables."""
    if all(p.name != name for p in _PERSONAL_DATA):
        _PERSONAL_DATA.append(PersonalData(name, export, erase))


def _export_account(user: User) -> dict:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale,
        "created_at": user.created_at,
        "email_verified_at": user.email_verified_at,
        "last_sign_in_at": user.last_sign_in_at,
        **({"suspension": {"suspended_at": user.suspended_at, "reason": user.suspended_reason}}
           if user.suspended_at is not None else {}),
        "privacy_consent": {"notice_version": user.privacy_version,
                            "given_at": user.privacy_consented_at},
        "sign_in_sessions": [{"created_at": s.created_at, "expires_at": s.expires_at,
                              "remember_me": s.remember} for s in user.sessions],
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "created_at": t.created_at,
                        "last_used_at": t.last_used_at} for t in user.api_tokens],
        "password_reset_links": [
            {"created_at": r.created_at, "expires_at": r.expires_at, "used_at": r.used_at}
            for r in db.session.scalars(sa.select(PasswordReset).where(
                PasswordReset.user_id == user.id).order_by(PasswordReset.id))],
        "email_verification_links": [
            {"created_at": v.created_at, "expires_at": v.expires_at, "used_at": v.used_at}
            for v in db.session.scalars(sa.select(EmailVerification).where(
                EmailVerification.user_id == user.id).order_by(EmailVerification.id))],
        "sign_in_failures": [
            {"failures": t.failures, "locked_until": t.locked_until}
            for t in db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key.in_(
                [_throttle_key(user.email), _throttle_key(user.email, _client_address())])))],
        "waiting_jobs": [{"kind": j.kind, "created_at": j.created_at}
                         for j in _jobs_naming(user)],
    }


def _jobs_naming(user: User, done: bool = False) -> list:
    """Jobs (not running; waiting or failed, and with ``done`` finished ones too) whose
    payload names the person: their address or user id."""
    states = (RUNNING,) if done else (DONE, RUNNING)
    rows = db.session.scalars(sa.select(Job).where(Job.state.not_in(states)).order_by(Job.id))
    return [j for j in rows if isinstance(j.payload, dict) and (
        normalise_email(str(j.payload.get("email", ""))) == user.email
        or j.payload.get("user") == user.id)]


def _erase_account_extras(user: User) -> None:
    # Sessions, tokens and reset links go with the user row (ON DELETE CASCADE); waiting
    # jobs that name the person (e.g. a reset mail for the address) go with it.  Failures
    # counted from other client addresses are keyed hashes that cannot be found from the
    # address alone; they expire with the lockout window.
    forget_failures(user.email)
    for job in _jobs_naming(user, done=True):
        db.session.delete(job)


register_personal_data("account", _export_account, _erase_account_extras)


def export_data(user: User) -> dict:
    return {p.name: p.export(user) for p in _PERSONAL_DATA}


def delete_account(user: User, password: str) -> None:
    """Every feature's eraser and the deletion run in one unit of work; the development
    outbox's copies of mail to the person go after the commit."""
    _password_checked(user, password, _("Your password is not correct."))
    email = user.email
    with writing() as uow:
        user = db.session.get(User, user.id)
        for part in reversed(_PERSONAL_DATA):
            part.erase(user)
        audit.forget(f"user:{user.id}")  # staff's lines about the account lose its name
        db.session.delete(user)
        uow.after_commit(lambda: mail.erase_outbox_for(email))


# -- people: administrators manage accounts ------------------------------------------------------

ROLE_LABELS = {"citizen": _l("Citizen"), "school": _l("School editor"),
               "editor": _l("Content editor (city staff)"),
               "organizer": _l("Organizer (city staff)"), "admin": _l("Administrator")}

ROLE_CHANGED, SUSPENDED, RESTORED, RESET_SENT = (
    "people.role", "people.suspend", "people.restore", "people.reset")
audit.describe(ROLE_CHANGED, _l("{actor} changed {label}'s role from {old_role} to {new_role}"),
               _l("Role changed"))
audit.describe(SUSPENDED, _l("{actor} suspended {label}'s account"), _l("Account suspended"))
audit.describe(RESTORED, _l("{actor} restored {label}'s account"), _l("Account restored"))
audit.describe(RESET_SENT, _l("{actor} sent {label} a password reset link"),
               _l("Password reset link sent"))
audit.kind_word("user", _l("account"))
audit.value_words("old_role", ROLE_LABELS)
audit.value_words("new_role", ROLE_LABELS)

#: The longest search text and reason people may type.
QUERY_MAX, REASON_MAX = 100, 500
#: Newest accounts first (no search), or by display name and id (a search).
NEWEST_PEOPLE = (User.id,)
PEOPLE_BY_NAME = (User.display_name, User.id)
#: The columns the lists show (never the password's hash).
LISTED = (User.id, User.email, User.display_name, User.role, User.email_verified_at,
          User.last_sign_in_at, User.suspended_at, User.created_at)


def plain_text(text: str | None) -> str:
    """One line of printable text: runs of white space become one space, control characters
    (NUL included, which PostgreSQL cannot store) go."""
    return "".join(c for c in " ".join((text or "").split()) if c.isprintable())


def people_order(q: str) -> tuple:
    """The columns a list of people is ordered (and its cursor made) by."""
    return PEOPLE_BY_NAME if plain_text(q) else NEWEST_PEOPLE


def find_people(q: str, after: tuple | None, size: int = PAGE_SIZE,
                param: str = "after") -> Page:
    """Accounts whose e-mail address starts with ``q`` (case-insensitive: an exact address
    included) or whose display name contains it, by name; with no ``q`` the newest
    accounts.  One page (``paging.keyset``) after the cursor ``after`` (from
    ``paging.keyset_cursor(people_order(q))``)."""
    q = plain_text(q)[:QUERY_MAX]
    stmt = sa.select(User).options(sa.orm.load_only(*LISTED))
    if not q:
        return keyset(stmt, NEWEST_PEOPLE, after, size=size, descending=True, param=param)
    lowered = q.lower()
    stmt = stmt.where(sa.or_(User.email.startswith(lowered, autoescape=True),
                             sa.func.lower(User.display_name).contains(lowered,
                                                                       autoescape=True)))
    return keyset(stmt, PEOPLE_BY_NAME, after, size=size, param=param)


def _must_be_admin(actor: User | None) -> None:
    """``actor`` None is the command line (someone with a shell on the server)."""
    if actor is not None and actor.role != ADMIN:
        raise RuleError("forbidden", _("Only administrators can manage people."), 403)


def _other_active_admins(actor: User | None, user: User) -> int:
    """How many administrators other than ``user`` are active (not suspended).  Every
    administrator's row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite's unit of work
    holds the write lock), so that two administrators taking each other's role at the same
    moment cannot both succeed: the second sees the first's change.  The actor must still be
    one of them (their role may have been taken since their request began)."""
    ids = set(db.session.scalars(sa.select(User.id).where(
        User.role == ADMIN, User.suspended_at.is_(None)).with_for_update()))
    if actor is not None and actor.id not in ids:
        raise RuleError("forbidden", _("Only administrators can manage people."), 403)
    return len(ids - {user.id})


def _fresh(user_id: int) -> User:
    """The account as it is now, its row locked (PostgreSQL) for the rest of the unit of work:
    not the copy the request loaded earlier."""
    user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None:  # deleted meanwhile
        raise RuleError("not_found", _("This account does not exist."), 404)
    return user


def _last_admin() -> RuleError:
    return RuleError("last_admin", _(
        "This is the only administrator left. Make someone else an administrator first."), 409)


def _reason(reason: str | None, required: bool) -> str:
    reason = plain_text(reason)
    if required and not reason:
        message = _("Please give a reason. It is recorded in the audit log.")
        raise RuleError("reason_required", message, 422, {"reason": message})
    if len(reason) > REASON_MAX:
        message = _("Use at most %(n)d characters.", n=REASON_MAX)
        raise RuleError("invalid", message, 422, {"reason": message})
    return reason


def _label(user: User) -> str:
    return user.display_name or user.email


def change_role(actor: User | None, user: User, role: str, reason: str = "") -> User:
    """Give ``user`` another role (administrators only; ``actor`` None: the command line).
    The last administrator keeps the role, and administrators cannot take it from
    themselves (someone else must).  Recorded in the audit log."""
    _must_be_admin(actor)
    if role not in ROLES:
        message = _("Unknown role.")
        raise RuleError("unknown_role", message, 422, {"role": message})
    reason = _reason(reason, required=False)
    user_id = user.id
    with writing():
        others = _other_active_admins(actor, user)
        user = _fresh(user_id)
        old = user.role
        if old == role:
            return user
        if old == ADMIN:
            if actor is not None and actor.id == user.id:
                raise RuleError("own_role", _(
                    "You cannot take away your own administrator role. Ask another "
                    "administrator to do it."), 409)
            if others == 0:
                raise _last_admin()
        user.role = role
        audit.record(actor, ROLE_CHANGED, f"user:{user.id}", _label(user), reason,
                     old_role=old, new_role=role)
    return user


def suspend(actor: User | None, user: User, reason: str) -> User:
    """Suspend an account (a reason is required): it is signed out everywhere at once (every
    sign-in session goes, remember-me included), cannot sign in and its API tokens are
    refused until it is restored.  Nobody can suspend themselves or the last administrator."""
    _must_be_admin(actor)
    reason = _reason(reason, required=True)
    user_id = user.id
    with writing():
        others = _other_active_admins(actor, user)
        user = _fresh(user_id)
        if actor is not None and actor.id == user.id:
            raise RuleError("own_account", _("You cannot suspend your own account."), 409)
        if user.suspended_at is not None:
            raise RuleError("already_suspended", _("This account is already suspended."), 409)
        if user.role == ADMIN and others == 0:
            raise _last_admin()
        user.suspended_at = utcnow()
        user.suspended_reason = reason
        user.suspended_by_id = actor.id if actor is not None else None
        db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))
        audit.record(actor, SUSPENDED, f"user:{user.id}", _label(user), reason)
    return user


def restore(actor: User | None, user: User, reason: str = "") -> User:
    """Lift a suspension: the person can sign in again (their API tokens work again)."""
    _must_be_admin(actor)
    reason = _reason(reason, required=False)
    user_id = user.id
    with writing():
        user = _fresh(user_id)
        if user.suspended_at is None:
            raise RuleError("not_suspended", _("This account is not suspended."), 409)
        user.suspended_at, user.suspended_reason, user.suspended_by_id = None, "", None
        audit.record(actor, RESTORED, f"user:{user.id}", _label(user), reason)
    return user


def send_password_reset(actor: User | None, user: User) -> None:
    """Mail the person a password reset link, the way "forgot password" does (one job that
    makes the link and mails it): the administrator never sees the link or its token."""
    _must_be_admin(actor)
    user_id = user.id
    with writing():
        user = _fresh(user_id)
        if user.suspended_at is not None:
            raise RuleError("suspended", _(
                "This account is suspended. Restore it before sending a reset link."), 409)
        jobs.enqueue(RESET_MAIL_JOB, {"email": user.email})
        audit.record(actor, RESET_SENT, f"user:{user.id}", _label(user))


def update_person(actor: User | None, user: User, role: str | None = None,
                  suspended: bool | None = None, reason: str = "") -> User:
    """The API's change of an account, in one unit of work: its role, then its suspension
    (``suspended`` True needs a reason; False restores).  What is already so is left alone."""
    _must_be_admin(actor)
    with writing():
        if role is not None:
            user = change_role(actor, user, role, reason)
        if suspended is True and user.suspended_at is None:
            user = suspend(actor, user, reason)
        elif suspended is False and user.suspended_at is not None:
            user = restore(actor, user, reason)
    return user
