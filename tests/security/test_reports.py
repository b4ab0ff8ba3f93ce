"""Issue 12, item 5: reports cannot hide a post cheaply.  Only reports from accounts with a
confirmed address, at least ``REPORTS_MIN_ACCOUNT_AGE`` old, count towards
``SCHOOLS_REPORTS_TO_HIDE``; every report is recorded and shown to staff; staff are mailed at
a post's first report (once, not per report); posts hidden by reports wait in the moderation
queue, where staff restore them or keep them hidden."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.rules import RuleError
from portal.schools import services as sc
from portal.schools.models import Activity, ActivityReport
from tests.conftest import csrf_token, make_user, outbox, run_jobs, sign_in

TITLE = "湿地观鸟活动"
SUBJECT_EN = "A school post has been reported on Green Jiaxing"


def _age(app, uid: int, days: float) -> None:
    with app.app_context(), writing():
        db.session.get(User, uid).created_at = utcnow() - timedelta(days=days)


def _world(app):
    teacher = make_user(app, email="teacher@example.org", name="李老师")
    admin = make_user(app, email="admin@example.org", role="admin", locale="en")
    org = make_user(app, email="org@example.org", role="organizer", locale="en")
    with app.app_context():
        school = sc.apply_school(db.session.get(User, teacher), sc.SchoolInput(
            "南湖实验小学", "Nanhu Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(school.id, db.session.get(User, admin))
        post = sc.save_activity(db.session.get(User, teacher), school, sc.ActivityInput(
            TITLE, "我们看到了白鹭。", date(2026, 3, 12), ["nature"]))
        sc.submit(db.session.get(User, teacher), post.id, True)
        sc.approve(post.id, db.session.get(User, org))
        post_id = post.id
    run_jobs(app)
    return {"post": post_id, "admin": admin, "org": org}


def _reporters(app, n: int, days: float, prefix: str = "r", verified: bool = True):
    uids = [make_user(app, email=f"{prefix}{i}@example.org", verified=verified)
            for i in range(n)]
    for uid in uids:
        _age(app, uid, days)
    return uids


def _report(app, uid: int, post: int) -> bool:
    with app.app_context():
        return sc.report(db.session.get(User, uid), post, "内容不实")


def _hidden(app, post: int) -> bool:
    with app.app_context():
        return db.session.get(Activity, post).hidden


@pytest.fixture
def world(library):
    return _world(library)


def test_fresh_accounts_do_not_hide_a_post_old_verified_ones_do(library, world):
    post = world["post"]
    fresh = _reporters(library, 5, days=1, prefix="fresh")
    for uid in fresh:  # five reports, none of which counts
        assert _report(library, uid, post) is False
    assert not _hidden(library, post)
    assert library.test_client().get(f"/activities/{post}").status_code == 200
    with library.app_context():
        rows = db.session.scalars(sa.select(ActivityReport)).all()
        assert len(rows) == 5 and not any(r.counted for r in rows)  # recorded all the same

    old = _reporters(library, 3, days=8, prefix="old")
    assert _report(library, old[0], post) is False
    assert _report(library, old[1], post) is False
    assert _report(library, old[2], post) is True  # the third that counts
    assert _hidden(library, post)
    assert library.test_client().get(f"/activities/{post}").status_code == 404


def test_unverified_accounts_cannot_report_at_all(library, world):
    [uid] = _reporters(library, 1, days=30, prefix="unverified", verified=False)
    with library.app_context(), pytest.raises(RuleError) as refused:
        sc.report(db.session.get(User, uid), world["post"], "不实")
    assert refused.value.code == "unverified"
    with library.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityReport)) == 0


def test_the_settings_decide_age_and_threshold(make_library_app):
    app = make_library_app(SCHOOLS_REPORTS_TO_HIDE=2, REPORTS_MIN_ACCOUNT_AGE=timedelta(days=30))
    post = _world(app)["post"]
    week_old = _reporters(app, 3, days=8, prefix="week")
    for uid in week_old:
        assert _report(app, uid, post) is False
    month_old = _reporters(app, 2, days=31, prefix="month")
    assert _report(app, month_old[0], post) is False
    assert _report(app, month_old[1], post) is True


def test_a_report_through_the_page_counts_only_from_an_old_enough_account(library, world):
    post = world["post"]
    for prefix, days in (("young", 2), ("senior", 10)):
        [uid] = _reporters(library, 1, days=days, prefix=prefix)
        client = library.test_client()
        sign_in(client, f"{prefix}0@example.org")
        response = client.post(f"/activities/{post}/report", data={
            "reason": "不实", "csrf_token": csrf_token(client, f"/activities/{post}")})
        assert response.status_code == 302
    with library.app_context():
        counted = {db.session.get(User, r.user_id).email: r.counted
                   for r in db.session.scalars(sa.select(ActivityReport))}
    assert counted == {"young0@example.org": False, "senior0@example.org": True}


def test_staff_are_mailed_at_the_first_report_only(library, world):
    post = world["post"]
    reporters = _reporters(library, 3, days=1)
    _report(library, reporters[0], post)
    mails = [m for m in outbox(library) if m["Subject"] == SUBJECT_EN]
    assert sorted(m["To"] for m in mails) == ["admin@example.org", "org@example.org"]
    body = mails[0].get_body(("plain",)).get_content()
    assert TITLE in body and re.search(rf"/manage/moderation/{post}\b", body)
    assert "内容不实" not in body  # the reporter's words stay in the queue
    _report(library, reporters[1], post)
    _report(library, reporters[2], post)
    assert len([m for m in outbox(library) if m["Subject"] == SUBJECT_EN]) == 2
    # Once staff have decided, a new report is a first report again.
    with library.app_context():
        sc.set_hidden(post, db.session.get(User, world["org"]), False, "核实后无误")
    [late] = _reporters(library, 1, days=1, prefix="late")
    _report(library, late, post)
    assert len([m for m in outbox(library) if m["Subject"] == SUBJECT_EN]) == 4


def _staff(app):
    client = app.test_client()
    sign_in(client, "org@example.org", lang="en")
    return client


def test_a_post_hidden_by_reports_waits_in_the_queue_and_can_be_restored(library, world):
    post = world["post"]
    [fresh] = _reporters(library, 1, days=1, prefix="fresh")
    _report(library, fresh, post)  # recorded, does not count
    for uid in _reporters(library, 3, days=8):
        _report(library, uid, post)
    assert _hidden(library, post)
    staff = _staff(library)
    queue = staff.get("/manage/moderation").get_data(as_text=True)
    hidden = queue[queue.index('id="hidden-by-reports"'):queue.index('id="reported"')]
    assert TITLE in hidden and f"/manage/moderation/{post}" in hidden
    assert "4 open reports" in hidden and "3 of them count towards hiding" in hidden
    page = staff.get(f"/manage/moderation/{post}").get_data(as_text=True)
    assert "hidden: by reports" in page and "Keep hidden" in page and "Restore" in page
    assert page.count("内容不实") == 4  # every report, counting or not, with its reason
    assert "no (new or unconfirmed account)" in page
    response = staff.post(f"/manage/moderation/{post}", data={
        "action": "restore", "reason": "核实后内容属实",
        "csrf_token": csrf_token(staff, f"/manage/moderation/{post}")})
    assert response.status_code == 302
    assert not _hidden(library, post)
    assert library.test_client().get(f"/activities/{post}").status_code == 200
    queue = staff.get("/manage/moderation").get_data(as_text=True)
    assert TITLE not in queue[queue.index('id="hidden-by-reports"'):]


def test_staff_can_keep_a_post_hidden_by_reports_hidden(library, world):
    post = world["post"]
    for uid in _reporters(library, 3, days=8):
        _report(library, uid, post)
    staff = _staff(library)
    response = staff.post(f"/manage/moderation/{post}", data={
        "action": "hide", "reason": "含有学生姓名",
        "csrf_token": csrf_token(staff, f"/manage/moderation/{post}")})
    assert response.status_code == 302
    with library.app_context():
        activity = db.session.get(Activity, post)
        assert activity.hidden and activity.hidden_reason == "含有学生姓名"
        assert all(r.resolved for r in db.session.scalars(sa.select(ActivityReport)))
    queue = staff.get("/manage/moderation").get_data(as_text=True)
    assert TITLE not in queue[queue.index('id="hidden-by-reports"'):]
    assert library.test_client().get(f"/activities/{post}").status_code == 404


def test_reports_that_did_not_hide_a_post_are_shown_to_staff(library, world):
    post = world["post"]
    for uid in _reporters(library, 2, days=1):
        _report(library, uid, post)
    queue = _staff(library).get("/manage/moderation").get_data(as_text=True)
    reported = queue[queue.index('id="reported"'):]
    assert TITLE in reported and "2 open reports" in reported
    assert "0 of them count towards hiding" in reported
