"""The editorial back office in a real Chromium (issue 14): an editor writes a bilingual article
with a picture and submits it, an organizer publishes it, and the public page shows it in both
languages with the <picture>; axe finds no violations on every back-office page in Chinese and
English, and they fit a 390 px wide phone."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.editorial import services as editorial
from portal.extensions import db
from portal.media import services as media
from tests.browser.conftest import login
from tests.browser.test_accessibility import _axe, check_page, describe
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def _picture(app, uid) -> int:
    out = io.BytesIO()
    Image.new("RGB", (1400, 900), (40, 120, 60)).save(out, "JPEG")
    with app.test_request_context():
        return media.upload(db.session.get(User, uid),
                            FileStorage(io.BytesIO(out.getvalue()), filename="p.jpg"),
                            "南湖湿地的苍鹭", "Grey herons at the Nanhu wetland", "王敏",
                            "CC BY 4.0").id


def _signed_in(new_context, base, email, phone=False):
    options = {"viewport": {"width": 390, "height": 844}} if phone else {}
    page = new_context(**options).new_page()
    login(page, base, email)
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_editor_writes_organizer_publishes_public_page_shows_both_languages(
        library, library_server, new_context):
    editor = make_user(library, email="editor@example.org", role="editor")
    make_user(library, email="organizer@example.org", role="organizer")
    picture = _picture(library, editor)

    page = _signed_in(new_context, library_server, "editor@example.org", phone=True)
    page.goto(f"{library_server}/manage/content/new?kind=article")
    page.locator("#slug").fill("heron-count")
    page.locator("#zh_title").fill("南湖湿地鹭鸟调查")
    page.locator("#zh_body").fill("志愿者在南湖湿地数到**四十只**苍鹭。")
    page.locator("#en_title").fill("Counting herons at Nanhu")
    page.locator("#en_body").fill("Volunteers counted **forty** grey herons at the wetland.")
    page.locator("input[name=topics][value=nature]").check()
    page.locator(f"#cover-{picture}").check()
    page.locator("#note").fill("第一稿")
    page.locator("[name=preview]").click()
    assert page.locator(".preview strong").first.inner_text() == "四十只"
    page.locator("[name=submit_review]").click()
    page.wait_for_url(lambda url: "/manage/content/" in url and "new" not in url)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the editor is {width} px wide on a 390 px phone"
    with library.app_context():
        entry = editorial.by_slug("heron-count")
        assert entry.status == "submitted" and entry.cover_id == picture
        entry_id = entry.id

    organizer = _signed_in(new_context, library_server, "organizer@example.org")
    organizer.goto(f"{library_server}/manage/content/{entry_id}")
    organizer.locator("[name=publish]").click()
    organizer.wait_for_url(f"{library_server}/manage/content/{entry_id}")

    reader = new_context().new_page()
    for lang, title in (("zh", "南湖湿地鹭鸟调查"), ("en", "Counting herons at Nanhu")):
        reader.goto(f"{library_server}/learn/heron-count?lang={lang}")
        assert reader.locator("h1").inner_text() == title
        assert reader.locator("article picture source[type='image/webp']").count() == 1
        alt = reader.locator("article picture img").get_attribute("alt")
        assert alt == ("南湖湿地的苍鹭" if lang == "zh" else "Grey herons at the Nanhu wetland")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_back_office_pages_are_accessible(library, library_server, new_context, lang):
    organizer = make_user(library, email="organizer@example.org", role="organizer")
    _picture(library, organizer)
    with library.app_context():
        user = db.session.get(User, organizer)
        entry = editorial.by_slug("green-travel")
        draft = editorial.draft_of(editorial.latest(entry), entry)
        draft.en["title"] += " for everyone"
        editorial.save(user, entry, draft)
        entry_id = entry.id
    page = _signed_in(new_context, library_server, "organizer@example.org", phone=True)
    base = f"{library_server}/manage/content"
    for path in ("", "?kind=article", "/new?kind=news", "/new?kind=campaign", f"/{entry_id}",
                 f"/{entry_id}/revisions", f"/{entry_id}/revisions/2",
                 f"/{entry_id}/revisions/1/restore", f"/{entry_id}/unpublish"):
        check_page(page, f"{base}{path}{'&' if '?' in path else '?'}lang={lang}", lang)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
    # the editor with errors, and the preview
    page.goto(f"{base}/new?kind=news&lang={lang}")
    page.locator("#slug").fill("Not a slug")
    page.locator("[name=save]").click()
    assert page.locator(".error-summary").count() == 1
    _no_violations(page)
    page.goto(f"{base}/{entry_id}?lang={lang}")
    page.locator("[name=preview]").click()
    assert page.locator(".preview").count() == 1
    _no_violations(page)


def _no_violations(page) -> None:
    violations = _axe.run(page).response["violations"]
    assert not violations, f"{len(violations)} violation(s) on {page.url}:\n" + \
        describe(violations)
