"""Check-in and -out on the day, service hours with rounding and minimum attendance,
corrections with reasons, the roster and the volunteer's own record."""

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.accounts.models import User
from portal.events import services
from portal.events.models import Event, Signup
from portal.extensions import db
from tests.conftest import csrf_token, make_user, sign_in


@pytest.mark.parametrize("minutes_attended,expected", [
    (180, "3"), (170, "3"), (160, "2.5"), (136, "2.5"), (135, "2"), (115, "2"),
    (100, "0"),  # under 60% of a three-hour event: no hours
])
def test_hours_follow_the_rounding_rules(ctx, event_factory, minutes_attended, expected):
    event = db.session.get(Event, event_factory(hours=3))
    start = event.starts_at
    hours = services.compute_hours(event, start, start + timedelta(minutes=minutes_attended))
    assert hours == Decimal(expected)


def test_time_outside_the_event_does_not_count(ctx, event_factory):
    event = db.session.get(Event, event_factory(hours=2))
    early = event.starts_at - timedelta(hours=1)
    late = event.ends_at + timedelta(hours=3)
    assert services.compute_hours(event, early, late) == Decimal("2")


def _confirmed(app, event_factory):
    event = event_factory(capacity=3)
    uid = make_user(app, email="v@example.org", name="李志愿")
    with app.app_context():
        signup = services.sign_up(db.session.get(User, uid), event).signup
        return event, signup.id


def test_check_in_out_and_correct_with_a_reason_through_the_pages(app, event_factory):
    event, signup = _confirmed(app, event_factory)
    make_user(app, email="org2@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org2@example.org")
    page = f"/events/{event}/attendance"
    html = staff.get(page).get_data(as_text=True)
    assert "李志愿" in html and staff.get(page).headers["Cache-Control"] == "no-store"
    token = csrf_token(staff, page)
    with app.app_context():
        start = db.session.get(Event, event).starts_at
    # Check in at the start and out 2 h 40 min later (the page uses "now"; the service is
    # called with explicit times here so the test does not depend on the clock).
    with app.app_context():
        services.check_in(event, signup, now=start)
        services.check_out(event, signup, now=start + timedelta(minutes=160))
        assert db.session.get(Signup, signup).hours == Decimal("2.5")
    response = staff.post(f"/events/{event}/attendance/{signup}/hours",
                          data={"csrf_token": token, "hours": "3", "reason": "提前到场布置"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Signup, signup)
        assert row.hours == Decimal("3")
        [correction] = row.corrections
        assert (correction.previous, correction.hours, correction.reason) == (
            Decimal("2.5"), Decimal("3"), "提前到场布置")
    no_reason = staff.post(f"/events/{event}/attendance/{signup}/hours",
                           data={"csrf_token": token, "hours": "4", "reason": ""})
    assert no_reason.status_code == 302
    with app.app_context():
        assert db.session.get(Signup, signup).hours == Decimal("3")
    html = staff.get(page).get_data(as_text=True)
    assert "提前到场布置" in html


def test_check_in_buttons_work_over_http(app, event_factory):
    event, signup = _confirmed(app, event_factory)
    make_user(app, email="org2@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org2@example.org")
    token = csrf_token(staff, f"/events/{event}/attendance")
    assert staff.post(f"/events/{event}/attendance/{signup}/out",
                      data={"csrf_token": token}).status_code == 302  # refused: flash
    staff.post(f"/events/{event}/attendance/{signup}/in", data={"csrf_token": token})
    staff.post(f"/events/{event}/attendance/{signup}/out", data={"csrf_token": token})
    with app.app_context():
        row = db.session.get(Signup, signup)
        assert row.checked_in_at is not None and row.checked_out_at is not None
        assert row.hours == Decimal("0")  # seconds before the event: nothing to count


def test_roster_masks_addresses_and_exports_csv(app, event_factory):
    event, _signup = _confirmed(app, event_factory)
    make_user(app, email="org2@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org2@example.org")
    html = staff.get(f"/events/{event}/roster").get_data(as_text=True)
    assert "李志愿" in html and "v***@example.org" in html and "v@example.org" not in html
    csv_response = staff.get(f"/events/{event}/roster.csv")
    text = csv_response.get_data(as_text=True)
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers[
        "Content-Disposition"]
    assert "李志愿" in text and "v***@example.org" in text and "已确认" in text


def test_volunteers_and_citizens_cannot_see_rosters(app, event_factory):
    event, _signup = _confirmed(app, event_factory)
    volunteer = app.test_client()
    sign_in(volunteer, "v@example.org")
    for path in [f"/events/{event}/roster", f"/events/{event}/roster.csv",
                 f"/events/{event}/attendance"]:
        assert volunteer.get(path).status_code == 403, path


def test_my_hours_and_printable_record(app, event_factory):
    event, signup = _confirmed(app, event_factory)
    with app.app_context():
        start = db.session.get(Event, event).starts_at
        services.check_in(event, signup, now=start)
        services.check_out(event, signup, now=start + timedelta(hours=3))
    volunteer = app.test_client()
    sign_in(volunteer, "v@example.org")
    html = volunteer.get("/my/hours").get_data(as_text=True)
    assert "世界环境日河道清洁" in html and "合计" in html and ">3<" in html
    record = volunteer.get("/my/hours/record?lang=en").get_data(as_text=True)
    assert "Volunteer service record" in record and "李志愿" in record


def test_roster_csv_cannot_smuggle_formulas(app, event_factory):
    event = event_factory(capacity=3)
    uid = make_user(app, email="x@example.org", name="=HYPERLINK(\"http://evil\")")
    with app.app_context():
        services.sign_up(db.session.get(User, uid), event)
    make_user(app, email="org2@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org2@example.org")
    text = staff.get(f"/events/{event}/roster.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
