"""The staff inbox and notifications in a real Chromium (issue 14): a staff member opens the
inbox holding a reported post, opens it and hides it, and the reporter sees a notification;
axe finds no violations on the inbox and the notification pages in Chinese and English, and
they fit a 390 px wide phone."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.extensions import db
from portal.schools import services as sc
from tests.browser.conftest import login
from tests.browser.test_accessibility import check_page
from tests.inbox.test_notifications import TITLE, _reporter, _world

pytestmark = pytest.mark.browser


@pytest.fixture
def reported(library):
    ids = _world(library)
    ids["reporter"] = _reporter(library, "reporter@example.org")
    with library.app_context():
        sc.report(db.session.get(User, ids["reporter"]), ids["post"], "照片有学生正脸")
    return ids


def _signed_in(new_context, server: str, email: str):
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    login(page, server, email)
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


def test_staff_clear_a_reported_post_and_the_reporter_is_told(library_server, new_context,
                                                               reported):
    staff = _signed_in(new_context, library_server, "org@example.org")
    staff.goto(f"{library_server}/manage/inbox?lang=en")
    assert staff.locator("#inbox-schools-reported").count() == 1
    assert "照片有学生正脸" in staff.content()
    staff.locator(".inbox-section", has=staff.locator("#inbox-schools-reported")) \
        .get_by_role("link", name=TITLE).click()
    staff.wait_for_url(f"**/manage/moderation/{reported['post']}")
    staff.get_by_label("Reason").fill("照片中学生可被识别")
    with staff.expect_navigation():
        staff.get_by_role("button", name="Hide").click()
    staff.goto(f"{library_server}/manage/inbox?lang=en")
    assert "照片有学生正脸" not in staff.content()

    reporter = _signed_in(new_context, library_server, "reporter@example.org")
    reporter.goto(f"{library_server}/notifications?lang=en")
    assert reporter.locator(".nav-count").count() == 1
    item = reporter.locator(".notification.unread")
    assert item.count() == 1 and "took the post" in item.inner_text() and TITLE in \
        item.inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_inbox_and_notification_pages_are_accessible_and_fit_a_phone(library_server,
                                                                     new_context, reported,
                                                                     lang):
    staff = _signed_in(new_context, library_server, "admin@example.org")
    for path in ("/manage/inbox", "/notifications", "/notifications/settings",
                 f"/manage/moderation/{reported['post']}"):
        check_page(staff, f"{library_server}{path}?lang={lang}", lang)
        _fits(staff)
    teacher = _signed_in(new_context, library_server, "teacher@example.org")
    check_page(teacher, f"{library_server}/notifications?lang={lang}", lang)
    _fits(teacher)
