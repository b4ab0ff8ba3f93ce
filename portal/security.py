"""Who may do what, and the headers every response carries.

Every route's access is decided in ``ACCESS`` below: one table you can read top to bottom.
``enforce_access`` runs before every request and refuses what the table does not allow; an
endpoint missing from the table is refused (deny by default) and a test fails for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, url_for

CITIZEN, SCHOOL, ORGANIZER, ADMIN = "citizen", "school", "organizer", "admin"
EDITOR = "editor"  # city staff who write content and submit it; organizers and admins publish
ROLES = (CITIZEN, SCHOOL, EDITOR, ORGANIZER, ADMIN)


@dataclass(frozen=True)
class Rule:
    signed_in: bool
    roles: frozenset[str] = frozenset()

    def allows(self, user) -> bool:
        if not self.signed_in:
            return True
        if user is None:
            return False
        return not self.roles or user.role in self.roles


PUBLIC = Rule(signed_in=False)
SIGNED_IN = Rule(signed_in=True)


def roles(*names: str) -> Rule:
    unknown = set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")
    return Rule(signed_in=True, roles=frozenset(names))


STAFF = roles(ORGANIZER, ADMIN)
# Event organizers: city staff, and verified schools' editors for their own events (the views
# check ownership with events.services.can_manage).
EVENT_ORGANIZERS = roles(SCHOOL, ORGANIZER, ADMIN)
# The editorial back office: editors write and submit, organizers and admins also publish
# (the services decide who may publish).
WRITERS = roles(EDITOR, ORGANIZER, ADMIN)

# endpoint → rule.  In the API blueprint "signed in" means a valid bearer token.
ACCESS: dict[str, Rule] = {
    "static": PUBLIC,
    # core
    "core.home": PUBLIC,
    "core.privacy": PUBLIC,
    "core.healthz": PUBLIC,
    # jobs
    "jobs.dead_jobs": roles(ADMIN),
    "jobs.retry_dead": roles(ADMIN),
    # accounts
    "accounts.register": PUBLIC,
    "accounts.register_sent": PUBLIC,
    "accounts.verify_email": PUBLIC,  # the mailed link; confirming asks for the password
    "accounts.resend_verification": SIGNED_IN,
    "accounts.login": PUBLIC,
    "accounts.forgot_password": PUBLIC,
    "accounts.reset_password": PUBLIC,
    "accounts.logout": SIGNED_IN,
    "accounts.account": SIGNED_IN,
    "accounts.change_password": SIGNED_IN,
    "accounts.create_token": SIGNED_IN,
    "accounts.revoke_token": SIGNED_IN,
    "accounts.my_data": SIGNED_IN,
    "accounts.export_data": SIGNED_IN,
    "accounts.delete_account": SIGNED_IN,
    # learn
    "learn.index": PUBLIC,
    "learn.article": PUBLIC,
    "learn.topic": PUBLIC,
    "learn.observances": PUBLIC,
    "learn.observance": PUBLIC,
    # search
    "search.results": PUBLIC,
    # events
    "events.upcoming": PUBLIC,
    "events.month": PUBLIC,
    "events.detail": PUBLIC,
    "events.event_ics": PUBLIC,
    "events.public_feed": PUBLIC,
    "events.personal_feed": PUBLIC,  # the secret token in the address is the key
    "events.sign_up": SIGNED_IN,
    "events.cancel_signup": SIGNED_IN,
    "events.my_events": SIGNED_IN,
    "events.reset_feed": SIGNED_IN,
    "events.my_hours": SIGNED_IN,
    "events.service_record": SIGNED_IN,
    "events.create": EVENT_ORGANIZERS,
    "events.edit": EVENT_ORGANIZERS,
    "events.publish": EVENT_ORGANIZERS,
    "events.cancel": EVENT_ORGANIZERS,
    "events.roster": EVENT_ORGANIZERS,
    "events.roster_csv": EVENT_ORGANIZERS,
    "events.attendance": EVENT_ORGANIZERS,
    "events.mark_attendance": EVENT_ORGANIZERS,
    "events.correct_hours": EVENT_ORGANIZERS,
    # households (a member's own household is found from the signed-in user, never by id)
    "households.mine": SIGNED_IN,
    "households.create": SIGNED_IN,
    "households.join": SIGNED_IN,
    "households.consents": SIGNED_IN,
    "households.reset_invite": SIGNED_IN,
    "households.remove_member": SIGNED_IN,
    "households.pledges": SIGNED_IN,
    "households.report": SIGNED_IN,
    "households.apply": SIGNED_IN,
    "households.certificate": SIGNED_IN,
    "households.wall": PUBLIC,
    "households.verify": PUBLIC,
    "households.manage_list": STAFF,
    "households.manage_detail": STAFF,
    "households.unmask": STAFF,
    "households.review": STAFF,
    "households.decide": STAFF,
    # schools (editor rights are checked per school in the views and services)
    "schools.directory": PUBLIC,
    "schools.school": PUBLIC,
    "schools.feed": PUBLIC,
    "schools.activity": PUBLIC,  # unpublished posts: editors and staff only (in the view)
    "schools.media": PUBLIC,  # the same check, for pictures
    "schools.report": SIGNED_IN,
    "schools.apply": SIGNED_IN,
    "schools.mine": SIGNED_IN,
    "schools.accept_invite": SIGNED_IN,
    "schools.new_activity": SIGNED_IN,
    "schools.edit_activity": SIGNED_IN,
    "schools.submit_activity": SIGNED_IN,
    "schools.editors": SIGNED_IN,
    "schools.remove_editor": SIGNED_IN,
    "schools.manage_schools": STAFF,
    "schools.decide_school": roles(ADMIN),
    "schools.green_status": STAFF,
    "schools.moderation": STAFF,
    "schools.moderate": STAFF,
    # dashboard and open data
    "dashboard.overview": PUBLIC,
    "dashboard.table_csv": PUBLIC,
    "dashboard.staff": STAFF,
    "dashboard.staff_csv": STAFF,
    "dashboard.enter_figure": STAFF,
    "dashboard.open_data": PUBLIC,
    "dashboard.dataset": PUBLIC,
    # -- issue 14: media library (media helper adds its endpoints here)
    "media.file": PUBLIC,  # one size of a library picture (strict name, else 404)
    "media.library": WRITERS,
    "media.new": WRITERS,
    "media.edit": WRITERS,
    "media.delete": WRITERS,
    # -- issue 14: editorial back office (editorial helper)
    "editorial.index": WRITERS,
    "editorial.new": WRITERS,
    "editorial.edit": WRITERS,  # the services decide who may publish
    "editorial.revisions": WRITERS,
    "editorial.revision": WRITERS,
    "editorial.restore": WRITERS,
    "editorial.send_back": STAFF,
    "editorial.unpublish": STAFF,
    "learn.news": PUBLIC,
    "learn.notices": PUBLIC,
    "core.page": PUBLIC,
    # -- issue 14: people (people helper)
    "accounts.people": roles(ADMIN),
    "accounts.person": roles(ADMIN),
    "accounts.person_role": roles(ADMIN),
    "accounts.person_suspend": roles(ADMIN),
    "accounts.person_restore": roles(ADMIN),
    "accounts.person_reset": roles(ADMIN),
    # -- issue 14: inbox and notifications (inbox helper)
    "inbox.notifications": SIGNED_IN,
    "inbox.mark_read": SIGNED_IN,
    "inbox.settings": SIGNED_IN,
    # Writers: editors see the editorial sources only (the view answers 403 to anyone
    # without a source; organizers and admins see the rest).
    "inbox.inbox": WRITERS,
    # -- issue 14: audit log (audit helper)
    "audit.log": roles(ADMIN),
    "audit.export": roles(ADMIN),
    # api
    "api.me": SIGNED_IN,
    "api.search_api": PUBLIC,
    "api.observances": PUBLIC,
    "api.list_events": PUBLIC,
    "api.event": PUBLIC,
    "api.create_event": EVENT_ORGANIZERS,
    "api.signup": SIGNED_IN,
    "api.cancel_signup": SIGNED_IN,
    "api.stats": PUBLIC,
    "api.household": SIGNED_IN,
    "api.create_household": SIGNED_IN,
    "api.household_pledges": SIGNED_IN,
    "api.household_report": SIGNED_IN,
    "api.create_activity": SIGNED_IN,
    "api.get_activity": PUBLIC,
    "api.approve_activity": STAFF,
    "api.reject_activity": STAFF,
    # -- issue 14 api: articles (editorial helper)
    "api.list_articles": WRITERS,
    "api.create_article": WRITERS,  # the services decide who may publish
    "api.get_article": WRITERS,
    "api.update_article": WRITERS,
    "api.delete_article": WRITERS,
    "api.article_revisions": WRITERS,
    "api.restore_revision": WRITERS,
    # -- issue 14 api: users (people helper)
    "api.list_users": roles(ADMIN),
    "api.update_user": roles(ADMIN),
    # -- issue 14 api: inbox and notifications (inbox helper)
    "api.inbox": WRITERS,
    "api.notifications": SIGNED_IN,
    "api.openapi": PUBLIC,
    "api.docs": PUBLIC,
}


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/events?x=1"), else None: nothing with a
    scheme or host, nothing protocol-relative ("//evil.example") or with a backslash."""
    target = target or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not parts.scheme and not parts.netloc:
        return target
    return None


def rule_for(endpoint: str | None) -> Rule | None:
    return ACCESS.get(endpoint) if endpoint else None


def current_principal():
    """The user this request acts for: the bearer-token user in the API, else the session."""
    return g.get("principal")


def can(endpoint: str, user=None) -> bool:
    """For templates: may ``user`` (default: the current one) open ``endpoint``?"""
    rule = rule_for(endpoint)
    return rule is not None and rule.allows(user if user is not None else current_principal())


def enforce_access():
    """``before_request``: apply ``ACCESS`` to the matched endpoint."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handlers answer
        return None
    rule = rule_for(endpoint)
    if rule is None:
        current_app.logger.error("no access rule for endpoint %s: refused", endpoint)
        abort(403)
    user = current_principal()
    if rule.allows(user):
        return None
    if user is None:
        if request.blueprint == "api":
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    abort(403)


CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def security_headers(response):
    """``after_request``: on every response, errors and static files included."""
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("HTTPS"):
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages shown to a signed-in person may hold their data: never store them anywhere.  The
    # media library's files are public pictures under names that never change: cacheable.
    if (current_principal() is not None or g.get("personal_data")) \
            and request.endpoint != "media.file":
        h["Cache-Control"] = "no-store"
        h.add("Vary", "Cookie")
    return response


def init_app(app) -> None:
    app.before_request(enforce_access)
    app.after_request(security_headers)
    app.jinja_env.globals.update(can=can)
