"""iCalendar output checked against RFC 5545/5546 with two independent parsers.

Every file the portal hands out (the public feed, a person's own feed, the single event file
and the ``.ics`` attachments of the sign-up mails) is read by ``icalendar`` and by ``vobject``;
DTSTAMP must be a UTC date-time, every TZID must come with its VTIMEZONE, a cancellation must
name its ORGANIZER and carry a higher SEQUENCE than what the person was sent before.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import vobject
from icalendar import Calendar

from portal.events import ics, services
from tests.conftest import csrf_token, make_user, outbox, sign_in
from tests.events.conftest import make_event

SHANGHAI = "Asia/Shanghai"


# -- helpers -----------------------------------------------------------------------------------

def _text(data: bytes | str) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


def _unfolded_lines(data: bytes | str) -> list[str]:
    """The content lines of the raw text, unfolded (RFC 5545 3.1)."""
    text = re.sub(r"\r?\n[ \t]", "", _text(data))
    return [line for line in re.split(r"\r?\n", text) if line]


def _name(line: str) -> str:
    return re.split(r"[;:]", line, maxsplit=1)[0].upper()


def _raw_components(data: bytes | str, kind: str) -> list[list[str]]:
    """The content lines of each ``kind`` component (nested components included)."""
    found, stack = [], []
    for line in _unfolded_lines(data):
        if line.upper() == f"BEGIN:{kind}":
            stack.append([])
        elif line.upper() == f"END:{kind}":
            found.append(stack.pop())
        elif stack:
            stack[-1].append(line)
    assert not stack, f"unterminated {kind}"
    return found


def _is_utc(value) -> bool:
    return (isinstance(value, datetime) and value.tzinfo is not None
            and value.utcoffset() == timedelta(0))


def parse_both(data: bytes | str) -> tuple[Calendar, object]:
    """Parse with icalendar and with vobject (both entry points); the parsers must agree on
    the events.  Returns (icalendar calendar, vobject calendar)."""
    text = _text(data)
    cal = Calendar.from_ical(data)
    assert cal.name == "VCALENDAR"
    components = list(vobject.readComponents(text))
    assert len(components) == 1, "exactly one VCALENDAR"
    vcal = vobject.readOne(text)
    assert vcal.name == "VCALENDAR"
    assert str(vcal.version.value) == "2.0"
    i_uids = sorted(str(v["UID"]) for v in cal.walk("VEVENT"))
    v_uids = sorted(v.uid.value for v in vcal.contents.get("vevent", []))
    assert i_uids == v_uids and i_uids, "both parsers see the same events"
    assert sorted(v.uid.value for v in components[0].contents.get("vevent", [])) == v_uids
    for vevent in vcal.vevent_list:  # vobject resolves every time (TZIDs included)
        vevent.dtstart.value  # noqa: B018
        vevent.dtstamp.value  # noqa: B018
    return cal, vcal


def check_dtstamps(data: bytes | str, cal: Calendar, vcal) -> int:
    """Every VEVENT has exactly one DTSTAMP, a UTC date-time in the raw text and when parsed
    by either parser.  Returns the number of events checked."""
    raw = _raw_components(data, "VEVENT")
    assert raw
    for lines in raw:
        stamps = [line for line in lines if _name(line) == "DTSTAMP"]
        uid = next((line for line in lines if _name(line) == "UID"), "?")
        assert len(stamps) == 1, f"{uid}: one DTSTAMP"
        assert re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", stamps[0]), \
            f"{uid}: DTSTAMP is not a UTC date-time: {stamps[0]!r}"
    events = cal.walk("VEVENT")
    assert len(events) == len(raw)
    for vevent in events:
        stamp = vevent["DTSTAMP"].dt
        assert _is_utc(stamp), f"{vevent['UID']}: DTSTAMP parsed as {stamp!r}"
    for vevent in vcal.vevent_list:
        assert _is_utc(vevent.dtstamp.value), \
            f"{vevent.uid.value}: vobject DTSTAMP {vevent.dtstamp.value!r}"
    return len(raw)


def check_timezones(data: bytes | str, cal: Calendar, vcal, expect_shanghai: bool = True):
    """Every TZID used has a VTIMEZONE in the same calendar (Asia/Shanghai in particular),
    and each VTIMEZONE appears once."""
    text = re.sub(r"\r?\n[ \t]", "", _text(data))
    used = set(re.findall(r";TZID=\"?([^\";:]+)\"?", text, flags=re.IGNORECASE))
    defined_raw = [line.split(":", 1)[1] for lines in _raw_components(data, "VTIMEZONE")
                   for line in lines if _name(line) == "TZID"]
    defined = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert sorted(defined_raw) == sorted(defined) and len(defined_raw) == len(set(defined_raw))
    if expect_shanghai:
        assert SHANGHAI in used, "the event times carry TZID=Asia/Shanghai"
    assert used <= defined, f"TZIDs without a VTIMEZONE: {sorted(used - defined)}"
    assert {tz.tzid.value for tz in vcal.contents.get("vtimezone", [])} == defined
    in_shanghai = set()
    for vevent in cal.walk("VEVENT"):
        start = vevent["DTSTART"]
        if start.params.get("TZID") == SHANGHAI:
            assert start.dt.utcoffset() == timedelta(hours=8)
            in_shanghai.add(str(vevent["UID"]))
    for vevent in vcal.vevent_list:  # vobject read the same times from the VTIMEZONE
        if vevent.uid.value in in_shanghai:
            assert vevent.dtstart.value.utcoffset() == timedelta(hours=8)
            assert vevent.dtend.value.utcoffset() == timedelta(hours=8)


def check_all(data: bytes | str, expect_shanghai: bool = True) -> tuple[Calendar, object]:
    cal, vcal = parse_both(data)
    check_dtstamps(data, cal, vcal)
    check_timezones(data, cal, vcal, expect_shanghai)
    return cal, vcal


def vevent_by_uid(cal: Calendar, uid: str):
    [found] = [v for v in cal.walk("VEVENT") if str(v["UID"]) == uid]
    return found


def event_uid(event_id: int) -> str:
    return f"event-{event_id}@green-jiaxing"


def ics_attachments(msg) -> list[bytes | str]:
    return [part.get_content() for part in msg.iter_attachments()
            if part.get_content_type() == "text/calendar"]


def mails_to(messages, address: str) -> list:
    return [m for m in messages if str(m["To"]).strip().lower() == address.lower()]


def _sign_up(app, email: str, event_id: int) -> None:
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        result = services.sign_up(user, event_id)
        assert result.changed


def _event_input(app, event_id: int, **changes) -> services.EventInput:
    from portal.events.models import Event
    from portal.extensions import db

    with app.app_context():
        event = db.session.get(Event, event_id)
        data = services.EventInput(
            title_zh=event.title_zh, title_en=event.title_en,
            description_zh=event.description_zh, description_en=event.description_en,
            starts_at=event.starts_at, ends_at=event.ends_at,
            signup_deadline=event.signup_deadline, place=event.place, district=event.district,
            capacity=event.capacity, observance_slug=event.observance_slug,
            min_age=event.min_age, notes=event.notes)
    for name, value in changes.items():
        setattr(data, name, value)
    return data


# -- the files served over HTTP ----------------------------------------------------------------

def test_single_event_file_parses_with_both_parsers(app, event_factory):
    event = event_factory()
    response = app.test_client().get(f"/events/{event}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal, vcal = check_all(response.data)
    vevent = vevent_by_uid(cal, event_uid(event))
    assert vevent["DTSTART"].params["TZID"] == SHANGHAI
    [vv] = vcal.vevent_list
    assert vv.uid.value == event_uid(event) and vv.summary.value == "世界环境日河道清洁"
    assert vv.dtstart.value.utcoffset() == timedelta(hours=8)


def test_public_feed_parses_and_every_dtstamp_is_utc_including_observances(library):
    organizer = make_user(library, email="org@example.org", role="organizer")
    event = make_event(library, organizer)
    cancelled = make_event(library, organizer, days=12, title_zh="已取消的活动")
    with library.app_context():
        services.cancel_event(cancelled)
    response = library.test_client().get("/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal, vcal = check_all(response.data)
    uids = {str(v["UID"]) for v in cal.walk("VEVENT")}
    assert {event_uid(event), event_uid(cancelled)} <= uids
    all_day = [v for v in cal.walk("VEVENT") if str(v["UID"]).startswith("observance-")]
    assert all_day, "the public feed has the observance days"
    for vevent in all_day:  # all-day (VALUE=DATE) starts, yet a date-time DTSTAMP
        assert type(vevent["DTSTART"].dt) is date
        assert _is_utc(vevent["DTSTAMP"].dt), f"{vevent['UID']}: {vevent['DTSTAMP'].dt!r}"
    raw_observances = [lines for lines in _raw_components(response.data, "VEVENT")
                       if any(line.startswith("UID:observance-") for line in lines)]
    assert len(raw_observances) == len(all_day)
    for lines in raw_observances:
        assert any(line.startswith("DTSTART;VALUE=DATE:") for line in lines)
        [stamp] = [line for line in lines if _name(line) == "DTSTAMP"]
        assert stamp.endswith("Z")
    v_all_day = [v for v in vcal.vevent_list if v.uid.value.startswith("observance-")]
    assert len(v_all_day) == len(all_day)
    assert all(type(v.dtstart.value) is date for v in v_all_day)
    assert str(vevent_by_uid(cal, event_uid(cancelled))["STATUS"]) == "CANCELLED"


def test_personal_feed_parses_with_both_parsers(app, event_factory):
    event = event_factory()
    make_user(app)
    client = app.test_client()
    sign_in(client)
    client.post(f"/events/{event}/signup",
                data={"csrf_token": csrf_token(client, f"/events/{event}")})
    page = client.post("/my/events/feed", data={"csrf_token": csrf_token(client, "/my/events")}
                       ).get_data(as_text=True)
    path = re.search(r"https?://[^/<\s]+(/calendar/[^<\s\"]+\.ics)", page).group(1)
    feed = app.test_client().get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    cal, vcal = check_all(feed.data)
    assert [str(v["UID"]) for v in cal.walk("VEVENT")] == [event_uid(event)]
    assert [v.uid.value for v in vcal.vevent_list] == [event_uid(event)]


def test_editing_an_event_increases_its_sequence_in_the_public_feed(app, event_factory):
    event = event_factory()
    client = app.test_client()

    def sequence():
        data = client.get("/calendar.ics").data
        cal, vcal = check_all(data)
        [vv] = [v for v in vcal.vevent_list if v.uid.value == event_uid(event)]
        seq = int(vevent_by_uid(cal, event_uid(event))["SEQUENCE"])
        assert int(vv.sequence.value) == seq
        return seq

    before = sequence()
    with app.app_context():
        services.update_event(event, _event_input(app, event, place="湘家荡"))
    after_first = sequence()
    assert after_first > before
    with app.app_context():
        services.update_event(event, _event_input(app, event, capacity=5))
    assert sequence() > after_first


# -- the mails ---------------------------------------------------------------------------------

def test_confirmation_and_cancellation_attachments(app, event_factory):
    event = event_factory()
    make_user(app, email="volunteer@example.org")
    _sign_up(app, "volunteer@example.org", event)
    [confirmation] = mails_to(outbox(app), "volunteer@example.org")
    [confirmed_ics] = ics_attachments(confirmation)
    conf_cal, conf_vcal = check_all(confirmed_ics)
    conf_event = vevent_by_uid(conf_cal, event_uid(event))
    assert str(conf_event["STATUS"]) == "CONFIRMED"
    confirmed_sequence = int(conf_event.get("SEQUENCE", 0))

    with app.app_context():
        services.cancel_event(event)
    messages = mails_to(outbox(app), "volunteer@example.org")
    assert len(messages) == 2, "a cancellation mail was sent"
    [cancelled_ics] = ics_attachments(messages[-1])
    cal, vcal = check_all(cancelled_ics)
    assert str(cal["METHOD"]) == "CANCEL"
    assert vcal.method.value == "CANCEL"
    assert "METHOD:CANCEL" in _unfolded_lines(cancelled_ics)
    vevent = vevent_by_uid(cal, event_uid(event))
    organizer = str(vevent["ORGANIZER"])
    assert organizer.lower().startswith("mailto:") and "@" in organizer
    [vv] = vcal.vevent_list
    assert vv.organizer.value.lower().startswith("mailto:")
    assert str(vevent["STATUS"]) == "CANCELLED" and vv.status.value == "CANCELLED"
    assert int(vevent["SEQUENCE"]) > confirmed_sequence
    assert int(vv.sequence.value) > confirmed_sequence
    assert vv.uid.value == str(conf_event["UID"])  # the same event, as the calendar knows it


def test_title_with_a_line_break_still_gets_its_mail_with_a_one_line_subject(app, organizer):
    event = make_event(app, organizer, title_zh="河道\n清洁")
    from portal.events.models import Event
    from portal.extensions import db

    with app.app_context():
        assert db.session.get(Event, event).title_zh == "河道\n清洁"  # the service kept it
    make_user(app, email="volunteer@example.org")
    _sign_up(app, "volunteer@example.org", event)
    mails = mails_to(outbox(app), "volunteer@example.org")
    assert len(mails) == 1, f"the confirmation was not delivered: {_job_errors(app)}"
    [mail] = mails
    subject = str(mail["Subject"])
    assert "\n" not in subject and "\r" not in subject
    assert "河道" in subject and "清洁" in subject
    [attachment] = ics_attachments(mail)
    cal, vcal = check_all(attachment)
    assert str(vevent_by_uid(cal, event_uid(event))["SUMMARY"]) == "河道\n清洁"
    assert vcal.vevent_list[0].summary.value == "河道\n清洁"


def test_single_event_file_for_a_title_with_a_line_break(app, organizer):
    event = make_event(app, organizer, title_zh="河道\n清洁")
    response = app.test_client().get(f"/events/{event}.ics")
    assert response.status_code == 200
    cal, vcal = check_all(response.data)
    assert str(vevent_by_uid(cal, event_uid(event))["SUMMARY"]) == "河道\n清洁"


def _job_errors(app) -> list[str]:
    from portal.extensions import db
    from portal.jobs.models import Job

    with app.app_context():
        return [f"{job.kind} {job.state}: {job.last_error.strip().splitlines()[-1:]}"
                for job in db.session.scalars(db.select(Job).where(Job.last_error != ""))]


# -- the VTIMEZONE is built once ---------------------------------------------------------------

def test_vtimezone_is_built_once_and_reused(app, event_factory):
    first_event, second_event = event_factory(), event_factory(days=11)
    client = app.test_client()
    first = client.get(f"/events/{first_event}.ics").data
    after_first = ics._vtimezone.cache_info()
    second = client.get(f"/events/{second_event}.ics").data
    after_second = ics._vtimezone.cache_info()
    assert after_second.hits > after_first.hits
    assert after_second.misses == after_first.misses  # not built again
    zones = [[lines for lines in _raw_components(body, "VTIMEZONE")] for body in (first, second)]
    assert zones[0] == zones[1] and len(zones[0]) == 1
    check_all(first)
    check_all(second)


def test_the_public_feed_holds_the_recent_past_and_what_is_to_come_at_most_feed_max(
        app, event_factory, monkeypatch):
    from portal.db import writing
    from portal.events import views as event_views
    from portal.events.models import Event
    from portal.extensions import db

    old, recent = event_factory(days=1, title_zh="四十天前"), event_factory(days=2)
    coming = [event_factory(days=d) for d in (3, 6, 9)]
    with app.app_context(), writing():  # held 40 and 20 days ago (events are made ahead)
        for event_id, days in ((old, 40), (recent, 20)):
            event = db.session.get(Event, event_id)
            event.starts_at -= timedelta(days=days + 1)
            event.ends_at -= timedelta(days=days + 1)
    client = app.test_client()

    def uids(path="/calendar.ics"):
        cal, _vcal = check_all(client.get(path).data)
        return [str(v["UID"]) for v in cal.walk("VEVENT") if "event-" in str(v["UID"])]

    with app.app_context():
        expected = [event_uid(e) for e in (recent, *coming)]
    assert uids() == expected  # soonest first, without the event of forty days ago
    monkeypatch.setattr(event_views, "FEED_MAX", 2)
    with app.app_context():
        # (?lang= is never served from the page cache: this is the feed made again)
        assert uids("/calendar.ics?lang=zh") == expected[:2]  # the cap keeps the soonest


def test_a_feed_writes_each_event_once_per_version_and_keeps_a_bounded_number(
        app, event_factory, monkeypatch):
    from portal.events.models import Event
    from portal.extensions import db

    event_ics, event_services, build = ics, services, ics.event_component
    ids = [event_factory(days=d) for d in (2, 4, 6)]
    with app.test_request_context("/"):
        events = [db.session.get(Event, i) for i in ids]
        first = event_ics.feed(events, "zh", "绿色嘉兴", None)
        written = app.extensions["portal_ics_written"]
        assert len(written) == 3
        calls = []
        monkeypatch.setattr(event_ics, "event_component",
                            lambda e, loc: calls.append(e.id) or build(e, loc))
        assert event_ics.feed(events, "zh", "绿色嘉兴", None) == first and calls == []
    with app.app_context():  # a new version: written again, cancelled
        event_services.cancel_event(ids[0])
    with app.test_request_context("/"):
        events = [db.session.get(Event, i) for i in ids]
        again = event_ics.feed(events, "zh", "绿色嘉兴", None)
        assert calls == [ids[0]] and again != first
        assert vevent_by_uid(Calendar.from_ical(again), event_uid(ids[0]))["STATUS"] == \
            "CANCELLED"
        monkeypatch.setattr(event_ics, "WRITTEN_MAX", 2)
        event_ics.feed(events, "en", "Green Jiaxing", None)
        assert len(app.extensions["portal_ics_written"]) <= 2
