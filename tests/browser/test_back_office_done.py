"""Issue 14's "done means", in a real Chromium, in the browser only: a staff member uploads a
picture, publishes a bilingual article with it, schedules a notice, restores an old revision
and publishes it, changes someone's role, and clears an inbox holding a reported post and a
school application; the people concerned are notified; ``flask content sync`` afterwards
leaves every staff version alone.

The staff member is an administrator: changing roles and deciding school applications are
admin-only (portal/security.py), everything else here an organizer may do too (the editorial
and inbox browser tests use an organizer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.accounts.models import User
from portal.core.cli import content_cli
from portal.db import utcnow
from portal.editorial import services as editorial
from portal.extensions import db
from portal.inbox.models import Notification
from portal.jobs.models import Job
from portal.learn.models import Article
from portal.media.models import Media
from portal.schools import services as sc
from portal.schools.models import School
from portal.site import zone
from tests.browser.conftest import login
from tests.conftest import make_user
from tests.inbox.test_notifications import TITLE, _reporter, _world

pytestmark = pytest.mark.browser


def _jpeg(tmp_path):
    path = tmp_path / "heron.jpg"
    Image.new("RGB", (1600, 1000), (40, 120, 60)).save(path, "JPEG")
    return str(path)


def _kinds(app, uid: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notification.kind).where(
            Notification.user_id == uid).order_by(Notification.id)))


def test_staff_run_the_portal_in_the_browser_only(library, library_server, new_context,
                                                  tmp_path):
    app, base = library, library_server
    ids = _world(app)  # admin 王敏, a teacher's verified school with a published post
    reporter = _reporter(app, "reporter@example.org")
    citizen = make_user(app, email="new.editor@example.org", name="陈晓")
    applicant = make_user(app, email="applicant@example.org", name="Mr Zhou", locale="en")
    with app.app_context():
        sc.report(db.session.get(User, reporter), ids["post"], "照片有学生正脸")
        pending = sc.apply_school(db.session.get(User, applicant), sc.SchoolInput(
            "秀洲区实验小学", "Xiuzhou Primary", "xiuzhou", "primary", "秀洲路2号", "周老师")).id

    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    login(page, base, "admin@example.org", lang="en")
    page.wait_for_url(lambda url: "/login" not in url)

    # 1. a picture into the media library
    page.goto(f"{base}/manage/media/new?lang=en")
    page.locator("#file").set_input_files(_jpeg(tmp_path))
    page.locator("#alt_zh").fill("南湖湿地的苍鹭")
    page.locator("#alt_en").fill("Grey herons at the Nanhu wetland")
    page.locator("#credit").fill("王敏")
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    with app.app_context():
        picture = db.session.scalar(sa.select(Media.id).order_by(Media.id.desc()))
    assert picture is not None

    # 2. a bilingual article with it, published at once
    page.goto(f"{base}/manage/content/new?kind=article&lang=en")
    page.locator("#slug").fill("heron-count")
    page.locator("#zh_title").fill("南湖湿地鹭鸟调查")
    page.locator("#zh_body").fill("志愿者在南湖湿地数到**四十只**苍鹭。")
    page.locator("#en_title").fill("Counting herons at Nanhu")
    page.locator("#en_body").fill("Volunteers counted **forty** grey herons.")
    page.locator("input[name=topics][value=nature]").check()
    page.locator(f"#cover-{picture}").check()
    with page.expect_navigation():
        page.locator("[name=publish]").click()
    reader = new_context().new_page()
    for lang, title in (("zh", "南湖湿地鹭鸟调查"), ("en", "Counting herons at Nanhu")):
        reader.goto(f"{base}/learn/heron-count?lang={lang}")
        assert reader.locator("h1").inner_text() == title
        assert reader.locator("article picture img").count() == 1

    # 3. a notice scheduled for tomorrow morning (Beijing time)
    with app.app_context():
        beijing = zone()
    when = (utcnow().astimezone(beijing) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0)
    page.goto(f"{base}/manage/content/new?kind=notice&lang=en")
    page.locator("#slug").fill("river-day-notice")
    page.locator("#zh_title").fill("关于河长制宣传日活动的公告")
    page.locator("#zh_body").fill("本周六上午在南湖举行。")
    page.locator("#en_title").fill("Notice: river chief day")
    page.locator("#en_body").fill("On Saturday morning at Nanhu.")
    page.locator("#publish_at").fill(when.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.locator("[name=schedule]").click()
    with app.app_context():
        notice = editorial.by_slug("river-day-notice")
        assert notice.status != "published" and notice.publish_at is not None
        assert notice.publish_at.astimezone(beijing).replace(tzinfo=None) \
            == when.replace(tzinfo=None)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.state == "pending", Job.due_at > utcnow())) >= 1
    assert reader.goto(f"{base}/learn/river-day-notice").status == 404

    # 4. an old revision restored and published again
    with app.app_context():
        travel = editorial.by_slug("green-travel")
        travel_id, first_title = travel.id, editorial.latest(travel).en_title
    page.goto(f"{base}/manage/content/{travel_id}?lang=en")
    page.locator("#en_title").fill("Green travel: a mistaken title")
    with page.expect_navigation():
        page.locator("[name=publish]").click()
    page.goto(f"{base}/manage/content/{travel_id}/revisions/1?lang=en")
    page.get_by_role("link", name="Restore this revision…").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Restore this revision").click()
    page.goto(f"{base}/manage/content/{travel_id}?lang=en")
    with page.expect_navigation():
        page.locator("[name=publish]").click()
    reader.goto(f"{base}/learn/green-travel?lang=en")
    assert reader.locator("h1").inner_text() == first_title

    # 5. someone's role changed
    page.goto(f"{base}/manage/people?q=new.editor@&lang=en")
    page.get_by_role("link", name="陈晓").click()
    page.locator("#role-role").select_option("editor")
    with page.expect_navigation():
        page.get_by_role("button", name="Change role").click()
    with app.app_context():
        assert db.session.get(User, citizen).role == "editor"

    # 6. the inbox: the reported post, then the school application
    page.goto(f"{base}/manage/inbox?lang=en")
    assert page.locator("#inbox-schools-reported").count() == 1
    assert page.locator("#inbox-schools-applications").count() == 1
    page.locator(".inbox-section", has=page.locator("#inbox-schools-reported")) \
        .get_by_role("link", name=TITLE).click()
    page.get_by_label("Reason").fill("照片中学生可被识别")
    with page.expect_navigation():
        page.get_by_role("button", name="Hide").click()
    page.goto(f"{base}/manage/inbox?lang=en")
    page.locator(".inbox-section", has=page.locator("#inbox-schools-applications")) \
        .get_by_role("link", name="Xiuzhou Primary").click()
    with page.expect_navigation():
        page.locator(f"#school-{pending}").get_by_role("button", name="Verify").click()
    page.goto(f"{base}/manage/inbox?lang=en")
    assert page.locator("#inbox-schools-reported").count() == 0
    assert page.locator("#inbox-schools-applications").count() == 0
    with app.app_context():
        assert db.session.get(School, pending).status == "verified"

    # 7. the people concerned are told (on the site; mail jobs are the inbox tests' part)
    assert "schools.application" in _kinds(app, applicant)
    assert "schools.post" in _kinds(app, ids["teacher"])  # the school's editor: post hidden
    assert "schools.report" in _kinds(app, reporter) or _kinds(app, reporter)
    told = new_context().new_page()
    login(told, base, "applicant@example.org", lang="en")
    told.wait_for_url(lambda url: "/login" not in url)
    told.goto(f"{base}/notifications?lang=en")
    assert "Xiuzhou Primary" in told.locator(".notification.unread").first.inner_text()

    # 8. the content files again: every staff version stays
    result = app.test_cli_runner().invoke(content_cli, ["sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert editorial.by_slug("heron-count").status == "published"
        assert editorial.by_slug("river-day-notice").publish_at is not None
        en = db.session.scalar(sa.select(Article).where(Article.slug == "green-travel",
                                                        Article.lang == "en"))
        assert en.title == first_title
        travel = editorial.by_slug("green-travel")
        assert travel.latest_revision == 3  # the edit, the restore; publishing adds none
        assert en.observances == ["low-carbon-day"]  # what the form does not edit stays
