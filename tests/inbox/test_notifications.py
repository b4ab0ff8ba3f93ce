"""Issue 14: notifications on the site and by mail, each decision telling the right people
once, the mail in the recipient's language, and each person's choice of mail per kind."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.households import services as hh
from portal.inbox import services as inbox
from portal.inbox.models import Notification, NotificationSetting
from portal.jobs.models import Job
from portal.schools import services as sc
from tests.conftest import Inbox, csrf_token, free_port, make_user, outbox, run_jobs, sign_in

TITLE = "湿地观鸟活动"


def _u(uid: int) -> User:
    return db.session.get(User, uid)


def _rows(app, uid: int, kind: str | None = None) -> list[Notification]:
    with app.app_context():
        stmt = sa.select(Notification).where(Notification.user_id == uid)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        return list(db.session.scalars(stmt.order_by(Notification.id)))


def _world(app):
    """A school applied for by an English-speaking teacher (verified by a zh-speaking admin),
    one published post, an organizer."""
    teacher = make_user(app, email="teacher@example.org", name="Ms Li", locale="en")
    admin = make_user(app, email="admin@example.org", name="王敏", role="admin", locale="zh")
    org = make_user(app, email="org@example.org", name="赵强", role="organizer")
    with app.app_context():
        school = sc.apply_school(_u(teacher), sc.SchoolInput(
            "南湖实验小学", "Nanhu Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(school.id, _u(admin))
        post = sc.save_activity(_u(teacher), db.session.get(sc.School, school.id),
                                sc.ActivityInput(TITLE, "我们看到了白鹭。", date(2026, 3, 12),
                                                 ["nature"]))
        sc.submit(_u(teacher), post.id, True)
        sc.approve(post.id, _u(org))
        ids = {"teacher": teacher, "admin": admin, "org": org, "school": school.id,
               "post": post.id}
    return ids


def _reporter(app, email: str) -> int:
    uid = make_user(app, email=email)
    with app.app_context(), writing():
        _u(uid).created_at = utcnow() - timedelta(days=30)  # old enough to count
    return uid


@pytest.fixture
def world(library):
    return _world(library)


def test_notify_writes_a_row_and_a_mail_job_unless_mail_is_off(app):
    uid = make_user(app, email="a@example.org")
    with app.app_context():
        with writing():
            row = inbox.notify(uid, "schools.post", "/schools/mine", variant="approved",
                               title="T", school={"zh": "学校", "en": "School"})
        jobs = db.session.scalars(sa.select(Job).where(Job.kind == inbox.MAIL_JOB)).all()
        assert [j.payload for j in jobs] == [{"notification": row.id}]
        inbox.save_settings(_u(uid), set())  # every mail off
        assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationSetting)
                                 .where(NotificationSetting.kind == "schools.post")) == 1
        with writing():
            inbox.notify(uid, "schools.post", "/schools/mine", variant="rejected", title="T",
                         school="学校")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == inbox.MAIL_JOB)) == 1
        assert inbox.mail_settings(_u(uid))["schools.post"] is False


def test_the_mail_is_in_the_recipients_language(library, world):
    mails = [m for m in outbox(library) if m["To"] == "teacher@example.org"]
    subjects = sorted(m["Subject"] for m in mails)
    assert subjects == ["Your school is registered on Green Jiaxing",
                        "Your school's post was approved"]
    body = next(m for m in mails if "registered" in m["Subject"]).get_body().get_content()
    assert "Nanhu Primary is now registered on Green Jiaxing" in body
    assert "http://localhost:5000/schools/mine" in body
    assert "/notifications/settings" in body


def test_mail_goes_through_a_real_smtp_server(make_library_app):
    port = free_port()
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = make_library_app(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port,
                               MAIL_SMTP_STARTTLS=False)
        ids = _world(app)
        run_jobs(app)
    finally:
        controller.stop()
    to_teacher = [message_from_bytes(e.content, policy=policy.default)
                  for e in received.messages if "teacher@example.org" in e.rcpt_tos]
    assert len(to_teacher) == 2
    assert {m["Subject"] for m in to_teacher} == {"Your school is registered on Green Jiaxing",
                                                  "Your school's post was approved"}
    assert len(_rows(app, ids["teacher"])) == 2


def test_each_school_decision_notifies_the_right_people_once(library, world):
    teacher, org, admin, post = world["teacher"], world["org"], world["admin"], world["post"]
    assert [n.kind for n in _rows(library, teacher)] == ["schools.application", "schools.post"]
    assert _rows(library, org) == [] and _rows(library, admin) == []
    reporters = [_reporter(library, f"r{i}@example.org") for i in range(3)]
    with library.app_context():
        sc.report(_u(reporters[0]), post, "内容不实")
        sc.report(_u(reporters[1]), post, "照片有学生正脸")
    # organizers and admins: one notification for the post's first report, not one per report
    for staff in (org, admin):
        assert [n.kind for n in _rows(library, staff)] == ["schools.reported"]
    with library.app_context():
        assert sc.report(_u(reporters[2]), post, "重复") is True  # the third hides it
    for staff in (org, admin):
        assert [n.kind for n in _rows(library, staff)] == ["schools.reported",
                                                           "schools.auto_hidden"]
    assert _rows(library, teacher)[-1].params["variant"] == "hidden_by_reports"
    with library.app_context():
        sc.set_hidden(post, _u(org), False, "核实后无误")
    for uid in reporters:  # each reporter hears once what staff decided
        [told] = _rows(library, uid)
        assert told.kind == "schools.report_handled" and told.params["variant"] == "restored"
    assert _rows(library, teacher)[-1].params["variant"] == "restored"
    with library.app_context():
        sc.set_hidden(post, _u(org), True, "违反规定")  # no open report left: nobody
    for uid in reporters:
        assert len(_rows(library, uid)) == 1
    assert _rows(library, teacher)[-1].params == {
        "variant": "hidden", "title": TITLE, "reason": "违反规定",
        "school": {"zh": "南湖实验小学", "en": "Nanhu Primary"}}


def test_a_rejected_school_tells_the_reason(library, world):
    citizen = make_user(library, email="c@example.org", locale="en")
    with library.app_context():
        school = sc.apply_school(_u(citizen), sc.SchoolInput(
            "某中学", "", "haining", "middle", "", "王老师"))
        sc.reject_school(school.id, _u(world["admin"]), "无法核实")
    [row] = _rows(library, citizen)
    assert row.params["reason"] == "无法核实" and row.link == "/schools/apply"
    [mail] = [m for m in outbox(library) if m["To"] == "c@example.org"]
    assert "无法核实" in mail.get_body().get_content()
    assert mail["Subject"] == "Your school's registration was not accepted"


def test_a_declined_post_tells_every_editor(library, world):
    second = make_user(library, email="second@example.org")
    with library.app_context(), writing():
        school = db.session.get(sc.School, world["school"])
        school.editors.append(sc.SchoolEditor(user_id=second))
    with library.app_context():
        post = sc.save_activity(_u(world["teacher"]), db.session.get(sc.School, world["school"]),
                                sc.ActivityInput("第二篇", "内容", date(2026, 3, 13), []))
        sc.submit(_u(world["teacher"]), post.id, True)
        sc.reject(post.id, _u(world["org"]), "请补充照片说明")
    for uid in (world["teacher"], second):
        row = _rows(library, uid, "schools.post")[-1]
        assert row.params["variant"] == "rejected" and row.params["reason"] == "请补充照片说明"


def _household(app):
    owner = make_user(app, email="owner@example.org", locale="en")
    staff = make_user(app, email="staff@example.org", role="organizer")
    with app.app_context():
        h = hh.register(_u(owner), hh.HouseholdInput(name="张家", district="南湖区"))
        codes = ["sort-kitchen-waste", "reusable-shopping-bag", "standby-power-off",
                 "walk-cycle-transit-short-trips", "led-lighting", "short-showers"]
        hh.set_pledges(h, codes)
        today = date.today()
        for back in (3, 2, 1):
            index = today.year * 12 + today.month - 1 - back
            day = date(index // 12, index % 12 + 1, 15)
            hh.report(h, f"{day:%Y-%m}", codes, today=day)
        return owner, staff, h.id


def test_the_household_hears_the_decision_once(app):
    owner, staff, household = _household(app)
    with app.app_context():
        application = hh.apply(db.session.get(hh.Household, household), "", _u(owner))
        hh.decide(application.id, False, _u(staff), "报告不全")
    [row] = _rows(app, owner)
    assert row.kind == "households.application" and row.params["variant"] == "rejected"
    [mail] = outbox(app)  # the notification's mail replaces the decision mail
    assert mail["Subject"] == "Your green-family application was not approved"
    assert "报告不全" in mail.get_body().get_content()


def test_unread_count_pages_and_mark_read(library, world):
    client = library.test_client()
    sign_in(client, "teacher@example.org")
    html = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "Nanhu Primary is now registered" in html and 'class="nav-count"' in html
    assert html.count('class="notification unread"') == 2
    with library.app_context():
        assert inbox.unread_count(world["teacher"]) == 2
        with writing():
            inbox.notify_many([world["teacher"]] * 1, "schools.post", "/", variant="approved",
                              title="x", school="y")
            for _ in range(12):
                inbox.notify(world["teacher"], "schools.post", "/", variant="approved",
                             title="x", school="y")
        assert inbox.unread_count(world["teacher"]) == inbox.UNREAD_SHOWN + 1  # capped
    assert "9+" in client.get("/notifications").get_data(as_text=True)
    token = csrf_token(client, "/notifications")
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302
    with library.app_context():
        assert inbox.unread_count(world["teacher"]) == 0
    html = client.get("/notifications").get_data(as_text=True)
    assert 'class="notification unread"' not in html and 'class="nav-count"' not in html


def test_people_see_only_their_own_notifications(library, world):
    other = library.test_client()
    make_user(library, email="other@example.org")
    sign_in(other, "other@example.org")
    html = other.get("/notifications?lang=en").get_data(as_text=True)
    assert "Nanhu Primary" not in html and "You have no notifications." in html


def test_settings_page_switches_mail_per_kind(library, world):
    client = library.test_client()
    sign_in(client, "teacher@example.org")
    html = client.get("/notifications/settings?lang=en").get_data(as_text=True)
    assert 'value="schools.post"' in html and 'value="schools.reported"' not in html  # staff
    token = csrf_token(client, "/notifications/settings")
    client.post("/notifications/settings", data={"csrf_token": token,
                                                 "mail": ["schools.application"]})
    with library.app_context():
        chosen = inbox.mail_settings(_u(world["teacher"]))
    assert chosen["schools.application"] is True and chosen["schools.post"] is False


def test_notifications_go_with_the_account(library, world):
    with library.app_context():
        exported = inbox._export(_u(world["teacher"]))
        assert len(exported["items"]) == 2
        assert "Nanhu" in exported["items"][0]["sentence"] or "南湖" in exported["items"][0][
            "sentence"]
