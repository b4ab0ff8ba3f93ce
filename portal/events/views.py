from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from portal import csvexport, links
from portal.events import calendar, cli, ics, search, services
from portal.events.forms import EventForm, HoursForm
from portal.events.models import CONFIRMED, PUBLISHED, WAITLISTED, Event
from portal.extensions import db
from portal.i18n import _, current_locale, format_date, format_time
from portal.learn import services as learn
from portal.paging import keyset_cursor
from portal.rules import RuleError
from portal.security import can
from portal.site import site, zone

bp = Blueprint("events", __name__, template_folder="templates")


def init_app(app) -> None:
    app.config.setdefault("EVENTS_SIGNUP_LOCKING", True)
    search.register()
    services.register_personal_data()
    app.register_blueprint(bp)
    app.cli.add_command(cli.events_cli)


def _event_or_404(event_id: int, public: bool = True) -> Event:
    """``public``: anyone may see it once published (drafts only its organizers);
    otherwise only its organizers may (staff, or the school editor who created it)."""
    event = db.get_or_404(Event, event_id)
    manager = services.can_manage(g.principal, event)
    if public and event.status != PUBLISHED and not manager:
        abort(404)  # cancelled events stay visible; drafts are for their organizers
    if not public and not manager:
        abort(403)
    return event


def _filters():
    district = request.args.get("district") or None
    if district and site().division(district) is None:
        district = None
    observance = request.args.get("observance") or None
    if observance and learn.observance(observance) is None:
        observance = None
    return district, observance


@bp.route("/events")
def upcoming():
    district, observance = _filters()
    page = services.page_between(datetime.now(zone()), None, keyset_cursor(services.SOONEST),
                                 district, observance)
    return render_template("events/upcoming.html", page=page, district=district,
                           observance=observance, observances=learn.observances())


@bp.route("/events/calendar")
def month():
    today = datetime.now(zone()).date()
    try:
        year = int(request.args.get("year", today.year))
        month_no = int(request.args.get("month", today.month))
        date(year, month_no, 1)
        if not 1970 <= year <= 2100:
            raise ValueError
    except ValueError:
        abort(400)
    district, observance = _filters()
    first = date(year, month_no, 1)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    weeks, more = calendar.month(year, month_no, district, observance)
    return render_template("events/month.html", weeks=weeks, more=more, first=first,
                           previous=previous, following=following, today=today,
                           district=district, observance=observance,
                           observances=learn.observances())


@bp.route("/events/<int:event_id>")
def detail(event_id: int):
    event = _event_or_404(event_id)
    description, description_lang = event.description_html()  # stored: never rendered here
    mine = services.signup_of(g.principal, event.id) if g.principal else None
    return render_template("events/detail.html", event=event, description=description,
                           description_lang=description_lang, counts=services.counts(event.id),
                           mine=mine, position=services.position(mine) if mine else None,
                           manage=services.can_manage(g.principal, event),
                           now=datetime.now(zone()),
                           observance=learn.observance(event.observance_slug)
                           if event.observance_slug else None)


NO_STORE = "no-store, private"  # answers that carry a secret address


def _ics_response(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'inline; filename="{filename}"'})


@bp.route("/events/<int:event_id>.ics")
def event_ics(event_id: int):
    event = _event_or_404(event_id)
    return _ics_response(ics.single(event, current_locale()), f"event-{event.id}.ics")


def _feed_years() -> range:
    year = datetime.now(zone()).year
    return range(year - 1, year + 2)


#: The public feed: events that ended at most this long ago, and at most this many.
FEED_PAST, FEED_MAX = timedelta(days=30), 200


@bp.route("/calendar.ics")
def public_feed():
    # The events of the last FEED_PAST and those to come, soonest first, at most FEED_MAX:
    # the feed does not grow with every event ever held (a subscribed calendar keeps what it
    # has seen; the event pages and the list hold the rest).
    since = datetime.now(zone()) - FEED_PAST
    events = services.published_between(since, None, with_cancelled=True, limit=FEED_MAX)
    name = site().text(site().name)
    return _ics_response(ics.feed(events, current_locale(), name, _feed_years()),
                         "calendar.ics")


@bp.route("/calendar/<token>.ics")
def personal_feed(token: str):
    user = services.user_for_feed(token)
    if user is None:
        abort(404)
    events = [s.event for s in services.my_signups(user)]
    answer = _ics_response(ics.feed(events, user.locale or current_locale(),
                                    _("My events") + " · " + site().text(site().name), None),
                           "my-events.ics")
    answer.headers["Cache-Control"] = NO_STORE  # one person's events: no shared cache keeps it
    return answer


@bp.route("/events/<int:event_id>/signup", methods=["POST"])
def sign_up(event_id: int):
    try:
        result = services.sign_up(g.principal, event_id)
    except RuleError as err:
        flash(err.message, "error")
        return redirect(url_for("events.detail", event_id=event_id))
    if not result.changed:
        flash(_("You are already signed up; nothing has changed."), "success")
    elif result.status == CONFIRMED:
        flash(_("You have a place. We have sent you a confirmation."), "success")
    else:
        flash(_("The event is full: you are number %(n)d on the waiting list.",
                n=result.position), "success")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.route("/events/<int:event_id>/cancel-signup", methods=["POST"])
def cancel_signup(event_id: int):
    try:
        services.cancel_signup(g.principal, event_id)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("Your sign-up has been cancelled."), "success")
    return redirect(url_for("events.detail", event_id=event_id))


def _my_events_page(new_token: str | None = None):
    now = datetime.now(zone())
    coming = services.my_coming(g.principal, now, keyset_cursor(services.MY_ORDER))
    past = services.my_past(g.principal, now, keyset_cursor(services.MY_ORDER, "earlier"))
    return render_template("events/my_events.html", now=now, upcoming=coming, past=past,
                           positions=services.positions(coming.items + past.items),
                           feed_made_at=services.feed_made_at(g.principal),
                           feed_url=links.absolute("events.personal_feed", token=new_token)
                           if new_token else None)


@bp.route("/my/events", methods=["GET"])
def my_events():
    return _my_events_page()


@bp.route("/my/events/feed", methods=["POST"])
def reset_feed():
    """Make (or replace) the calendar address and show it in this answer, the only time it
    can be shown: the database keeps its hash (docs/DESIGN.md, "Secret tokens")."""
    had_one = services.feed_made_at(g.principal) is not None
    token = services.new_feed_token(g.principal)
    flash(_("Your calendar address has been changed; the old one no longer works.")
          if had_one else _("Your calendar address is ready."), "success")
    return _my_events_page(token)  # signed in: security_headers makes it no-store


@bp.route("/my/hours")
def my_hours():
    page = services.my_hours_page(g.principal, keyset_cursor(services.MY_ORDER))
    return render_template("events/my_hours.html", page=page,
                           total=services.hours_total(g.principal))


@bp.route("/my/hours/record")
def service_record():
    rows, total = services.my_hours(g.principal)
    return render_template("events/service_record.html", rows=rows, total=total,
                           today=datetime.now(zone()).date())


# -- staff ----------------------------------------------------------------------------------

def _event_form() -> EventForm:
    form = EventForm(observances=learn.observances())
    if not can("media.library"):  # e.g. school editors: no cover picker (issue 14)
        del form.cover
    return form


@bp.route("/events/new", methods=["GET", "POST"])
def create():
    form = _event_form()
    if form.validate_on_submit():
        try:
            event = services.create_event(g.principal, form.to_input(),
                                          publish=request.form.get("publish") == "1")
        except RuleError as err:
            form.add_errors(err.fields)
        else:
            flash(_("The event has been saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/edit.html", form=form, event=None), \
        400 if form.errors else 200


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit(event_id: int):
    event = _event_or_404(event_id, public=False)
    form = _event_form()
    if request.method == "GET":
        form.fill_from(event)
    elif form.validate_on_submit():
        try:
            services.update_event(event.id, form.to_input())
        except RuleError as err:
            if err.fields:
                form.add_errors(err.fields)
            else:
                flash(err.message, "error")
        else:
            flash(_("The event has been saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/edit.html", form=form, event=event), \
        400 if form.errors else 200


@bp.route("/events/<int:event_id>/publish", methods=["POST"])
def publish(event_id: int):
    _event_or_404(event_id, public=False)
    try:
        services.publish(event_id, by=g.principal)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("The event is published."), "success")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.route("/events/<int:event_id>/cancel", methods=["POST"])
def cancel(event_id: int):
    _event_or_404(event_id, public=False)
    try:
        services.cancel_event(event_id, by=g.principal)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("The event is cancelled and everyone signed up has been told."), "success")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.route("/events/<int:event_id>/roster")
def roster(event_id: int):
    event = _event_or_404(event_id, public=False)
    g.personal_data = True
    page = services.roster_page(event.id, keyset_cursor(services.ROSTER))
    return render_template("events/roster.html", event=event, page=page,
                           counts=services.counts(event.id))


@bp.route("/events/<int:event_id>/roster.csv")
def roster_csv(event_id: int):
    event = _event_or_404(event_id, public=False)
    g.personal_data = True
    header = [_("Name"), _("E-mail address"), _("Status"), _("Signed up"), _("Checked in"),
              _("Checked out"), _("Hours")]
    rows = [[s.user.display_name if s.user else _("(deleted account)"),
             mask_email(s.user.email) if s.user else "", status_label(s.status),
             s.created_at.isoformat(), _iso(s.checked_in_at), _iso(s.checked_out_at),
             s.hours if s.hours is not None else ""] for s in services.roster(event.id)]
    return csvexport.response(f"event-{event.id}-roster", header, rows)


def _iso(value):
    return value.astimezone(zone()).isoformat() if value else ""


@bp.route("/events/<int:event_id>/attendance", methods=["GET"])
def attendance(event_id: int):
    event = _event_or_404(event_id, public=False)
    g.personal_data = True
    page = services.attendance_page(event.id, keyset_cursor(services.QUEUE))
    return render_template("events/attendance.html", event=event, page=page,
                           hours_form=HoursForm())


@bp.route("/events/<int:event_id>/attendance/<int:signup_id>/<action>", methods=["POST"])
def mark_attendance(event_id: int, signup_id: int, action: str):
    _event_or_404(event_id, public=False)
    try:
        if action == "in":
            services.check_in(event_id, signup_id)
        elif action == "out":
            services.check_out(event_id, signup_id)
        else:
            abort(404)
    except RuleError as err:
        flash(err.message, "error")
    return _back_to_attendance(event_id, signup_id)


def _back_to_attendance(event_id: int, signup_id: int):
    """The attendance page the form was on (its ``?after=`` travels with the form's
    address), at the row."""
    after = request.args.get("after") or None
    return redirect(url_for("events.attendance", event_id=event_id, after=after)
                    + f"#signup-{signup_id}")


@bp.route("/events/<int:event_id>/attendance/<int:signup_id>/hours", methods=["POST"])
def correct_hours(event_id: int, signup_id: int):
    _event_or_404(event_id, public=False)
    form = HoursForm()
    if form.validate_on_submit():
        try:
            services.correct_hours(event_id, signup_id, form.hours.data, form.reason.data,
                                   g.principal)
        except RuleError as err:
            flash(err.message, "error")
        else:
            flash(_("The hours have been corrected; the reason is kept."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return _back_to_attendance(event_id, signup_id)


# -- template helpers --------------------------------------------------------------------------

def status_label(status: str) -> str:
    return {CONFIRMED: _("confirmed"), WAITLISTED: _("waiting list"),
            "cancelled": _("cancelled"), "draft": _("draft"), "published": _("published")
            }.get(status, status)


def mask_email(email: str) -> str:
    name, _sep, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


@bp.app_template_global()
def district_label(code: str) -> str:
    division = site().division(code)
    return division.label() if division else code


@bp.app_template_global()
def when(event) -> str:
    """'2027年6月5日星期六 09:00–12:00' (the end's date too when it is another day)."""
    tz = zone()
    start, end = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    first = f"{format_date(start, 'full')} {format_time(start, 'short')}"
    if start.date() == end.date():
        return f"{first}–{format_time(end, 'short')}"
    return f"{first} – {format_date(end, 'full')} {format_time(end, 'short')}"


@bp.app_template_global()
def event_link(event) -> str:
    return ics.event_url(event)


bp.add_app_template_global(status_label, "status_label")
bp.add_app_template_global(mask_email, "mask_email")
