"""Event pages, calendar files and the events API."""

import hashlib
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from icalendar import Calendar

from portal.events import services
from portal.extensions import db
from portal.jobs.services import work as _work
from tests.conftest import csrf_token, make_user, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _token(app, email):
    result = app.test_cli_runner().invoke(args=["users", "token", email])
    return result.output.strip()


def test_event_page_shows_places_and_lets_people_sign_up(app, event_factory):
    event = event_factory(capacity=1)
    make_user(app)
    client = app.test_client()
    html = client.get(f"/events/{event}").get_data(as_text=True)
    assert "世界环境日河道清洁" in html and "剩余 1 个" in html and "登录后报名" in html
    sign_in(client)
    response = client.post(f"/events/{event}/signup",
                           data={"csrf_token": csrf_token(client, f"/events/{event}")})
    assert response.status_code == 302
    html = client.get(f"/events/{event}").get_data(as_text=True)
    assert "名额已确认" in html and "剩余 0 个" in html and "取消报名" in html
    html = client.get("/my/events").get_data(as_text=True)
    assert "世界环境日河道清洁" in html and "/calendar/" not in html  # a GET writes nothing
    made = client.post("/my/events/feed", data={"csrf_token": csrf_token(client, "/my/events")})
    assert "/calendar/" in made.get_data(as_text=True)  # shown once, in the answer that made it
    assert "no-store" in made.headers["Cache-Control"]
    again = client.get("/my/events").get_data(as_text=True)
    assert "/calendar/" not in again and "生成新地址" in again


def test_waiting_list_position_shows_on_the_page(app, event_factory):
    event = event_factory(capacity=1)
    make_user(app, email="a@example.org")
    make_user(app, email="b@example.org")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "a@example.org")
    sign_in(second, "b@example.org")
    for c in (first, second):
        c.post(f"/events/{event}/signup", data={"csrf_token": csrf_token(c, f"/events/{event}")})
    assert "你是候补第 1 位" in second.get(f"/events/{event}").get_data(as_text=True)


def test_calendar_month_view(app, event_factory):
    event = event_factory(days=20)
    with app.app_context():
        from portal.events.models import Event
        from portal.extensions import db

        start = db.session.get(Event, event).starts_at.astimezone(services.zone())
    html = app.test_client().get(f"/events/calendar?year={start.year}&month={start.month}"
                                 "&lang=en").get_data(as_text=True)
    assert f'href="/events/{event}"' in html and "<table" in html and "<caption" in html
    assert 'scope="col"' in html
    other = app.test_client().get(f"/events/calendar?year={start.year}&month={start.month}"
                                  "&district=haining").get_data(as_text=True)
    assert f'href="/events/{event}"' not in other
    assert app.test_client().get("/events/calendar?month=13").status_code == 400
    assert app.test_client().get("/events/calendar?year=abc").status_code == 400


def test_event_ics_is_a_valid_calendar_in_the_site_zone(app, event_factory):
    event = event_factory()
    response = app.test_client().get(f"/events/{event}.ics")
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["UID"]) == f"event-{event}@green-jiaxing"
    assert vevent["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert "BEGIN:VTIMEZONE" in response.get_data(as_text=True)


def test_public_feed_has_events_and_all_day_observances_but_no_people(library):
    organizer = make_user(library, email="org@example.org", role="organizer")
    from tests.events.conftest import make_event

    event = make_event(library, organizer)
    make_user(library, email="volunteer@example.org", name="王小明")
    client = library.test_client()
    sign_in(client, "volunteer@example.org")
    client.post(f"/events/{event}/signup", data={"csrf_token": csrf_token(client,
                                                                          f"/events/{event}")})
    feed = library.test_client().get("/calendar.ics")
    text = feed.get_data(as_text=True)
    assert "volunteer@example.org" not in text and "王小明" not in text and "/calendar/" not in text
    cal = Calendar.from_ical(feed.data)
    uids = [str(v["UID"]) for v in cal.walk("VEVENT")]
    assert f"event-{event}@green-jiaxing" in uids
    year = date.today().year
    earth = next(v for v in cal.walk("VEVENT")
                 if str(v["UID"]) == f"observance-earth-day-{year}@green-jiaxing")
    assert earth["DTSTART"].dt == date(year, 4, 22)
    assert earth["DTEND"].dt == date(year, 4, 23)  # all day: DTEND is the next day
    assert len(uids) == len(set(uids))
    assert Calendar.from_ical(library.test_client().get("/calendar.ics").data).to_ical() \
        == cal.to_ical()  # stable
    with library.app_context():
        services.cancel_event(event)
    cancelled = Calendar.from_ical(library.test_client().get("/calendar.ics").data)
    [gone] = [v for v in cancelled.walk("VEVENT")
              if str(v["UID"]) == f"event-{event}@green-jiaxing"]
    assert str(gone["STATUS"]) == "CANCELLED"  # kept, so subscribers see the cancellation


def test_subscription_links_offer_webcal_and_https(app):
    # From the configured base (here the development default), never the request's Host.
    html = app.test_client().get("/events").get_data(as_text=True)
    assert 'href="webcal://localhost:5000/calendar.ics"' in html
    assert 'href="http://localhost:5000/calendar.ics"' in html


def test_personal_feed_behind_a_secret_token_that_can_be_reset(app, event_factory):
    event = event_factory()
    make_user(app)
    client = app.test_client()
    sign_in(client)
    client.post(f"/events/{event}/signup", data={"csrf_token": csrf_token(client,
                                                                          f"/events/{event}")})
    page = client.post("/my/events/feed", data={"csrf_token": csrf_token(client, "/my/events")})
    path = re.search(r"https?://[^/<\s]+(/calendar/([^<\s]+)\.ics)", page.get_data(as_text=True))
    path, token = path.group(1), path.group(2)
    with app.app_context():  # issue 12, item 7: only the token's hash is stored
        [stored] = db.session.execute(sa.text("SELECT * FROM calendar_feeds")).all()
        assert token not in {str(v) for v in stored}
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    anonymous = app.test_client()
    feed = anonymous.get(path)
    assert feed.status_code == 200 and f"event-{event}@" in feed.get_data(as_text=True)
    assert feed.headers["Cache-Control"] == "no-store, private"
    client.post("/my/events/feed", data={"csrf_token": csrf_token(client, "/my/events")})
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/calendar/guess.ics").status_code == 404


def test_only_staff_create_events(app):
    make_user(app)
    client = app.test_client()
    sign_in(client)
    assert client.get("/events/new").status_code == 403


def test_staff_create_an_event_with_field_errors_in_their_language(app):
    make_user(app, email="org@example.org", role="organizer")
    client = app.test_client()
    sign_in(client, "org@example.org")
    token = csrf_token(client, "/events/new")
    response = client.post("/events/new?lang=en", data={
        "csrf_token": token, "title_zh": "植树", "starts_at": "2020-03-12T09:00",
        "ends_at": "2020-03-12T08:00", "place": "", "district": "nanhu", "capacity": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There must be at least one place." in html
    assert "Please say where the event takes place." in html
    start = (datetime.now(SHANGHAI) + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    end = start.replace("T09:00", "T11:00")
    response = client.post("/events/new", data={
        "csrf_token": token, "title_zh": "植树节义务植树", "starts_at": start, "ends_at": end,
        "place": "湘家荡", "district": "nanhu", "capacity": "30", "publish": "1"})
    assert response.status_code == 302
    assert "植树节义务植树" in app.test_client().get("/events").get_data(as_text=True)


# -- API ---------------------------------------------------------------------------------------

def test_api_observances_for_a_year(library):
    body = library.test_client().get("/api/v1/observances?year=2027").json
    by_slug = {o["slug"]: o for o in body}
    assert by_slug["world-environment-day"] == {
        "slug": "world-environment-day", "name": "世界环境日", "start": "2027-06-05",
        "end": "2027-06-05", "kind": "fixed", "provisional": False}
    week = by_slug["urban-water-saving-week"]
    assert (week["start"], week["end"], week["provisional"]) == ("2027-05-09", "2027-05-15",
                                                                 True)
    assert "energy-saving-week" not in by_slug  # not announced for 2027
    announced = {o["slug"]: o for o in library.test_client().get(
        "/api/v1/observances?year=2024").json}
    assert announced["urban-water-saving-week"]["provisional"] is False
    assert library.test_client().get("/api/v1/observances?year=abc").status_code == 400


def test_api_events_list_and_detail(app, event_factory):
    event = event_factory(capacity=5)
    body = app.test_client().get(f"/api/v1/events/{event}").json
    assert set(body) >= {"id", "title", "starts_at", "ends_at", "place", "district", "capacity",
                         "confirmed", "waitlisted", "seats_left", "url"}
    assert body["starts_at"].endswith("+08:00") and body["seats_left"] == 5
    day = body["starts_at"][:10]
    listed = app.test_client().get(f"/api/v1/events?from={day}&to={day}").json
    assert [e["id"] for e in listed] == [event]
    assert app.test_client().get("/api/v1/events?from=2020-01-01&to=2020-01-02").json == []
    assert app.test_client().get("/api/v1/events/99999").status_code == 404


def test_api_create_event_needs_staff_and_valid_input(app):
    make_user(app, email="org@example.org", role="organizer")
    make_user(app, email="citizen@example.org")
    staff, citizen = _token(app, "org@example.org"), _token(app, "citizen@example.org")
    start = (datetime.now(SHANGHAI) + timedelta(days=9)).replace(microsecond=0)
    good = {"title": "湿地观鸟", "description": "带上望远镜。", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(), "place": "南北湖",
            "district": "Haiyan County", "capacity": 12}
    client = app.test_client()
    assert client.post("/api/v1/events", json=good,
                       headers={"Authorization": f"Bearer {citizen}"}).status_code == 403
    created = client.post("/api/v1/events", json=good,
                          headers={"Authorization": f"Bearer {staff}"})
    assert created.status_code == 201
    assert created.json["district"] == "haiyan" and created.json["capacity"] == 12
    bad = {**good, "capacity": 0, "ends_at": start.isoformat(), "starts_at": "tomorrow"}
    response = client.post("/api/v1/events", json=bad,
                           headers={"Authorization": f"Bearer {staff}"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) >= {"capacity", "starts_at"}
    assert client.post("/api/v1/events", data="not json",
                       headers={"Authorization": f"Bearer {staff}"}).status_code == 400


def test_api_sign_up_and_cancel(app, event_factory):
    event = event_factory(capacity=1)
    make_user(app, email="a@example.org")
    make_user(app, email="b@example.org")
    a, b = _token(app, "a@example.org"), _token(app, "b@example.org")
    client = app.test_client()

    def call(method, token):
        return client.open(f"/api/v1/events/{event}/signup", method=method,
                           headers={"Authorization": f"Bearer {token}"})

    first = call("POST", a)
    assert (first.status_code, first.json) == (201, {"status": "confirmed"})
    again = call("POST", a)
    assert (again.status_code, again.json) == (200, {"status": "confirmed"})
    waiting = call("POST", b)
    assert (waiting.status_code, waiting.json) == (201, {"status": "waitlisted", "position": 1})
    cancelled = call("DELETE", a)
    assert (cancelled.status_code, cancelled.json) == (200, {"status": "cancelled"})
    assert call("POST", b).json == {"status": "confirmed"}
    assert call("DELETE", a).status_code == 409
    with app.app_context():
        services.cancel_event(event)
    closed = call("POST", a)
    assert closed.status_code == 409 and closed.json["error"]["code"] == "cancelled"
    assert client.post("/api/v1/events/99999/signup",
                       headers={"Authorization": f"Bearer {a}"}).status_code == 404


def test_published_events_are_searchable_drafts_are_not(app, event_factory):
    from portal import search

    event_factory(title_zh="湿地观鸟活动", title_en="Birdwatching at the wetland")
    event_factory(title_zh="秘密草稿活动", title_en="Secret draft", publish=False)
    with app.app_context():  # the job worker updates the index
        run_due_jobs()
    body = app.test_client().get("/api/v1/search?q=观鸟&kind=event").json
    assert [r["title"] for r in body["results"]] == ["湿地观鸟活动"]
    assert app.test_client().get("/api/v1/search?q=秘密草稿").json["total"] == 0
    with app.test_request_context("/"):
        assert search.search("birdwatching", kind="event").total == 1


def run_due_jobs():
    """What the job worker does, inside the caller's app context."""
    return _work(burst=True, schedule=False)
