"""The events issue's journey in a real browser: find an Environment Day event in the month
view, subscribe, sign up, wait, get promoted, be checked in and out, see the hours."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.accounts.models import User
from portal.events import services
from portal.events.models import Event, Signup
from portal.extensions import db
from tests.browser.conftest import login
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def _sign_in(page, base, email, lang="zh"):
    login(page, base, email, lang=lang)


def _sign_out(page):
    page.locator("header form button.link-button").click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_find_sign_up_wait_get_promoted_checked_in_and_see_hours(
        library, library_server, new_context, lang):
    organizer = make_user(library, email="org@example.org", role="organizer")
    make_user(library, email="first@example.org", name="先到")
    make_user(library, email="second@example.org", name="后到")
    with library.app_context():
        tz = services.zone()
        start = (datetime.now(tz) + timedelta(days=40)).replace(hour=9, minute=0, second=0,
                                                                microsecond=0)
        event_id = services.create_event(db.session.get(User, organizer), services.EventInput(
            title_zh="世界环境日河道清洁", title_en="Environment Day river clean-up",
            starts_at=start, ends_at=start + timedelta(hours=3), place="南湖北门",
            district="nanhu", capacity=1, observance_slug="world-environment-day"),
            publish=True).id
    page = new_context().new_page()

    # Find it in the month view, in the reader's language.
    page.goto(f"{library_server}/events/calendar?year={start.year}&month={start.month}"
              f"&lang={lang}")
    title = "世界环境日河道清洁" if lang == "zh" else "Environment Day river clean-up"
    link = page.get_by_role("link", name=title)
    assert link.count() == 1
    # The calendar offers a subscription a phone understands.
    assert page.locator('a[href^="webcal://"]').count() >= 1
    link.click()
    assert page.locator("h1").inner_text() == title

    # The first volunteer takes the only place; the second joins the waiting list.
    _sign_in(page, library_server, "first@example.org", lang)
    page.goto(f"{library_server}/events/{event_id}")
    page.locator(".signup-box form button").click()
    assert page.locator(".signup-box .status-ok").count() == 1
    _sign_out(page)
    _sign_in(page, library_server, "second@example.org", lang)
    page.goto(f"{library_server}/events/{event_id}")
    page.locator(".signup-box form button").click()
    assert "1" in page.locator(".signup-box .status").inner_text()
    assert page.locator(".signup-box .status-ok").count() == 0
    _sign_out(page)

    # The first cancels: the second is promoted.
    _sign_in(page, library_server, "first@example.org", lang)
    page.goto(f"{library_server}/events/{event_id}")
    page.locator(".signup-box form button").click()
    _sign_out(page)
    _sign_in(page, library_server, "second@example.org", lang)
    page.goto(f"{library_server}/my/events")
    assert title in page.locator("main").inner_text()
    page.goto(f"{library_server}/events/{event_id}")
    assert page.locator(".signup-box .status-ok").count() == 1
    _sign_out(page)

    # On the day (moved to now for the test) the organizer checks them in and out.
    with library.app_context():
        now = datetime.now(services.zone())
        event = db.session.get(Event, event_id)
        event.starts_at, event.ends_at = now - timedelta(hours=2, minutes=50), now + timedelta(
            minutes=10)
        started = event.starts_at
        db.session.commit()
    _sign_in(page, library_server, "org@example.org", lang)
    page.goto(f"{library_server}/events/{event_id}/attendance")
    page.locator(".attendance-row form button").first.click()  # check in
    with library.app_context():
        signup = db.session.query(Signup).filter_by(status="confirmed").one()
        signup.checked_in_at = started  # arrived at the start
        db.session.commit()
    page.locator(".attendance-row form button").nth(1).click()  # check out
    _sign_out(page)

    _sign_in(page, library_server, "second@example.org", lang)
    page.goto(f"{library_server}/my/hours")
    main = page.locator("main").inner_text()
    assert title in main and "3" in main
