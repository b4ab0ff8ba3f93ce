from flask import abort, current_app, g, jsonify, request

from portal.api import bp
from portal.core.errors import json_error
from portal.i18n import _, current_locale
from portal.rules import RuleError
from portal.search import QueryError, search
from portal.search.views import ERRORS, parse_args
from portal.security import current_principal


@bp.before_request
def refuse_bad_tokens():
    # A request that sends a token which is not valid is refused even where none is needed.
    if g.get("bad_token"):
        abort(401)


@bp.get("/me")
def me():
    user = current_principal()
    return jsonify(email=user.email, display_name=user.display_name, role=user.role,
                   locale=user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])


@bp.get("/search")
def search_api():
    try:
        page = search(**parse_args(request.args, lang_key="lang"))
    except QueryError as err:
        return json_error(400, ERRORS[err.code](), code=err.code)
    return jsonify(query=page.query, total=page.total, page=page.page, pages=page.pages,
                   results=[{"kind": h.kind, "id": h.id, "title": h.title, "url": h.url,
                             "snippet": str(h.snippet), "lang": h.lang} for h in page.hits])


# -- observances and events --------------------------------------------------------------------

def _iso(value) -> str:
    from portal.site import zone

    return value.astimezone(zone()).isoformat()


@bp.get("/observances")
def observances():
    from datetime import date

    from portal.learn import services as learn
    from portal.learn.observances import occurrence

    raw = request.args.get("year") or str(date.today().year)
    if not (raw.isascii() and raw.isdecimal()) or not 1900 <= int(raw) <= 2200:
        return json_error(400, _("Give a year between 1900 and 2200."), code="bad_year")
    year, locale = int(raw), current_locale()
    out = []
    for obs in learn.observances():
        occ = occurrence(obs, year)
        if occ is not None:
            out.append({"slug": obs.slug, "name": obs.name(locale), "start": occ.start.isoformat(),
                        "end": occ.end.isoformat(), "kind": obs.kind,
                        "provisional": occ.provisional})
    return jsonify(out)


def _event_json(event) -> dict:
    from portal.events import ics
    from portal.events.services import counts

    taken = counts(event.id)
    return {"id": event.id, "title": event.title(current_locale()),
            "starts_at": _iso(event.starts_at), "ends_at": _iso(event.ends_at),
            "place": event.place, "district": event.district, "capacity": event.capacity,
            "confirmed": taken["confirmed"], "waitlisted": taken["waitlisted"],
            "seats_left": max(0, event.capacity - taken["confirmed"]),
            "status": event.status, "url": ics.event_url(event)}


def _parse_day(name: str):
    from datetime import date, datetime

    from portal.site import zone

    raw = request.args.get(name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not 1900 <= day.year <= 2200:
        abort(400)
    return datetime.combine(day, datetime.min.time(), zone())


@bp.get("/events")
def events():
    from datetime import timedelta

    from portal.events.services import published_between

    start, end = _parse_day("from"), _parse_day("to")
    if end is not None:
        end += timedelta(days=1)  # "to" is inclusive
    return jsonify([_event_json(e) for e in published_between(start, end)])


def _published_or_404(event_id: int):
    from portal.events.models import PUBLISHED, Event
    from portal.extensions import db

    event = db.session.get(Event, event_id)
    if event is None or (event.status not in (PUBLISHED, "cancelled")):
        abort(404)
    return event


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    return jsonify(_event_json(_published_or_404(event_id)))


def _parse_when(value, name: str, errors: dict):
    from datetime import datetime

    from portal.site import zone

    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        errors[name] = _("Use ISO 8601, e.g. 2027-06-05T09:00:00+08:00.")
        return None
    return when.replace(tzinfo=zone()) if when.tzinfo is None else when


@bp.post("/events")
def create_event():
    from portal.events import services

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, _("Send a JSON object."), code="bad_json")
    errors: dict[str, str] = {}

    def text(name, limit=2000):
        value = body.get(name, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            errors[name] = _("Must be text.")
            return ""
        return value[:limit]

    def integer(name):
        value = body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = _("Must be a whole number.")
            return None
        return value

    title = text("title", 200)
    data = services.EventInput(
        title_zh=text("title_zh", 200) or title, title_en=text("title_en", 200),
        description_zh=text("description", 20000) or text("description_zh", 20000),
        description_en=text("description_en", 20000),
        starts_at=_parse_when(body.get("starts_at"), "starts_at", errors),
        ends_at=_parse_when(body.get("ends_at"), "ends_at", errors),
        signup_deadline=_parse_when(body.get("signup_deadline"), "signup_deadline", errors),
        place=text("place", 200), district=text("district", 64),
        capacity=integer("capacity"), observance_slug=text("observance", 64) or None,
        min_age=integer("min_age"), notes=text("notes"), errors=dict(errors))
    try:
        created = services.create_event(current_principal(), data, publish=True)
    except RuleError as err:  # the API calls the Chinese title plain "title"
        err.fields = {k.replace("title_zh", "title"): v for k, v in err.fields.items()}
        raise
    return jsonify(_event_json(created)), 201


@bp.post("/events/<int:event_id>/signup")
def signup(event_id: int):
    from portal.events import services

    result = services.sign_up(current_principal(), event_id)
    body = {"status": result.status}
    if result.position is not None:
        body["position"] = result.position
    return jsonify(body), 201 if result.changed else 200


@bp.delete("/events/<int:event_id>/signup")
def cancel_signup(event_id: int):
    from portal.events import services

    services.cancel_signup(current_principal(), event_id)
    return jsonify({"status": "cancelled"})


# -- households ------------------------------------------------------------------------------

def _household_json(household) -> dict:
    from portal.households import services as hh

    progress = hh.progress(household)
    return {"id": household.id, "name": household.name, "district": household.district,
            "members": household.members_count, "status": household.status,
            "pledges": [p.code for p in household.pledges],
            "reports": [{"month": r.month, "kept": r.kept, "kept_rate": round(r.rate, 3)}
                        for r in household.reports],
            "streak": progress.streak, "estimated_co2_kg": float(progress.savings_kg)}


def _my_household():
    from portal.households import services as hh

    household = hh.household_of(current_principal())
    if household is None:
        abort(404)
    return household


@bp.get("/stats")
def stats():
    from portal.households import services as hh

    return jsonify(hh.stats())


@bp.get("/household")
def household():
    return jsonify(_household_json(_my_household()))


@bp.post("/household")
def create_household():
    from portal.households import services as hh

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, _("Send a JSON object."), code="bad_json")
    members = body.get("members", 1)
    if isinstance(members, bool) or not isinstance(members, int):
        members = None
    data = hh.HouseholdInput(name=str(body.get("name") or ""),
                             district=str(body.get("district") or ""),
                             town=str(body.get("town") or ""), members=members,
                             phone=body.get("phone") if isinstance(body.get("phone"), str)
                             else None)
    created = hh.register(current_principal(), data)
    return jsonify(_household_json(created)), 201


@bp.put("/household/pledges")
def household_pledges():
    from portal.households import services as hh

    household = _my_household()
    body = request.get_json(silent=True)
    codes = body.get("codes") if isinstance(body, dict) else None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return json_error(422, _("Send {\"codes\": [...]}."), code="invalid")
    hh.set_pledges(household, codes)
    return jsonify(_household_json(household))


@bp.post("/household/reports")
def household_report():
    from portal.households import services as hh

    household = _my_household()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, _("Send a JSON object."), code="bad_json")
    kept = body.get("kept", [])
    if not isinstance(kept, list) or not all(isinstance(c, str) for c in kept):
        return json_error(422, _("Send {\"month\": \"YYYY-MM\", \"kept\": [...]}."),
                          code="invalid")
    row = hh.report(household, str(body.get("month") or ""), kept)
    return jsonify({"month": row.month, "kept": row.kept, "kept_rate": round(row.rate, 3)}), 201


# -- school activities -------------------------------------------------------------------------

def _activity_json(post) -> dict:
    from portal import markup

    return {"id": post.id, "school": post.school.slug, "title": post.title or post.draft_title,
            "html": str(markup.render(post.body if post.public else post.draft_body)),
            "activity_date": (post.activity_date or post.draft_date).isoformat()
            if (post.activity_date or post.draft_date) else None,
            "status": post.status, "url": f"/activities/{post.id}"}


@bp.post("/schools/<slug>/activities")
def create_activity(slug: str):
    from datetime import date

    from portal.extensions import db
    from portal.schools import services as schools
    from portal.schools.models import School

    school = db.session.scalar(db.select(School).where(School.slug == slug))
    if school is None:
        abort(404)
    user = current_principal()
    if not schools.is_editor(user, school):
        return json_error(403, _("You are not an editor of this school."), code="forbidden")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, _("Send a JSON object."), code="bad_json")
    try:
        when = date.fromisoformat(str(body.get("activity_date") or ""))
    except ValueError:
        when = None
    topics = body.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        topics = ["?"]
    post = schools.save_activity(user, school, schools.ActivityInput(
        str(body.get("title") or ""), str(body.get("body") or ""), when, topics))
    # Posting through the API is the editor's confirmation that no pupil can be identified
    # without a guardian's consent (documented in the API description).
    post = schools.submit(user, post.id, consent=True)
    return jsonify({"id": post.id, "status": "submitted"}), 201


@bp.get("/activities/<int:activity_id>")
def get_activity(activity_id: int):
    from portal.extensions import db
    from portal.schools import services as schools
    from portal.schools.models import Activity

    post = db.session.get(Activity, activity_id)
    if post is None or not schools.can_view(current_principal(), post):
        abort(404)
    return jsonify(_activity_json(post))


def _moderate(activity_id: int, approve: bool):
    from portal.schools import services as schools

    body = request.get_json(silent=True) or {}
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    if approve:
        post = schools.approve(activity_id, current_principal())
    else:
        post = schools.reject(activity_id, current_principal(), str(reason or ""))
    return jsonify(_activity_json(post))


@bp.post("/activities/<int:activity_id>/approve")
def approve_activity(activity_id: int):
    return _moderate(activity_id, True)


@bp.post("/activities/<int:activity_id>/reject")
def reject_activity(activity_id: int):
    return _moderate(activity_id, False)


# -- the API described ---------------------------------------------------------------------------

# The blueprint is declared without a template folder; its one page (the docs) lives in
# portal/api/templates/api/.  Set before any template is looked up (Flask reads it lazily).


@bp.get("/openapi.json")
def openapi():
    from portal.api.openapi import spec

    return jsonify(spec())


@bp.get("/docs")
def docs():
    from flask import render_template

    from portal.api import openapi as described

    document = described.spec()
    schemas = described.schema_reference(document)
    return render_template("api/docs.html", info=document["info"], version=document["openapi"],
                           intro=described.paragraphs(document["info"]["description"]),
                           operations=described.reference(document), schemas=schemas,
                           schema_names={s["name"] for s in schemas})
