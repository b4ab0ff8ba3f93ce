"""Every school list comes in pages (issue 13, bounded lists): the directory (by district and
name, its filters kept from page to page), a school's posts, an editor's posts, the staff's
applications and green-status list, the moderation queues, a post's reports and the audit log.
Each is walked page by page through its links: every row once, in order; a cursor that is not
one is a translated 400, never a 5xx; and a page costs the same number of statements whether
it shows 5 rows or 50, each with its own school or person (no statement per row)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from portal.accounts.models import User
from portal.audit import services as audit
from portal.audit.models import AuditEntry
from portal.db import utcnow, writing
from portal.extensions import db
from portal.paging import PAGE_SIZE
from portal.schools import reports
from portal.schools import services as sc
from portal.schools.models import (
    Activity,
    ActivityReport,
    School,
    SchoolEditor,
)
from tests.conftest import make_user, sign_in
from tests.schools.pages import flat, section, statements, walk

MANY = PAGE_SIZE * 2 + 5
_SLUGS = itertools.count()


@pytest.fixture
def site(make_app):
    return make_app(PAGE_CACHE_ENABLED=False)


def _users(app, n: int, prefix: str = "p") -> list[int]:
    now = utcnow()
    with app.app_context(), writing():
        users = [User(email=f"{prefix}{i}@example.org", display_name=f"{prefix}{i}号",
                      password_hash="x", role="organizer", privacy_version="1",
                      privacy_consented_at=now, created_at=now) for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        return [u.id for u in users]


def _schools(app, n: int, district: str = "nanhu", status: str = "verified",
             kind: str = "primary", prefix: str = "学校") -> list[int]:
    """``n`` schools, made so that id order is the reverse of name order (the directory must
    sort by name, not by when a school was added)."""
    now = utcnow()
    with app.app_context(), writing():
        schools = [School(name_zh=f"{prefix}{i:03d}", district=district, type=kind,
                          status=status, slug=f"school-x{next(_SLUGS)}",
                          contact="x", created_at=now) for i in reversed(range(n))]
        db.session.add_all(schools)
        db.session.flush()
        return [s.id for s in schools]


def _posts(app, school_ids: list[int], **fields) -> list[int]:
    """One post per school in ``school_ids`` (a school may repeat), in that order."""
    now = utcnow()
    with app.app_context(), writing():
        posts = [Activity(school_id=s, title=f"帖子{i}", body="正文", draft_title=f"草稿{i}",
                          draft_body="正文", activity_date=date(2026, 1, 1) + timedelta(days=i),
                          created_at=now, **fields) for i, s in enumerate(school_ids)]
        db.session.add_all(posts)
        db.session.flush()
        return [p.id for p in posts]


def _staff(app, client, role: str = "admin") -> int:
    uid = make_user(app, email=f"{role}-staff@example.org", role=role)
    sign_in(client, f"{role}-staff@example.org")
    return uid


def _same_cost(costs: list[int]) -> None:
    """Every page, full or nearly empty, cost the same number of statements."""
    assert len(costs) >= 3 and len(set(costs)) == 1, costs


# -- public ----------------------------------------------------------------------------------

def test_the_directory_pages_by_district_and_name_and_keeps_its_filters(site):
    nanhu = _schools(site, MANY)
    _schools(site, 7, district="xiuzhou")  # other districts, kinds and pending ones stay out
    _schools(site, 4, kind="middle", prefix="中学")
    _schools(site, 3, status="pending", prefix="待审")
    client = site.test_client()
    pages, costs, links = walk(site, client, "/schools?district=nanhu&type=primary",
                               r'href="/schools/school-x\d+"[^>]*>学校(\d+)<')
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 5]
    assert flat(pages) == list(range(MANY))  # by name, every school once
    assert all("district=nanhu" in link and "type=primary" in link for link in links)
    _same_cost(costs)
    assert costs[0] <= 10  # a public page's budget
    # Without filters: districts in order, then names; ids of the first page are nanhu's.
    everything, _costs, _links = walk(site, client, "/schools",
                                      r'class="event-card"><a href="/schools/([^"]+)"')
    assert len(set(flat(everything))) == len(flat(everything)) == MANY + 7 + 4
    with site.app_context():
        first = sc.directory(None, "nanhu", "primary")
        assert [s.id for s in first.items] == nanhu[::-1][:PAGE_SIZE]


def test_a_schools_posts_in_pages_newest_activity_first(site):
    school = _schools(site, 1)[0]
    posts = _posts(site, [school] * MANY, status="published")
    _posts(site, [school] * 3, status="draft")  # not published: not listed
    client = site.test_client()
    with site.app_context():
        slug = db.session.get(School, school).slug
    pages, costs, links = walk(site, client, f"/schools/{slug}", r'href="/activities/(\d+)"')
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 5]
    assert flat(pages) == posts[::-1]  # by the activity's date, newest first
    assert all("?after=" in link for link in links[1:])
    _same_cost(costs)
    assert costs[0] <= 10
    back = client.get(links[2]).get_data(as_text=True)
    assert f'href="/schools/{slug}">' in back  # back to the first page
    for bad in ("x.1", "1", "0.5", "99999999999.5", "-3.2"):  # not a (day, id) of a page
        refused = client.get(f"/schools/{slug}?after={bad}")
        assert refused.status_code == 400, bad
        assert "页面地址无效" in refused.get_data(as_text=True), bad


# -- editors ---------------------------------------------------------------------------------

def test_an_editors_posts_of_all_their_schools_in_pages_without_a_query_per_school(site):
    client = site.test_client()
    editor = make_user(site, email="editor@example.org")
    schools = _schools(site, 12, prefix="编辑")
    with site.app_context(), writing():
        db.session.add_all(SchoolEditor(school_id=s, user_id=editor) for s in schools)
    posts = _posts(site, [schools[i % 12] for i in range(MANY)])
    _posts(site, _schools(site, 2, prefix="别校"))  # another school's posts are not theirs
    sign_in(client, "editor@example.org")
    pages, costs, _links = walk(site, client, "/schools/mine", r'href="/activities/(\d+)/edit"')
    assert flat(pages) == posts[::-1]
    _same_cost(costs)


# -- staff -----------------------------------------------------------------------------------

def test_staff_pages_of_applications_and_of_the_green_status_list(site):
    client = site.test_client()
    _staff(site, client)
    pending = _schools(site, MANY, status="pending", prefix="申请")
    verified = _schools(site, MANY, prefix="已认证")
    apps, costs, _links = walk(site, client, "/manage/schools", r'/manage/schools/(\d+)/verify"',
                               part=lambda p: section(p, "<h2>", '<ul class="event-list">'))
    assert flat(apps) == pending  # oldest application first
    _same_cost(costs)
    green, costs, links = walk(site, client, "/manage/schools",
                               r'/manage/schools/(\d+)/green"',
                               part=lambda p: section(p, "<ul class=\"event-list\">"))
    assert flat(green) == verified[::-1]  # by name
    assert all("school_after=" in link for link in links[1:])
    _same_cost(costs)


def test_the_moderation_queues_page_each_with_its_own_cursor(site):
    client = site.test_client()
    _staff(site, client, "organizer")
    schools = _schools(site, MANY, prefix="审核")  # one school per post: no query per school
    now = utcnow()
    waiting = _posts(site, schools, status="submitted", review="submitted", submitted_at=now)
    hidden = _posts(site, schools, status="published", hidden=True, hidden_reason="reports")
    visible = _posts(site, schools, status="published")
    reporters = _users(site, 3, prefix="r")
    with site.app_context(), writing():
        # visible[i] gets 1, 2 or 3 open reports: most reported first.
        db.session.add_all(ActivityReport(activity_id=p, user_id=reporters[k], reason="x")
                           for i, p in enumerate(visible) for k in range(i % 3 + 1))
    queue, costs, _l = walk(site, client, "/manage/moderation", r'/manage/moderation/(\d+)"',
                            part=lambda p: section(p, 'id="review-title"', "</section>"))
    assert flat(queue) == waiting
    _same_cost(costs)
    gone, costs, links = walk(site, client, "/manage/moderation", r'/manage/moderation/(\d+)"',
                              part=lambda p: section(p, 'id="hidden-title"', "</section>"))
    assert flat(gone) == hidden and all("hidden_after=" in link for link in links[1:])
    _same_cost(costs)
    up, costs, links = walk(site, client, "/manage/moderation", r'/manage/moderation/(\d+)"',
                            part=lambda p: section(p, 'id="reported-title"', "</section>"))
    expected = sorted(visible, key=lambda p: (visible.index(p) % 3 + 1, p), reverse=True)
    assert flat(up) == expected
    assert all("reported_after=" in link for link in links[1:])
    _same_cost(costs)
    with site.app_context():
        assert [r.open for r in reports.reported_visible().items[:3]] == [3, 3, 3]


def test_a_posts_reports_and_the_audit_log_newest_first(site):
    client = site.test_client()
    _staff(site, client)
    post = _posts(site, _schools(site, 1, prefix="被举报"), status="published")[0]
    people = _users(site, MANY, prefix="a")
    with site.app_context(), writing():
        rows = [ActivityReport(activity_id=post, user_id=u, reason=f"理由{i}")
                for i, u in enumerate(people)]
        logs = [AuditEntry(actor_id=u, action="approved", target=f"activity:{i}")
                for i, u in enumerate(people)]
        db.session.add_all(rows + logs)
        db.session.flush()
        report_ids, log_ids = [r.id for r in rows], [g.id for g in logs]
    pages, costs, _l = walk(site, client, f"/manage/moderation/{post}", r"<td>理由(\d+)</td>")
    assert flat(pages) == list(range(MANY))[::-1]
    _same_cost(costs)
    with site.app_context():
        assert [r.id for r in reports.reports_of(post).items] == report_ids[::-1][:PAGE_SIZE]
    # Each entry by another person: their names come in the page's statement.
    # Rows written before entries had labels: the post is named by its kind and number.  (The
    # first ?lang= is kept as the person's language: a write the walk must not count.)
    client.get("/manage/audit?lang=en")
    pages, costs, links = walk(site, client, "/manage/audit?action=approved&lang=en",
                               r"approved the post &#39;post (\d+)&#39;")
    assert flat(pages) == list(range(MANY))[::-1]
    assert all("action=approved" in link for link in links)
    _same_cost(costs)
    assert "a0号" in client.get(links[-1]).get_data(as_text=True)
    with site.app_context():
        assert [g.id for g in audit.page(audit.Filters(action="approved")).items] \
            == log_ids[::-1][:PAGE_SIZE]
    # An actor number no database integer holds filters nothing; it is not a crash.
    assert client.get("/manage/audit?actor=99999999999999999999").status_code == 200


# -- cursors that are not ----------------------------------------------------------------------

def _routes(app) -> list[tuple[str, str]]:
    with app.app_context():
        slug = db.session.get(School, _schools(app, 1)[0]).slug
    return [("/schools", "after"), (f"/schools/{slug}", "after"), ("/schools/mine", "before"),
            ("/manage/schools", "after"), ("/manage/schools", "school_after"),
            ("/manage/moderation", "after"), ("/manage/moderation", "hidden_after"),
            ("/manage/moderation", "reported_after"), ("/manage/audit", "before"),
            (f"/manage/moderation/{_posts(app, [_schools(app, 1)[0]])[0]}", "before")]


@pytest.mark.parametrize("value", ["abc", "９", "9" * 30, "1.5.x.y", "-1", "0"])
def test_a_cursor_that_is_not_one_is_a_translated_400(site, value):
    client = site.test_client()
    _staff(site, client)
    for path, name in _routes(site):
        response = client.get(path, query_string={name: value, "lang": "zh"})
        if value in ("-1", "0") and name.endswith("after"):
            # A number is a keyset cursor's id column: a valid page (all rows after it).
            assert response.status_code in (200, 400), (path, name, response.status_code)
            continue
        assert response.status_code == 400, (path, name, value, response.status_code)
        assert "页面地址无效" in response.get_data(as_text=True)
        english = client.get(path, query_string={name: value, "lang": "en"})
        assert english.status_code == 400
        assert "This page address is not valid" in english.get_data(as_text=True)


def test_a_bad_directory_cursor_is_a_400_for_anonymous_visitors_too(site):
    client = site.test_client()
    for value in ["abc", "1", "!.!.!", "a.b", "1.2.3"]:
        response = client.get("/schools", query_string={"after": value})
        assert response.status_code == 400, value
        assert "页面地址无效" in response.get_data(as_text=True)
    assert statements(site, client, "/schools")[0] <= 10


def test_the_post_form_offers_the_events_of_the_time_around_today_and_the_linked_one(site):
    from portal.events.models import Event
    from tests.events.conftest import make_event

    organizer = make_user(site, email="org@example.org", role="organizer")
    near = make_event(site, organizer, title_zh="近期活动")
    old = make_event(site, organizer, title_zh="很久以前的活动")
    later = make_event(site, organizer, title_zh="很久以后的活动")
    with site.app_context(), writing():
        for event_id, days in ((old, -800), (later, 800)):
            event = db.session.get(Event, event_id)
            event.starts_at += timedelta(days=days)
            event.ends_at += timedelta(days=days)
    editor = make_user(site, email="editor@example.org")
    school = _schools(site, 1, prefix="链接")[0]
    with site.app_context(), writing():
        db.session.add(SchoolEditor(school_id=school, user_id=editor))
        slug = db.session.get(School, school).slug
    linked = _posts(site, [school], event_id=old)[0]
    client = site.test_client()
    sign_in(client, "editor@example.org")
    form = client.get(f"/schools/{slug}/activities/new").get_data(as_text=True)
    assert f'value="{near}"' in form
    assert f'value="{old}"' not in form and f'value="{later}"' not in form
    edit = client.get(f"/activities/{linked}/edit").get_data(as_text=True)
    assert f'value="{old}" selected' in edit or f'selected value="{old}"' in edit
