"""The media library's staff pages in a real Chromium (issue 14): axe finds no violations in
Chinese and English (the library with a picture, the upload form empty and with errors, a
picture's page, the event form's cover chooser), and the pages fit a 390 px wide phone."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.events.models import PUBLISHED, Event
from portal.extensions import db
from portal.media import services
from tests.browser.conftest import login
from tests.browser.test_accessibility import check_page
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def _picture(app, organizer) -> tuple[int, int]:
    out = io.BytesIO()
    Image.new("RGB", (1400, 900), (40, 120, 60)).save(out, "JPEG")
    with app.test_request_context():
        media = services.upload(db.session.get(User, organizer),
                                FileStorage(io.BytesIO(out.getvalue()), filename="p.jpg"),
                                "南湖边的志愿者", "Volunteers by South Lake", "王敏", "CC BY 4.0")
        now = utcnow()
        with writing():
            event = Event(title_zh="植树", title_en="Tree planting", place="南湖",
                          district="nanhu", capacity=10, status=PUBLISHED,
                          starts_at=now + timedelta(days=3),
                          ends_at=now + timedelta(days=3, hours=2),
                          signup_deadline=now + timedelta(days=2), organizer_id=organizer,
                          cover_id=media.id)
            db.session.add(event)
        return media.id, event.id


@pytest.fixture
def organizer_page(app, live_server, new_context):
    organizer = make_user(app, email="organizer@example.org", role="organizer")
    ids = _picture(app, organizer)
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    login(page, live_server, "organizer@example.org")
    page.wait_for_url(lambda url: "/login" not in url)
    return page, ids


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_media_pages_are_accessible_and_fit_a_phone(live_server, organizer_page, lang):
    page, (media_id, event_id) = organizer_page
    for path in ("/manage/media", "/manage/media/new", f"/manage/media/{media_id}",
                 f"/manage/media/{media_id}/delete", f"/events/{event_id}/edit",
                 f"/events/{event_id}"):
        check_page(page, f"{live_server}{path}?lang={lang}", lang)
        _fits(page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_upload_form_with_errors_is_accessible(live_server, organizer_page, lang):
    page, _ids = organizer_page
    check_page(page, f"{live_server}/manage/media/new?lang={lang}", lang)
    with page.expect_navigation():
        page.locator("form.form [type=submit]").click()
    assert page.locator(".error-summary").count() == 1
    assert page.locator("#alt_zh-error").count() == 1
    violations = Axe().run(page).response["violations"]
    assert not violations, violations
    _fits(page)
