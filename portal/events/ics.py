"""iCalendar files: one event, the public calendar, a person's own feed.

RFC 5545: ``DTSTAMP`` is a UTC date-time, ``SEQUENCE`` grows with every change calendars must
pick up; RFC 5546: a ``METHOD:CANCEL`` names its ``ORGANIZER``.  The VTIMEZONE of a zone is
built once per process (icalendar takes ~40 ms to build one) and reused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache

from flask import current_app
from icalendar import Calendar, Timezone, vCalAddress
from icalendar import Event as VEvent

from portal import links
from portal.events.models import CANCELLED, Event
from portal.i18n import _
from portal.learn import services as learn
from portal.learn.observances import occurrence
from portal.site import site, zone


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Green Jiaxing//portal//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # icalendar writes X- properties as they are: a line break would end the content line.
    cal.add("x-wr-calname", " ".join(str(name).split()))
    cal.add("x-wr-timezone", str(zone()))
    return cal


def event_url(event: Event) -> str:
    return links.absolute("events.detail", event_id=event.id)


@lru_cache(maxsize=8)
def _vtimezone(tzid: str) -> Timezone:
    return Timezone.from_tzid(tzid)


def organizer() -> vCalAddress:
    name, address = parseaddr(current_app.config["MAIL_SENDER"])
    who = vCalAddress(f"mailto:{address or 'no-reply@localhost'}")
    who.params["cn"] = name or _("Green Jiaxing")
    return who


def uid(kind: str, ident: str) -> str:
    return f"{kind}-{ident}@{current_app.config.get('CALENDAR_UID_DOMAIN', 'green-jiaxing')}"


def event_component(event: Event, locale: str) -> VEvent:
    tz = zone()
    item = VEvent()
    item.add("uid", uid("event", str(event.id)))
    item.add("dtstamp", event.updated_at.astimezone(UTC))
    item.add("last-modified", event.updated_at.astimezone(UTC))
    item.add("sequence", event.sequence or 0)
    item.add("dtstart", event.starts_at.astimezone(tz))
    item.add("dtend", event.ends_at.astimezone(tz))
    item.add("summary", event.title(locale))
    division = site().division(event.district)
    item.add("location", f"{event.place}, {division.label(locale)}" if division else event.place)
    item.add("description", event.description(locale))
    item.add("url", event_url(event))
    if event.status == CANCELLED:
        item.add("status", "CANCELLED")
    else:
        item.add("status", "CONFIRMED")
    return item


def observance_components(locale: str, years: range):
    for obs in learn.observances():
        for year in years:
            occ = occurrence(obs, year)
            if occ is None:
                continue
            item = VEvent()
            item.add("uid", uid("observance", f"{obs.slug}-{year}"))
            item.add("dtstamp", datetime(year, 1, 1, tzinfo=UTC))
            item.add("dtstart", occ.start)  # all-day: VALUE=DATE
            item.add("dtend", occ.end + timedelta(days=1))  # DTEND is the day after
            name = obs.name(locale)
            item.add("summary", f"{name} ({_('provisional')})" if occ.provisional else name)
            item.add("description", obs.text("about", locale))
            item.add("transp", "TRANSPARENT")
            item.add("categories", [_("Observance days")])
            yield item


def to_bytes(cal: Calendar, tzids: list[str] | None = None) -> bytes:
    """The file; ``tzids``: the zones its times use when the caller knows them (a feed's
    events are all in the site's zone), instead of icalendar looking through every
    property for them."""
    missing = sorted(cal.get_missing_tzids()) if tzids is None else tzids
    for position, tzid in enumerate(missing):
        try:
            cal.subcomponents.insert(position, _vtimezone(tzid))  # read-only, shared
        except ValueError:  # a zone icalendar does not know: the times still carry TZID
            continue
    return cal.to_ical()


def single(event: Event, locale: str, method: str | None = None) -> bytes:
    cal = _calendar(event.title(locale))
    if method:
        cal.add("method", method)
    item = event_component(event, locale)
    if method == "CANCEL":
        item.add("organizer", organizer())
        item["status"] = "CANCELLED"
    cal.add_component(item)
    return to_bytes(cal)


#: A process keeps each event's VEVENT as written, per app, for the version it was written
#: from: icalendar takes ~0.3 ms to build and write one and a feed lists up to 200, most of
#: them unchanged since the last request.  At most this many (then it starts again).
WRITTEN_MAX = 4096
_END = b"END:VCALENDAR\r\n"


def _written(event: Event, locale: str) -> bytes:
    """The event's VEVENT; a changed event (status, sequence, time of change) is written
    again."""
    written = current_app.extensions.setdefault("portal_ics_written", {})
    key = (event.id, event.status, event.sequence, event.updated_at, locale)
    found = written.get(key)
    if found is None:
        if len(written) >= WRITTEN_MAX:
            written.clear()
        found = written[key] = event_component(event, locale).to_ical()
    return found


def feed(events: list[Event], locale: str, name: str, observance_years: range | None) -> bytes:
    cal = _calendar(name)
    if observance_years is not None:
        for item in observance_components(locale, observance_years):  # all-day: no zone
            cal.add_component(item)
    # Events' times are written in the site's zone (event_component), stamps in UTC; their
    # VEVENTs go at the end of the calendar.
    head = to_bytes(cal, [zone().key] if events else [])
    if not head.endswith(_END):
        raise ValueError("icalendar did not end the calendar as expected")
    return head[:-len(_END)] + b"".join(_written(e, locale) for e in events) + _END
