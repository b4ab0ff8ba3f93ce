"""The routes of /api/v1.  Each is declared once (``portal.api.declare.operation``): its
input arrives validated as the models in ``portal.api.schemas`` and its answer is built from
them.  Rule errors of the services become the JSON error shape in ``portal.core.errors``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import abort, current_app, g, jsonify, render_template, request, url_for

from portal import markup
from portal.api import reference
from portal.api import schemas as s
from portal.api.declare import HTML, bp, document, operation, reply
from portal.events import ics
from portal.events import services as events
from portal.events.models import PUBLISHED
from portal.events.models import Event as EventRecord
from portal.extensions import db
from portal.households import services as households
from portal.i18n import current_locale
from portal.learn import services as learn
from portal.learn.observances import occurrence
from portal.paging import keyset_cursor
from portal.rules import RuleError
from portal.schools import services as schools
from portal.schools.models import Activity as ActivityRecord
from portal.schools.models import School
from portal.search import search
from portal.security import current_principal
from portal.site import zone


@bp.before_request
def refuse_bad_tokens():
    # A request that sends a token which is not valid is refused even where none is needed.
    if g.get("bad_token"):
        abort(401)


@operation("get", "/me", id="me", tag="account", ok={200: (s.Me, "The account")})
def me():
    """The account the token belongs to"""
    user = current_principal()
    return reply(s.Me(email=user.email, display_name=user.display_name, role=user.role,
                      locale=user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]))


@operation("get", "/search", id="search", tag="search", token=False,
           ok={200: (s.SearchResults, "A page of results")},
           errors={400: ("A parameter is not valid: the query is too long, the page is not a "
                         "number from 1 to 500, or the kind or language is unknown",
                         "too_long", "bad_page", "bad_kind", "bad_lang")})
def search_api(query: s.SearchQuery):
    """Search the library, observance days, events and school posts

    Any text is safe: there is no query syntax.  Chinese and English can be mixed.  An
    empty query gives no results."""
    page = search(text=query.q, kind=query.kind, lang=query.lang, page=query.page)
    return reply(s.SearchResults(
        query=page.query, total=page.total, page=page.page, pages=page.pages,
        results=[s.SearchHit(kind=h.kind, id=str(h.id), title=h.title, url=h.url,
                             snippet=str(h.snippet), lang=h.lang) for h in page.hits]))


# -- observances and events --------------------------------------------------------------------

@operation("get", "/observances", id="observances", tag="observances", token=False,
           ok={200: (s.Observances, "The observance days")},
           errors={400: ("The year is not a number from 1900 to 2200", "bad_year")})
def observances(query: s.ObservancesQuery):
    """Observance days (environment days) in a year

    Each day or week that falls in the year, in the library's order.  Days whose date is
    not known yet for that year are left out."""
    year, locale = query.year or date.today().year, current_locale()
    days = []
    for obs in learn.observances():
        occ = occurrence(obs, year)
        if occ is not None:
            days.append(s.Observance(slug=obs.slug, name=obs.name(locale), start=occ.start,
                                     end=occ.end, kind=obs.kind, provisional=occ.provisional))
    return reply(s.Observances(days))


def _event(event: EventRecord, taken: dict[str, int] | None = None) -> s.Event:
    """The API's view of an event; ``taken``: its counts when read with its page's."""
    taken = taken or events.counts(event.id)
    return s.Event(id=event.id, title=event.title(current_locale()),
                   starts_at=event.starts_at.astimezone(zone()),
                   ends_at=event.ends_at.astimezone(zone()), place=event.place,
                   district=event.district, capacity=event.capacity,
                   confirmed=taken["confirmed"], waitlisted=taken["waitlisted"],
                   seats_left=max(0, event.capacity - taken["confirmed"]),
                   status=event.status, url=ics.event_url(event))


def _day_start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, datetime.min.time(), zone())


NEXT_LINK = {"Link": {
    "description": 'Only when more events follow: `<address>; rel="next"`, the address '
                   "(relative to this one) of the next answer; it carries the `cursor`.",
    "required": False, "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next"$'}}}


@operation("get", "/events", id="listEvents", tag="events", token=False,
           ok={200: (s.Events, "The events (at most `limit`)", NEXT_LINK)},
           errors={400: ("A parameter is not valid: `limit` is not a number from 1 to 100, "
                         "the `cursor` is not one this API gave, or a day is not a date "
                         "(`bad_query`)", "bad_limit", "bad_cursor")})
def list_events(query: s.EventsQuery):
    """Published events, soonest first

    Events that overlap the days given (site time); either end may be left open.
    Cancelled events are not listed.  An answer holds at most `limit` events (50 unless
    asked); when more follow, the `Link` header (`rel="next"`) gives the address of the
    next answer, with a `cursor`."""
    start, end = _day_start(query.from_), _day_start(query.to)
    if end is not None:
        end += timedelta(days=1)  # "to" is inclusive
    after = keyset_cursor(events.SOONEST, "cursor")  # checked here: the form was, by pydantic
    page = events.page_between(start, end, after, size=query.limit, param="cursor")
    taken = events.counts_for(e.id for e in page.items)
    answer = reply(s.Events([_event(e, taken[e.id]) for e in page.items]))
    if page.next is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        answer.headers["Link"] = f'<{url_for("api.list_events", **args, cursor=page.next)}>; ' \
                                 'rel="next"'
    return answer


def _published_or_404(event_id: int) -> EventRecord:
    event = db.session.get(EventRecord, event_id)
    if event is None or event.status not in (PUBLISHED, "cancelled"):
        abort(404)
    return event


@operation("get", "/events/<int:event_id>", id="getEvent", tag="events", token=False,
           ok={200: (s.Event, "The event")},
           errors={404: ("No such published (or cancelled) event", "not_found")})
def event(path: s.EventPath, query: s.LangQuery):
    """One event

    Published and cancelled events; drafts are not found."""
    return reply(_event(_published_or_404(path.event_id)))


def _when(value: datetime | None) -> datetime | None:
    """A time without an offset is in the site's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone())


@operation("post", "/events", id="createEvent", tag="events", roles=True,
           ok={201: (s.Event, "The event, created and published")},
           errors={422: ("Some fields are not valid; `error.fields` names them (`title`, "
                         "`starts_at`, `ends_at`, `signup_deadline`, `place`, `district`, "
                         "`capacity`, `min_age`, `observance_slug`, …) (`invalid`), or a "
                         "description is Markdown too complex to render in time "
                         "(`markdown_too_complex`, naming it)", "invalid",
                         "markdown_too_complex")})
def create_event(body: s.EventInput):
    """Create and publish an event

    For city staff (organizer, admin) and verified schools' editors (role school)."""
    data = events.EventInput(
        title_zh=body.title_zh or body.title or "", title_en=body.title_en or "",
        description_zh=body.description or body.description_zh or "",
        description_en=body.description_en or "",
        starts_at=_when(body.starts_at), ends_at=_when(body.ends_at),
        signup_deadline=_when(body.signup_deadline), place=body.place,
        district=body.district, capacity=body.capacity,
        observance_slug=body.observance or None, min_age=body.min_age, notes=body.notes or "")
    try:
        created = events.create_event(current_principal(), data, publish=True)
    except RuleError as err:  # the API calls the Chinese title plain "title"
        renamed = {"title_zh": "title"}
        if body.description:  # and the Chinese description "description", when sent so
            renamed["description_zh"] = "description"
        err.fields = {renamed.get(k, k): v for k, v in err.fields.items()}
        raise
    return reply(_event(created), 201)


@operation("post", "/events/<int:event_id>/signup", id="signUp", tag="events",
           ok={200: (s.Signup, "Already signed up: unchanged"), 201: (s.Signup, "Signed up")},
           errors={403: ("The caller has not confirmed their e-mail address yet",
                         "unverified"),
                   404: ("No such published event", "not_found"),
                   409: ("The event is cancelled or its sign-ups have closed", "cancelled",
                         "closed")})
def signup(path: s.EventPath):
    """Sign up for an event

    A place while places remain and nobody waits, else a place on the waiting list.
    Signing up again changes nothing (200)."""
    result = events.sign_up(current_principal(), path.event_id)
    answer = s.Signup(status=result.status)
    if result.position is not None:
        answer.position = result.position
    return reply(answer, 201 if result.changed else 200)


@operation("delete", "/events/<int:event_id>/signup", id="cancelSignup", tag="events",
           ok={200: (s.SignupCancelled, "Cancelled")},
           errors={404: ("No such event", "not_found"),
                   409: ("Not signed up, or the event has started", "not_signed_up",
                         "started")})
def cancel_signup(path: s.EventPath):
    """Give up a place (or a place on the waiting list)

    The first person waiting moves up."""
    events.cancel_signup(current_principal(), path.event_id)
    return reply(s.SignupCancelled(status="cancelled"))


# -- households ------------------------------------------------------------------------------

def _report(row) -> s.MonthlyReport:
    return s.MonthlyReport(month=row.month, kept=row.kept, kept_rate=round(row.rate, 3))


def _household(household) -> s.Household:
    progress = households.progress(household)
    return s.Household(
        id=household.id, name=household.name, district=household.district,
        members=household.members_count, status=household.status,
        pledges=[p.code for p in household.pledges],
        reports=[_report(r) for r in household.reports], streak=progress.streak,
        estimated_co2_kg=float(progress.savings_kg))


def _my_household():
    household = households.household_of(current_principal())
    if household is None:
        abort(404)
    return household


HOUSEHOLD_404 = ("The caller does not belong to a household", "not_found")


@operation("get", "/stats", id="stats", tag="households", token=False,
           ok={200: (s.Stats, "The figures")})
def stats():
    """City-wide figures"""
    return reply(s.Stats(**households.stats()))


@operation("get", "/household", id="getHousehold", tag="households",
           ok={200: (s.Household, "The household")}, errors={404: HOUSEHOLD_404})
def household():
    """The caller's household"""
    return reply(_household(_my_household()))


@operation("post", "/household", id="createHousehold", tag="households",
           ok={201: (s.Household, "The household")},
           errors={409: ("The caller already belongs to a household", "exists"),
                   422: ("Some fields are not valid; `error.fields` names them (`name`, "
                         "`district`, `members`, `town`, `phone`)", "invalid")})
def create_household(body: s.HouseholdInput):
    """Register a household (the caller becomes its owner)"""
    created = households.register(current_principal(), households.HouseholdInput(
        name=body.name, district=body.district, town=body.town, members=body.members,
        phone=body.phone))
    return reply(_household(created), 201)


@operation("put", "/household/pledges", id="setPledges", tag="households",
           ok={200: (s.Household, "The household")},
           errors={404: HOUSEHOLD_404,
                   422: ("The body is not `{\"codes\": [strings]}` (`invalid`), or names "
                         "unknown pledges (`unknown_pledge`, `error.fields.codes`)",
                         "invalid", "unknown_pledge")})
def household_pledges(body: s.PledgesInput):
    """Replace the household's pledges"""
    household = _my_household()
    households.set_pledges(household, body.codes)
    return reply(_household(household))


@operation("post", "/household/reports", id="reportMonth", tag="households",
           ok={201: (s.MonthlyReport, "The month's report")},
           errors={404: HOUSEHOLD_404,
                   409: ("The household has no pledges yet", "no_pledges"),
                   422: ("`kept` is not a list of strings or the month is not YYYY-MM "
                         "(`invalid`), the month is not open (`month_not_open`), or a kept "
                         "code is not pledged (`not_pledged`)",
                         "invalid", "bad_month", "month_not_open", "not_pledged")})
def household_report(body: s.ReportInput):
    """Report which pledges the household kept in a month

    The current and the previous month (site time) can be reported; reporting a month
    again replaces the report."""
    household = _my_household()
    return reply(_report(households.report(household, body.month, body.kept)), 201)


# -- school activities -------------------------------------------------------------------------

def _activity(post) -> s.Activity:
    when = post.activity_date or post.draft_date
    return s.Activity(id=post.id, school=post.school.slug, title=post.title or post.draft_title,
                      html=str(post.shown_html()),  # stored when saved, never rendered here
                      activity_date=when, status=post.status, url=f"/activities/{post.id}")


ACTIVITY_404 = ("No such post", "not_found")


@operation("post", "/schools/<slug>/activities", id="createActivity", tag="schools",
           ok={201: (s.ActivitySubmitted, "Saved and submitted for review")},
           errors={403: ("The caller is not an editor of this (verified) school, or has not "
                         "confirmed their e-mail address yet", "forbidden", "unverified"),
                   404: ("No such school", "not_found"),
                   422: ("Some fields are not valid; `error.fields` names them (`title`, "
                         "`body`, `activity_date`, `topics`) (`invalid`), or the body is "
                         "Markdown too complex to render in time (`markdown_too_complex`)",
                         "invalid", "markdown_too_complex")})
def create_activity(path: s.SchoolPath, body: s.ActivityInput):
    """Post a school activity for review

    For editors of a verified school.  The post is saved and submitted for review by city
    staff at once.  **Posting via the API is the editor's confirmation that no pupil can be
    identified without a guardian's consent** (the confirmation the web form asks for)."""
    school = db.session.scalar(db.select(School).where(School.slug == path.slug))
    if school is None:
        abort(404)
    user = current_principal()
    if not schools.is_editor(user, school):
        abort(403)
    post = schools.save_activity(user, school, schools.ActivityInput(
        body.title, body.body, body.activity_date, body.topics))
    # Posting through the API is the editor's confirmation that no pupil can be identified
    # without a guardian's consent (documented above).
    post = schools.submit(user, post.id, consent=True)
    return reply(s.ActivitySubmitted(id=post.id, status="submitted"), 201)


@operation("get", "/activities/<int:activity_id>", id="getActivity", tag="schools",
           token=False, ok={200: (s.Activity, "The post")}, errors={404: ACTIVITY_404})
def get_activity(path: s.ActivityPath):
    """One activity post

    Published posts for everyone; others for the school's editors and city staff only (not
    found for anyone else)."""
    post = db.session.get(ActivityRecord, path.activity_id)
    if post is None or not schools.can_view(current_principal(), post):
        abort(404)
    return reply(_activity(post))


@operation("post", "/activities/<int:activity_id>/approve", id="approveActivity",
           tag="schools", roles=True, ok={200: (s.Activity, "The post, published")},
           errors={404: ACTIVITY_404,
                   409: ("Nothing is waiting for review in this post", "not_submitted")})
def approve_activity(path: s.ActivityPath):
    """Publish the version waiting for review (city staff)"""
    return reply(_activity(schools.approve(path.activity_id, current_principal())))


@operation("post", "/activities/<int:activity_id>/reject", id="rejectActivity",
           tag="schools", roles=True, ok={200: (s.Activity, "The post")},
           errors={404: ACTIVITY_404,
                   409: ("Nothing is waiting for review in this post", "not_submitted"),
                   422: ("No reason was given (`error.fields.reason`)", "invalid",
                         "reason_required")})
def reject_activity(path: s.ActivityPath, body: s.RejectInput):
    """Send the version waiting for review back to the school (city staff)"""
    post = schools.reject(path.activity_id, current_principal(), body.reason)
    return reply(_activity(post))


# -- the API described ---------------------------------------------------------------------------

@operation("get", "/openapi.json", id="openapi", tag="meta", token=False,
           ok={200: (s.Document, "The OpenAPI document")})
def openapi():
    """This description (OpenAPI 3.1)"""
    return jsonify(document())


@operation("get", "/docs", id="docs", tag="meta", token=False,
           ok={200: (HTML, "An HTML page")})
def docs():
    """This description as a web page"""
    return render_template("api/docs.html", **_reference())


def _reference() -> dict:
    """The description's parts for the page, rendered from Markdown once per application (our
    own text, but still not rendered per view)."""
    cached = current_app.extensions.get("api_reference")
    if cached is None:
        doc = document()
        found = reference.schemas(doc)
        cached = current_app.extensions["api_reference"] = {
            "info": doc["info"], "version": doc["openapi"],
            "intro": markup.render(doc["info"]["description"]),
            "operations": reference.operations(doc), "schemas": found,
            "schema_names": {item["name"] for item in found}}
    return cached
