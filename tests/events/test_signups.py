"""Sign-up rules without HTTP: places, waiting list, promotion, deadlines, cancellation."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.db import utcnow
from portal.events import services
from portal.events.models import Event, Signup
from portal.extensions import db
from portal.rules import RuleError
from portal.site import resolve_division
from tests.conftest import make_user, outbox


def _user(app, n):
    return make_user(app, email=f"v{n}@example.org", name=f"志愿者{n}")


def _sign(app, uid, event_id, **kw):
    with app.app_context():
        r = services.sign_up(db.session.get(User, uid), event_id, **kw)
        return r.signup.status, r.changed, r.position


def _cancel(app, uid, event_id, **kw):
    with app.app_context():
        return [s.user_id for s in services.cancel_signup(db.session.get(User, uid), event_id,
                                                          **kw)]


def test_places_then_waiting_list_with_positions(app, event_factory):
    event = event_factory(capacity=2)
    users = [_user(app, n) for n in range(4)]
    assert _sign(app, users[0], event) == ("confirmed", True, None)
    assert _sign(app, users[1], event) == ("confirmed", True, None)
    assert _sign(app, users[2], event) == ("waitlisted", True, 1)
    assert _sign(app, users[3], event) == ("waitlisted", True, 2)
    assert _sign(app, users[2], event) == ("waitlisted", False, 1)  # again: nothing changes
    with app.app_context():
        assert services.counts(event) == {"confirmed": 2, "waitlisted": 2}


def test_cancelling_promotes_the_oldest_waiting_person_and_tells_them(app, event_factory):
    event = event_factory(capacity=1)
    a, b, c = (_user(app, n) for n in range(3))
    _sign(app, a, event)
    _sign(app, b, event)
    _sign(app, c, event)
    outbox(app)  # the worker mails the confirmation and the waiting-list places
    assert _cancel(app, a, event) == [b]
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Signup.user_id, Signup.status)).all())
    assert statuses == {a: "cancelled", b: "confirmed", c: "waitlisted"}
    assert _sign(app, c, event)[2] == 1
    subjects = [m["Subject"] for m in outbox(app)]
    assert subjects.count("你有名额了：世界环境日河道清洁") == 1
    assert any(s.startswith("空出了一个名额") for s in subjects)
    promoted = [m for m in outbox(app) if m["Subject"].startswith("空出了一个名额")][0]
    assert promoted["To"] == "v1@example.org"
    attachment = next(promoted.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert "DTSTART;TZID=Asia/Shanghai" in attachment.get_content()


def test_signing_up_again_after_cancelling_queues_at_the_end(app, event_factory):
    event = event_factory(capacity=1)
    a, b, c = (_user(app, n) for n in range(3))
    _sign(app, a, event)
    _sign(app, b, event)
    _cancel(app, b, event)
    _sign(app, c, event)
    assert _sign(app, b, event) == ("waitlisted", True, 2)


def test_nobody_jumps_the_queue_when_places_are_added(app, event_factory, organizer):
    event = event_factory(capacity=1)
    a, b = _user(app, 1), _user(app, 2)
    _sign(app, a, event)
    _sign(app, b, event)
    with app.app_context():
        e = db.session.get(Event, event)
        data = services.EventInput(title_zh=e.title_zh, starts_at=e.starts_at, ends_at=e.ends_at,
                                   place=e.place, district=e.district, capacity=2)
        services.update_event(event, data)
        assert services.counts(event) == {"confirmed": 2, "waitlisted": 0}


def test_sign_ups_close_at_the_deadline(app, event_factory):
    event = event_factory()
    uid = _user(app, 1)
    with app.app_context():
        deadline = db.session.get(Event, event).signup_deadline
    with pytest.raises(RuleError) as err:
        _sign(app, uid, event, now=deadline)
    assert err.value.code == "closed" and err.value.status == 409


def test_cancelling_after_the_start_is_refused(app, event_factory):
    event = event_factory()
    uid = _user(app, 1)
    _sign(app, uid, event)
    with app.app_context():
        start = db.session.get(Event, event).starts_at
    with pytest.raises(RuleError) as err:
        _cancel(app, uid, event, now=start + timedelta(minutes=1))
    assert err.value.code == "started"


def test_cancelled_events_refuse_sign_ups_and_everyone_is_told(app, event_factory):
    event = event_factory(capacity=1)
    a, b = _user(app, 1), _user(app, 2)
    _sign(app, a, event)
    _sign(app, b, event)
    with app.app_context():
        services.cancel_event(event)
    cancelled_mails = [m for m in outbox(app) if m["Subject"].startswith("活动取消")]
    assert sorted(m["To"] for m in cancelled_mails) == ["v1@example.org", "v2@example.org"]
    assert "METHOD:CANCEL" in next(cancelled_mails[0].iter_attachments()).get_content()
    with pytest.raises(RuleError) as err:
        _sign(app, _user(app, 3), event)
    assert err.value.code == "cancelled"


def test_drafts_cannot_be_signed_up_for(app, event_factory):
    event = event_factory(publish=False)
    with pytest.raises(RuleError) as err:
        _sign(app, _user(app, 1), event)
    assert err.value.status == 404


@pytest.mark.parametrize("change,field", [
    ({"ends_before_start": True}, "ends_at"), ({"capacity": 0}, "capacity"),
    ({"past": True}, "starts_at"), ({"deadline_after": True}, "signup_deadline"),
    ({"district": "atlantis"}, "district"), ({"title_zh": "", "title_en": ""}, "title_zh"),
])
def test_bad_event_input_gets_field_errors(ctx, change, field):
    now = utcnow()
    start = now + timedelta(days=3)
    data = services.EventInput(title_zh="清洁", starts_at=start, ends_at=start + timedelta(hours=2),
                               place="南湖", district="nanhu", capacity=5)
    if change.pop("ends_before_start", False):
        data.ends_at = start - timedelta(hours=1)
    if change.pop("past", False):
        data.starts_at, data.ends_at = now - timedelta(days=1), now - timedelta(hours=20)
    if change.pop("deadline_after", False):
        data.signup_deadline = start + timedelta(minutes=5)
    for key, value in change.items():
        setattr(data, key, value)
    errors = services.validate(data)
    assert field in errors and errors[field]


def test_district_accepts_code_or_name_in_either_language(ctx):
    assert resolve_division("nanhu") == "nanhu"
    assert resolve_division("南湖区") == "nanhu"
    assert resolve_division("Nanhu District") == "nanhu"
    assert resolve_division("nowhere") is None


def test_reminders_go_once_to_confirmed_people_the_day_before(app, event_factory):
    tomorrow = event_factory(days=1, capacity=1)
    later = event_factory(days=5)
    a, b = _user(app, 1), _user(app, 2)
    _sign(app, a, tomorrow)
    _sign(app, b, tomorrow)  # waiting list: no reminder
    _sign(app, b, later)
    before = len(outbox(app))
    result = app.test_cli_runner().invoke(args=["events", "remind"])
    assert "reminders queued: 1" in result.output
    again = app.test_cli_runner().invoke(args=["events", "remind"])
    assert "reminders queued: 0" in again.output
    reminders = outbox(app)[before:]
    assert [m["To"] for m in reminders] == ["v1@example.org"]
    assert reminders[0]["Subject"].startswith("明天")
    assert "南湖北门" in reminders[0].get_body(("plain",)).get_content()


def test_deleting_an_account_keeps_the_place_anonymous(app, event_factory):
    from tests.conftest import PASSWORD

    event = event_factory(capacity=1)
    a, b = _user(app, 1), _user(app, 2)
    _sign(app, a, event)
    _sign(app, b, event)
    with app.app_context():
        from portal.accounts import services as accounts

        exported = accounts.export_data(db.session.get(User, a))["events"]
        assert exported[0]["status"] == "confirmed" and exported[0]["event_id"] == event
        accounts.delete_account(db.session.get(User, a), PASSWORD)
        rows = {s.id: (s.user_id, s.status) for s in db.session.scalars(sa.select(Signup))}
    assert (None, "cancelled") in rows.values()  # kept for the totals, naming nobody
    assert (b, "confirmed") in rows.values()  # the freed place went to the next in line
    with app.app_context():  # the promotion mail is a job of the deletion's unit of work
        from portal.jobs.models import Job

        kinds = [(j.kind, j.payload.get("kind")) for j in db.session.scalars(
            sa.select(Job).where(Job.state == "pending"))]
    assert ("events.mail", "promoted") in kinds
    mails = outbox(app)
    assert [m["To"] for m in mails if m["Subject"].startswith("空出了一个名额")] == [
        "v2@example.org"]
    assert all(m["To"] != "v1@example.org" for m in mails)  # nothing goes to the deleted one
