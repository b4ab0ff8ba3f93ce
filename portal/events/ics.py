"""iCalendar files: one event, the public calendar, a person's own feed."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, has_request_context, url_for
from icalendar import Calendar
from icalendar import Event as VEvent

from portal.events.models import CANCELLED, Event
from portal.i18n import _
from portal.site import zone


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Green Jiaxing//portal//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(zone()))
    return cal


def event_url(event: Event) -> str:
    if has_request_context():
        return url_for("events.detail", event_id=event.id, _external=True)
    base = (current_app.config.get("BASE_URL") or "http://localhost:5000").rstrip("/")
    return f"{base}/events/{event.id}"


def uid(kind: str, ident: str) -> str:
    return f"{kind}-{ident}@{current_app.config.get('CALENDAR_UID_DOMAIN', 'green-jiaxing')}"


def event_component(event: Event, locale: str) -> VEvent:
    from portal.site import site

    tz = zone()
    item = VEvent()
    item.add("uid", uid("event", str(event.id)))
    item.add("dtstamp", event.updated_at)
    item.add("last-modified", event.updated_at)
    item.add("dtstart", event.starts_at.astimezone(tz))
    item.add("dtend", event.ends_at.astimezone(tz))
    item.add("summary", event.title(locale))
    division = site().division(event.district)
    item.add("location", f"{event.place}, {division.label(locale)}" if division else event.place)
    text, _lang = event.description(locale)
    item.add("description", text)
    item.add("url", event_url(event))
    if event.status == CANCELLED:
        item.add("status", "CANCELLED")
    else:
        item.add("status", "CONFIRMED")
    return item


def observance_components(locale: str, years: range):
    from portal.learn import services as learn
    from portal.learn.observances import occurrence

    for obs in learn.observances():
        for year in years:
            occ = occurrence(obs, year)
            if occ is None:
                continue
            item = VEvent()
            item.add("uid", uid("observance", f"{obs.slug}-{year}"))
            item.add("dtstamp", date(year, 1, 1))
            item.add("dtstart", occ.start)  # all-day: VALUE=DATE
            item.add("dtend", occ.end + timedelta(days=1))  # DTEND is the day after
            name = obs.name(locale)
            item.add("summary", f"{name} ({_('provisional')})" if occ.provisional else name)
            item.add("description", obs.text("about", locale))
            item.add("transp", "TRANSPARENT")
            item.add("categories", [_("Observance days")])
            yield item


def to_bytes(cal: Calendar) -> bytes:
    cal.add_missing_timezones()
    return cal.to_ical()


def single(event: Event, locale: str, method: str | None = None) -> bytes:
    cal = _calendar(event.title(locale))
    if method:
        cal.add("method", method)
    cal.add_component(event_component(event, locale))
    return to_bytes(cal)


def feed(events: list[Event], locale: str, name: str, observance_years: range | None) -> bytes:
    cal = _calendar(name)
    for event in events:
        cal.add_component(event_component(event, locale))
    if observance_years is not None:
        for item in observance_components(locale, observance_years):
            cal.add_component(item)
    return to_bytes(cal)
