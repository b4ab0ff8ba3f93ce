"""The audit log (issue 14): every staff action is one entry, told in words in the reader's
language; the staff page filters by a person's name, the action and Beijing-time days, pages
newest first and exports CSV; rows from before 0019 stay readable; the migration keeps them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import audit
from portal.accounts.models import User
from portal.audit import services as log
from portal.audit.models import AuditEntry
from portal.dashboard import services as dashboard
from portal.db import UTCDateTime, utcnow, writing
from portal.events import services as events
from portal.events.models import CONFIRMED, DRAFT, PUBLISHED, Event, Signup
from portal.extensions import db
from portal.households import services as households
from portal.households.models import Application, Household
from portal.i18n import force_locale
from portal.jobs import services as jobs
from portal.jobs.models import Job
from portal.schools import services as sc
from tests.conftest import csrf_token, make_user, sign_in
from tests.test_token_migration import _old_school, _old_user, fresh_app  # noqa: F401

BEFORE = "9b3e7f2a1c64"  # 0014: the schools' moderation_log, before issue 14
PREVIOUS = "c1a5e7d20f18"  # 0018: the revision 0019 follows
REVISION = "c1a5e7d20f19"  # 0019


def _entries(action: str | None = None) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))


def _told(entry: AuditEntry, lang: str = "en") -> str:
    with force_locale(lang):
        return log.sentence(entry)


RAW = ("hidden_by_reports", "activity:", "school:", "school_", "households.", "events.",
       "dashboard.", "{", "}")


def _readable(text: str) -> bool:
    return text and not any(code in text for code in RAW)


# -- the migration ---------------------------------------------------------------------------

LOG = sa.table("moderation_log", sa.column("actor_id"), sa.column("action"),
               sa.column("target"), sa.column("reason"), sa.column("created_at", UTCDateTime))


def _old_rows(conn) -> tuple[int, int]:
    teacher = _old_user(conn, "teacher@example.org")
    school = _old_school(conn, teacher)
    conn.execute(sa.insert(LOG).values(actor_id=teacher, action="school_verified",
                                       target=f"school:{school}", reason="",
                                       created_at=utcnow()))
    conn.execute(sa.insert(LOG).values(actor_id=None, action="hidden_by_reports",
                                       target="activity:1", reason="3 reports",
                                       created_at=utcnow()))
    return teacher, school


def _rows(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT actor_id, action, target, reason, label FROM audit_log ORDER BY id"))]


def test_0019_keeps_the_moderation_log_rows_and_downgrades(fresh_app):  # noqa: F811
    app = fresh_app
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as conn:
            teacher, school = _old_rows(conn)
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            assert _rows(conn) == [(teacher, "school_verified", f"school:{school}", "", ""),
                                   (None, "hidden_by_reports", "activity:1", "3 reports", "")]
            data = conn.execute(sa.text("SELECT data FROM audit_log")).scalars().all()
            assert all(d in ({}, "{}") for d in data)
            assert not sa.inspect(conn).has_table("moderation_log")
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("audit_log")}
            assert {"ix_audit_log_actor_id_id", "ix_audit_log_action_id",
                    "ix_audit_log_created_at"} <= indexes
        with app.test_request_context("/?lang=en"):
            old = _entries()
            assert _told(old[0]) == f"老师 registered the school 'school {school}'"
            assert _told(old[1]) == "Automatically: hid 'post 1'"
            # New rows are numbered after the old ones (PostgreSQL's sequence came along).
            with writing():
                audit.record(db.session.get(User, teacher), "approved", "activity:2", "植树")
            assert _entries()[-1].id == old[-1].id + 1
            db.session.remove()  # its read transaction would hold the table the downgrade alters
        downgrade(revision=PREVIOUS)
        with db.engine.connect() as conn:
            assert not sa.inspect(conn).has_table("audit_log")
            columns = {c["name"] for c in sa.inspect(conn).get_columns("moderation_log")}
            assert "label" not in columns and "data" not in columns
            assert conn.execute(sa.text("SELECT count(*) FROM moderation_log")).scalar() == 3
            assert conn.execute(sa.text("SELECT actor_id FROM moderation_log ORDER BY id")
                                ).scalars().all() == [teacher, None, teacher]


def test_the_rows_of_0014_are_all_still_there_after_0019(fresh_app):  # noqa: F811
    app = fresh_app
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            _teacher, school = _old_rows(conn)
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            assert [r[1:] for r in _rows(conn)] == [
                ("school_verified", f"school:{school}", "", ""),
                ("hidden_by_reports", "activity:1", "3 reports", "")]


def test_the_actors_of_0014_rows_survive_the_migrations(fresh_app):  # noqa: F811
    app = fresh_app
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            teacher, _school = _old_rows(conn)
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            assert _rows(conn)[0][0] == teacher


# -- telling entries in words ------------------------------------------------------------------

def test_entries_are_told_in_the_readers_language_with_the_actors_name(app):
    wang = make_user(app, email="wang@example.org", role="organizer", name="王敏")
    with app.test_request_context("/"):
        with writing():
            audit.record(db.session.get(User, wang), "hidden", "activity:7", "Tree planting",
                         "含有学生姓名", reports=3)
            audit.record(None, "hidden_by_reports", "activity:8", "植树活动", reports=1)
            audit.record(db.session.get(User, wang), "restored", "activity:9", "植树活动",
                         reports=0)
            audit.record(db.session.get(User, wang), "no.such_action", "activity:10")
        hid, auto, restored, unknown = _entries()
        assert _told(hid) == "王敏 hid 'Tree planting' (3 reports)"
        assert _told(auto) == "Automatically: hid '植树活动' (1 report)"
        assert _told(restored) == "王敏 restored '植树活动'"  # no "(0 reports)"
        assert _told(unknown) == "王敏: no such action, post 10"
        assert auto.data == {"reports": 1, "auto": True}
        for entry in (hid, auto, restored, unknown):
            zh = _told(entry, "zh")
            assert _readable(zh), zh


def test_an_entry_of_a_deleted_account_does_not_read_as_automatic(app):
    gone = make_user(app, email="gone@example.org", role="admin", name="离职者")
    with app.test_request_context("/"):
        with writing():
            audit.record(db.session.get(User, gone), "approved", "activity:3", "植树")
        with writing():
            db.session.delete(db.session.get(User, gone))
        db.session.expire_all()
        entry = _entries()[0]
        assert entry.actor_id is None
        told = _told(entry)
        assert "Automatically" not in told and "植树" in told and "离职者" not in told


def test_every_described_action_reads_without_codes_even_without_label_or_data(app):
    with app.test_request_context("/?lang=en"):
        admin = make_user(app, email="a@example.org", role="admin", name="管理员")
        with writing():
            for action in log.ACTIONS:
                audit.record(db.session.get(User, admin), action, "activity:5")
        for entry in _entries():
            for lang in ("en", "zh"):
                told = _told(entry, lang)
                assert _readable(told), (entry.action, told)
                assert "管理员" in told
        names = dict(log.actions())
        assert all(_readable(n) for n in names.values())
        assert names["hidden_by_reports"] == "Post hidden after reports"


# -- every staff action is recorded ----------------------------------------------------------

def test_schools_moderation_actions_each_write_a_readable_entry(library):
    teacher = make_user(library, email="teacher@example.org", name="李老师")
    admin = make_user(library, email="admin@example.org", role="admin", name="王敏")
    org = make_user(library, email="org@example.org", role="organizer", name="赵组织")
    with library.test_request_context("/"):
        def user(uid):
            return db.session.get(User, uid)

        school = sc.apply_school(user(teacher), sc.SchoolInput(
            "南湖实验小学", "Nanhu Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(school.id, user(admin))
        sc.set_green_status(school.id, "city", 2025, user(org))
        other = sc.apply_school(user(teacher), sc.SchoolInput(
            "西塘小学", "Xitang Primary", "jiashan", "primary", "西塘路1号", "李老师"))
        sc.reject_school(other.id, user(admin), "材料不全")
        school = db.session.get(type(school), school.id)
        post = sc.save_activity(user(teacher), school, sc.ActivityInput(
            "湿地观鸟", "我们观察白鹭。", date(2026, 11, 20), ["nature"], None))
        sc.submit(user(teacher), post.id, True)
        sc.approve(post.id, user(org))
        sc.set_hidden(post.id, user(org), True, "含有学生姓名")
        sc.set_hidden(post.id, user(org), False, "已核实")
        second = sc.save_activity(user(teacher), school, sc.ActivityInput(
            "植树活动", "我们种树。", date(2026, 11, 21), ["nature"], None))
        sc.submit(user(teacher), second.id, True)
        sc.reject(second.id, user(org), "照片不清楚")
        entries = [e for e in _entries() if e.target.startswith(("school:", "activity:"))]
        told = {e.action: _told(e) for e in entries}
        assert [e.action for e in entries] == [
            "school_applied", "school_verified", "green_status", "school_applied",
            "school_rejected", "submitted", "approved", "hidden", "restored", "submitted",
            "rejected"]
        assert told["school_verified"] == "王敏 registered the school '南湖实验小学'"
        assert told["green_status"] == ("赵组织 set the green-school title of '南湖实验小学' to "
                                        "City-level green school 2025")
        assert told["approved"] == "赵组织 approved the post '湿地观鸟'"
        assert told["hidden"] == "赵组织 hid '湿地观鸟'"
        assert told["rejected"] == "赵组织 sent back the post '植树活动'"
        assert [e.reason for e in entries if e.action in ("school_rejected", "rejected")] == [
            "材料不全", "照片不清楚"]
        for entry in entries:
            assert _readable(_told(entry, "zh")), entry.action


def test_posts_hidden_by_reports_are_recorded_as_automatic_with_the_count(library):
    teacher = make_user(library, email="teacher@example.org", name="李老师")
    org = make_user(library, email="org@example.org", role="organizer")
    reporters = [make_user(library, email=f"r{i}@example.org") for i in range(3)]
    with library.test_request_context("/"):
        library.config["REPORTS_MIN_ACCOUNT_AGE"] = timedelta(0)
        school = sc.apply_school(db.session.get(User, teacher), sc.SchoolInput(
            "南湖实验小学", "Nanhu Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(school.id, db.session.get(User, make_user(
            library, email="admin@example.org", role="admin")))
        school = db.session.get(type(school), school.id)
        post = sc.save_activity(db.session.get(User, teacher), school, sc.ActivityInput(
            "湿地观鸟", "我们观察白鹭。", date(2026, 11, 20), ["nature"], None))
        sc.submit(db.session.get(User, teacher), post.id, True)
        sc.approve(post.id, db.session.get(User, org))
        for uid in reporters:
            sc.report(db.session.get(User, uid), post.id, "不合适")
        hidden = _entries("hidden_by_reports")
        assert len(hidden) == 1 and hidden[0].actor_id is None
        assert _told(hidden[0]) == "Automatically: hid '湿地观鸟' (3 reports)"
        sc.set_hidden(post.id, db.session.get(User, org), True, "确有问题")
        assert _told(_entries("hidden")[0]).endswith("hid '湿地观鸟' (3 reports)")


def _household(app, name="绿色之家") -> tuple[int, int]:
    owner = make_user(app, email=f"{name}@example.org")
    with app.app_context(), writing():
        home = Household(owner_id=owner, name=name, district="nanhu", invite_code="ABC1234567",
                         created_at=utcnow())
        db.session.add(home)
        db.session.flush()
        application = Application(household_id=home.id, story="我们一直在做。")
        db.session.add(application)
        db.session.flush()
        return home.id, application.id


def test_households_staff_actions_are_logged(app):
    org = make_user(app, email="org@example.org", role="organizer", name="赵组织")
    home, application = _household(app)
    with app.test_request_context("/"):
        staff = db.session.get(User, org)
        households.decide(application, True, staff)
        households.review(home, "rectify", staff, "垃圾没有分类",
                          rectify_by=date.today() + timedelta(days=30))
        households.review(home, "confirm", staff)
        households.unmask_phone(db.session.get(Household, home), staff)
        households.review(home, "revoke", staff, "多次未整改")
        entries = _entries()
        assert [e.action for e in entries] == [
            "households.approved", "households.rectify", "households.confirm",
            "households.unmask", "households.revoke"]
        assert all(e.actor_id == org and e.target == f"household:{home}" for e in entries)
        assert _told(entries[0]) == "赵组织 named '绿色之家' a green family"
        assert _told(entries[1]).startswith("赵组织 asked '绿色之家' to put things right by ")
        assert entries[4].reason == "多次未整改"
        for entry in entries:
            assert _readable(_told(entry, "zh"))


def _event(app, organizer: int, status: str = PUBLISHED) -> int:
    at = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    with app.app_context(), writing():
        event = Event(title_zh="河道清洁", title_en="River clean-up", description_zh="清理。",
                      starts_at=at, ends_at=at + timedelta(hours=3), signup_deadline=at,
                      place="南湖北门", district="nanhu", capacity=10, status=status,
                      organizer_id=organizer)
        db.session.add(event)
        db.session.flush()
        return event.id


def test_events_staff_actions_are_logged(app):
    org = make_user(app, email="org@example.org", role="organizer", name="赵组织")
    volunteer = make_user(app, email="v@example.org")
    draft = _event(app, org, DRAFT)
    shown = _event(app, org)
    with app.app_context(), writing():
        signup = Signup(event_id=shown, user_id=volunteer, status=CONFIRMED)
        db.session.add(signup)
        db.session.flush()
        signup_id = signup.id
    with app.test_request_context("/"):
        staff = db.session.get(User, org)
        events.publish(draft, by=staff)
        events.correct_hours(shown, signup_id, Decimal("2.5"), "提前离开", staff)
        events.cancel_event(shown, by=staff)
        events.publish(_event(app, org, DRAFT))  # not from the staff pages: not logged
        entries = _entries()
        assert [e.action for e in entries] == ["events.publish", "events.correct_hours",
                                               "events.cancel"]
        assert _told(entries[0]) == "赵组织 published the event '河道清洁'"
        assert _told(entries[1]) == ("赵组织 corrected a volunteer's hours at '河道清洁' "
                                     "from 0 to 2.5")
        assert entries[1].reason == "提前离开"
        assert _told(entries[2]) == "赵组织 cancelled the event '河道清洁' (1 person told)"


def test_cancelling_and_publishing_through_the_pages_are_logged(app):
    org = make_user(app, email="org@example.org", role="organizer", name="赵组织")
    draft, shown = _event(app, org, DRAFT), _event(app, org)
    client = app.test_client()
    sign_in(client, "org@example.org")
    token = csrf_token(client, f"/events/{draft}")
    assert client.post(f"/events/{draft}/publish", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/events/{shown}/cancel", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert [e.action for e in _entries()] == ["events.publish", "events.cancel"]


def test_entered_figures_and_dead_job_retries_are_logged(app):
    org = make_user(app, email="org@example.org", role="organizer", name="赵组织")
    with app.test_request_context("/"):
        key = next(t.key for t in dashboard.targets() if not t.live)
        dashboard.enter_figure(key, Decimal("12"), date(2026, 11, 30), "统计局",
                               db.session.get(User, org))
        with writing():
            job = Job(kind="events.mail", payload={"signup": 0}, state="dead", attempts=5,
                      last_error="down")
            db.session.add(job)
            db.session.flush()
            job_id = job.id
        assert jobs.retry(failed=False, dead_too=True, job_id=job_id,
                          by=db.session.get(User, org)) == 1
        assert jobs.retry(failed=False, dead_too=True) == 0  # nothing done: nothing logged
        figure, retry = _entries()
        assert figure.action == "dashboard.figure" and figure.actor_id == org
        told = _told(figure)
        assert told.startswith("赵组织 entered 12 for '") and "November 30, 2026" in told
        assert "统计局" in told
        assert "2026年11月30日" in _told(figure, "zh")
        assert retry.action == "jobs.retry" and retry.target == f"job:{job_id}"
        assert _told(retry).startswith("赵组织 tried again 1 job that had failed (")
        assert _readable(_told(retry, "zh"))


# -- the page and the export -----------------------------------------------------------------

@pytest.fixture
def logged(app):
    """An administrator, an organizer and a citizen; entries by two people on two days."""
    ids = {"admin": make_user(app, email="admin@example.org", role="admin", name="Admin Li"),
           "org": make_user(app, email="org@example.org", role="organizer", name="王敏"),
           "citizen": make_user(app, email="citizen@example.org")}
    with app.app_context(), writing():
        db.session.add(AuditEntry(actor_id=None, action="hidden_by_reports",
                                  target="activity:12", reason="3 reports",
                                  created_at=datetime(2026, 11, 29, tzinfo=UTC)))
        # 2026-11-30 23:30 Beijing time is 15:30 UTC; 2026-12-01 00:30 is 16:30 UTC.
        for actor, action, label, at in (
                ("org", "hidden", "植树活动", datetime(2026, 11, 30, 15, 30, tzinfo=UTC)),
                ("admin", "school_verified", "南湖实验小学",
                 datetime(2026, 11, 30, 16, 30, tzinfo=UTC)),
                ("org", "approved", "湿地观鸟", datetime(2026, 12, 1, 2, 0, tzinfo=UTC))):
            db.session.add(AuditEntry(actor_id=ids[actor], action=action,
                                      target="activity:1", label=label, reason="=cmd()",
                                      data={"reports": 2} if action == "hidden" else {},
                                      created_at=at))
    return ids


def _client(app, who: str):
    client = app.test_client()
    sign_in(client, f"{who}@example.org")
    return client


def _listed(html: str) -> str:
    return html[html.index('<ol class="audit-list">'):html.index("</ol>")] \
        if '<ol class="audit-list">' in html else ""


def test_the_page_is_for_administrators_only(app, logged):
    assert app.test_client().get("/manage/audit").status_code in (302, 401, 403)
    for who in ("org", "citizen"):
        client = _client(app, who)
        assert client.get("/manage/audit").status_code == 403
        assert client.get("/manage/audit.csv").status_code == 403


def test_the_page_tells_entries_newest_first_without_raw_codes(app, logged):
    html = _client(app, "admin").get("/manage/audit?lang=en").get_data(as_text=True)
    listed = _listed(html)
    assert listed.index("湿地观鸟") < listed.index("南湖实验小学") < listed.index("植树活动")
    assert "王敏 hid &#39;植树活动&#39; (2 reports)" in listed
    assert "Automatically: hid &#39;post 12&#39;" in listed
    assert _readable(listed.replace("&#39;", "'"))
    assert '<option value="hidden_by_reports">Post hidden after reports</option>' in html


def test_filter_by_a_persons_name_the_action_and_beijing_days(app, logged):
    client = _client(app, "admin")

    def listed(query: str) -> str:
        response = client.get(f"/manage/audit?lang=en&{query}")
        assert response.status_code == 200, query
        return _listed(response.get_data(as_text=True))

    by_wang = listed("person=王")
    assert "植树活动" in by_wang and "湿地观鸟" in by_wang and "南湖实验小学" not in by_wang
    by_li = listed("person=admin+l")  # contains, case-insensitive
    assert "南湖实验小学" in by_li and "植树活动" not in by_li
    assert listed("person=%25") == ""  # a wildcard is a character like any other
    assert listed("person=nobody") == ""
    approved = listed("action=approved")
    assert "湿地观鸟" in approved and "植树活动" not in approved
    # 30 November in Beijing: 23:30 that day (15:30 UTC); the entry at 00:30 on 1 December
    # (16:30 UTC on 30 November) is of the next day.
    day = listed("from=2026-11-30&to=2026-11-30")
    assert "植树活动" in day and "南湖实验小学" not in day
    december = listed("from=2026-12-01")
    assert "南湖实验小学" in december and "湿地观鸟" in december and "植树活动" not in december
    assert "post 12" in listed("to=2026-11-29")


@pytest.mark.parametrize("query", ["from=2026-13-01", "to=yesterday", "from=2026-12-01&"
                                   "to=2026-11-01", "from=２０２６-１２-０１", "to=2026-2-30"])
def test_a_bad_date_is_a_translated_message_not_a_500(app, logged, query):
    client = _client(app, "admin")
    for path in ("/manage/audit", "/manage/audit.csv"):
        response = client.get(f"{path}?lang=en&{query}")
        assert response.status_code == 400, (path, query)
        html = response.get_data(as_text=True)
        assert 'role="alert"' in html and ("Enter a date like" in html
                                           or "cannot be before" in html)
        assert 'aria-invalid="true"' in html
    zh = client.get(f"/manage/audit?lang=zh&{query}")
    assert zh.status_code == 400 and 'role="alert"' in zh.get_data(as_text=True)


def test_the_csv_export_holds_the_filtered_log_in_words(app, logged):
    client = _client(app, "admin")
    response = client.get("/manage/audit.csv?lang=en&person=王")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Time (Beijing time)", "Person", "Action", "What happened", "Reason"]
    assert rows[1:] == [
        ["2026-12-01 10:00:00", "王敏", "Post approved", "王敏 approved the post '湿地观鸟'",
         "'=cmd()"],
        ["2026-11-30 23:30:00", "王敏", "Post hidden", "王敏 hid '植树活动' (2 reports)",
         "'=cmd()"]]
    everything = list(csv.reader(io.StringIO(client.get("/manage/audit.csv?lang=en")
                                             .get_data(as_text=True).lstrip("\ufeff"))))
    assert len(everything) == 5
    assert everything[-1][1:3] == ["Automatically", "Post hidden after reports"]
    assert all(_readable(cell) for row in everything[1:] for cell in row[1:4])


def test_the_page_is_paged_newest_first(app, logged):
    with app.app_context(), writing():
        db.session.add_all(AuditEntry(actor_id=logged["org"], action="approved",
                                      target=f"activity:{i}", label=f"第{i}篇")
                           for i in range(60))
    client = _client(app, "admin")
    first = client.get("/manage/audit?lang=en&action=approved").get_data(as_text=True)
    assert "第59篇" in first and "第10篇" in first and "第9篇" not in first
    link = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "action=approved" in link
    second = client.get(link).get_data(as_text=True)
    assert "第9篇" in second and "第0篇" in second and "湿地观鸟" in second
    assert "第10篇" not in _listed(second)
