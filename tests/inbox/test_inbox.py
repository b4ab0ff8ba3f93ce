"""Issue 14: the staff inbox (every source, its count and first items, each with its age and
a link to act) and the API of the inbox and of notifications."""

from __future__ import annotations

import pytest

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.db import writing
from portal.extensions import db
from portal.inbox import services as inbox
from portal.schools import services as sc
from tests.conftest import make_user, sign_in
from tests.inbox.test_notifications import TITLE, _reporter, _world


def _u(uid):
    return db.session.get(User, uid)


@pytest.fixture
def world(library):
    ids = _world(library)
    citizen = make_user(library, email="applicant@example.org")
    with library.app_context():
        school = sc.apply_school(_u(citizen), sc.SchoolInput(
            "七星中学", "Qixing Middle", "nanhu", "middle", "", "张老师"))
        ids["pending"] = school.id
    ids["reporter"] = _reporter(library, "reporter@example.org")
    with library.app_context():
        sc.report(_u(ids["reporter"]), ids["post"], "照片有学生正脸")
    return ids


def _page(client) -> str:
    response = client.get("/manage/inbox?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_inbox_shows_a_reported_post_and_an_application_until_handled(library, world):
    staff = library.test_client()
    sign_in(staff, "org@example.org")
    html = _page(staff)
    assert TITLE in html and "照片有学生正脸" in html  # the report's reason
    assert f'/manage/moderation/{world["post"]}' in html
    assert "Qixing Middle" in html and "School applications" in html
    assert "ago" in html or "just now" in html  # each item's age
    assert 'class="nav-count"' in html  # the navigation's count
    with library.app_context():
        sc.set_hidden(world["post"], _u(world["org"]), False, "核实后无误")
        sc.verify_school(world["pending"], _u(world["admin"]))
    html = _page(staff)
    assert "照片有学生正脸" not in html and "Qixing Middle" not in html


def test_counts_are_one_statement_and_editorial_sources_hook_in(library, world):
    with library.app_context():
        org = _u(world["org"])
        counts = inbox.counts(org)
        assert counts["schools.reported"] == 1 and counts["schools.applications"] == 1
        assert "jobs.dead" not in counts  # dead jobs are for admins
        assert "jobs.dead" in inbox.counts(_u(world["admin"]))
        assert inbox.counts(_u(world["teacher"])) == {}  # a school editor has no source


def test_who_may_open_the_inbox(library, world):
    citizen = library.test_client()
    sign_in(citizen, "reporter@example.org")
    assert citizen.get("/manage/inbox").status_code == 403
    assert 'href="/manage/inbox"' not in citizen.get("/notifications").get_data(as_text=True)
    teacher = library.test_client()
    sign_in(teacher, "teacher@example.org")  # a school editor
    assert teacher.get("/manage/inbox").status_code == 403
    assert library.test_client().get("/manage/inbox").status_code in (302, 401)
    assert library.test_client().get("/notifications").status_code in (302, 401)


def _token(app, uid: int) -> str:
    with app.app_context():
        made = accounts.create_api_token(_u(uid), "test")
    return made[1]


def test_the_inbox_api(library, world):
    token = _token(library, world["org"])
    answer = library.test_client().get("/api/v1/inbox",
                                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    sources = {s["name"]: s for s in answer.get_json()["sources"]}
    assert sources["schools.reported"]["count"] == 1
    [item] = sources["schools.reported"]["items"]
    assert item["title"] == TITLE and item["url"].startswith("http")
    citizen = _token(library, world["reporter"])
    assert library.test_client().get("/api/v1/inbox", headers={
        "Authorization": f"Bearer {citizen}"}).status_code == 403


def test_the_notifications_api_pages_with_a_link_header(library, world):
    with library.app_context(), writing():
        for i in range(5):
            inbox.notify(world["teacher"], "schools.post", "/schools/mine", variant="approved",
                         title=f"第{i}篇", school="学校")
    token = _token(library, world["teacher"])
    client = library.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/notifications?limit=3", headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert "第4篇" in body["notifications"][0]["text"]
    assert len(body["notifications"]) == 3 and body["unread"] == 7
    link = first.headers["Link"]
    assert link.endswith('; rel="next"') and "cursor=" in link
    second = client.get(link[1:link.index(">")], headers=headers).get_json()
    assert len(second["notifications"]) == 3
    ids = [n["id"] for n in body["notifications"] + second["notifications"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    other = _token(library, world["reporter"])
    mine = client.get("/api/v1/notifications", headers={
        "Authorization": f"Bearer {other}"}).get_json()["notifications"]
    assert all(n["kind"] == "schools.report_handled" for n in mine)
    assert client.get("/api/v1/notifications?cursor=abc", headers=headers).status_code == 400


def test_the_moderation_queue_shows_the_reports_reasons(library, world):
    staff = library.test_client()
    sign_in(staff, "org@example.org")
    html = staff.get("/manage/moderation?lang=en").get_data(as_text=True)
    assert "照片有学生正脸" in html  # a reported post still visible, with what the report says
