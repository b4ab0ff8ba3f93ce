"""The back office's pages: the list, the editor (save, preview, submit, publish, schedule),
revisions with a word diff, restore with confirmation, unpublish with a reason; and the public
pages: news, notices, fixed pages, the privacy notice from the database."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.editorial import services
from portal.extensions import db
from portal.learn.models import Article
from tests.conftest import csrf_token, make_user, sign_in
from tests.events.conftest import make_event


@pytest.fixture
def staff(library):
    for role in ("editor", "organizer", "citizen"):
        make_user(library, f"{role}@example.org", role=role, name=f"{role}-name", locale="en")
    return library


def _client(app, role):
    client = app.test_client()
    sign_in(client, f"{role}@example.org")
    return client


def _form(client, path, **fields):
    data = {"csrf_token": csrf_token(client, path), "zh_title": "", "zh_summary": "",
            "zh_body": "", "en_title": "", "en_summary": "", "en_body": "", "note": ""}
    data.update(fields)
    return client.post(path, data=data)


ARTICLE = {"slug": "heron-count", "zh_title": "鹭鸟调查",
           "zh_body": "志愿者在南湖湿地数到四十只苍鹭。",
           "en_title": "Heron count", "en_body": "Volunteers counted forty grey herons.",
           "topics": "nature"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_back_office_pages_open_for_writers(staff, lang):
    client = _client(staff, "editor")
    with staff.app_context():
        entry = services.by_slug("green-travel")
    for path in ("/manage/content", "/manage/content?kind=news&status=draft",
                 "/manage/content/new?kind=news", "/manage/content/new?kind=campaign",
                 f"/manage/content/{entry.id}", f"/manage/content/{entry.id}/revisions",
                 f"/manage/content/{entry.id}/revisions/1",
                 f"/manage/content/{entry.id}/revisions/1/restore"):
        answer = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert answer.status_code == 200, path
    assert client.get(f"/manage/content/{entry.id}/unpublish").status_code == 403
    citizen = _client(staff, "citizen")
    assert citizen.get("/manage/content").status_code == 403


def test_editor_writes_previews_and_submits_then_organizer_publishes(staff):
    editor = _client(staff, "editor")
    preview = _form(editor, "/manage/content/new?kind=news", preview="1",
                    **{**ARTICLE, "en_body": "## Counting\n\nForty **grey** herons."})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "<strong>grey</strong>" in html and 'id="counting"' in html
    with staff.app_context():
        assert services.by_slug("heron-count") is None  # a preview saves nothing
    saved = _form(editor, "/manage/content/new?kind=news", submit_review="1", **ARTICLE)
    assert saved.status_code == 302
    with staff.app_context():
        entry = services.by_slug("heron-count")
        assert entry.status == "submitted" and entry.kind == "news"
        entry_id = entry.id
    page = editor.get(f"/manage/content/{entry_id}").get_data(as_text=True)
    assert 'name="publish"' not in page  # editors see no publish button
    organizer = _client(staff, "organizer")
    published = _form(organizer, f"/manage/content/{entry_id}", publish="1", **ARTICLE)
    assert published.status_code == 302
    assert staff.test_client().get("/learn/heron-count?lang=en").status_code == 200
    assert "Heron count" in staff.test_client().get("/news?lang=en").get_data(as_text=True)


def test_bad_input_comes_back_with_messages(staff):
    editor = _client(staff, "editor")
    answer = _form(editor, "/manage/content/new?kind=article", save="1",
                   **{**ARTICLE, "slug": "Not a slug!", "en_body": ""})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'href="#slug"' in html and 'href="#en_body"' in html


def test_revision_page_shows_the_changed_words_and_restore_asks_first(staff):
    organizer = _client(staff, "organizer")
    with staff.app_context():
        entry = services.by_slug("green-travel")
        rev = services.latest(entry)
        fields = {"zh_title": rev.zh_title, "zh_summary": rev.zh_summary, "zh_body": rev.zh_body,
                  "en_title": rev.en_title + " for everyone", "en_summary": rev.en_summary,
                  "en_body": rev.en_body, "topics": list(rev.topics)}
        entry_id = entry.id
    assert _form(organizer, f"/manage/content/{entry_id}", save="1", note="wider title",
                 **fields).status_code == 302
    diff = organizer.get(f"/manage/content/{entry_id}/revisions/2").get_data(as_text=True)
    assert "<ins>for</ins>" in diff or re.search(r"<ins>[^<]*everyone", diff)
    assert "---" not in diff.split("<main", 1)[1].split("</main>")[0].replace("&mdash;", "")
    listing = organizer.get(f"/manage/content/{entry_id}/revisions").get_data(as_text=True)
    assert "wider title" in listing
    confirm = organizer.get(f"/manage/content/{entry_id}/revisions/1/restore")
    assert confirm.status_code == 200
    restored = organizer.post(f"/manage/content/{entry_id}/revisions/1/restore", data={
        "csrf_token": csrf_token(organizer, f"/manage/content/{entry_id}/revisions/1/restore")})
    assert restored.status_code == 302
    with staff.app_context():
        entry = services.get(entry_id)
        assert entry.latest_revision == 3
        assert not services.latest(entry).en_title.endswith("for everyone")


def test_unpublish_asks_for_a_reason(staff):
    organizer = _client(staff, "organizer")
    with staff.app_context():
        entry_id = services.by_slug("green-travel").id
    path = f"/manage/content/{entry_id}/unpublish"
    empty = organizer.post(path, data={"csrf_token": csrf_token(organizer, path), "reason": ""})
    assert empty.status_code == 400
    done = organizer.post(path, data={"csrf_token": csrf_token(organizer, path),
                                      "reason": "figures out of date"})
    assert done.status_code == 302
    assert staff.test_client().get("/learn/green-travel").status_code == 404
    with staff.app_context():
        assert services.get(entry_id).unpublish_reason == "figures out of date"


def test_schedule_from_the_editor(staff):
    organizer = _client(staff, "organizer")
    with staff.app_context():
        rev = services.save(db.session.get(services.User, 2), None, services.Draft(
            kind="notice", slug="water-cut", zh={"title": "停水通知", "body": "周三停水。"}))
        entry_id = rev.entry_id
    answer = _form(organizer, f"/manage/content/{entry_id}", schedule="1",
                   zh_title="停水通知", zh_body="周三停水。", publish_at="2099-05-01T08:00")
    assert answer.status_code == 302
    with staff.app_context():
        entry = services.get(entry_id)
        assert entry.publish_at is not None and entry.publish_at.year == 2099
        assert entry.publish_at.hour == 0  # 08:00 in Beijing is 00:00 UTC
        assert db.session.scalar(sa.select(Article).where(Article.slug == "water-cut")) is None


def test_public_pages_come_from_the_database(staff):
    client = staff.test_client()
    privacy = client.get("/privacy?lang=en")
    assert privacy.status_code == 200 and "Privacy notice" in privacy.get_data(as_text=True)
    assert client.get("/pages/about?lang=en").status_code == 200
    assert client.get("/pages/privacy").status_code == 301
    assert client.get("/pages/no-such-page").status_code == 404
    assert client.get("/learn/about").status_code == 301  # pages live under /pages
    assert client.get("/notices").status_code == 200
    with staff.app_context():
        organizer = db.session.get(services.User, 2)
        entry = services.by_slug("privacy")
        draft = services.draft_of(services.latest(entry), entry)
        draft.en["title"] = "Privacy notice (edited)"
        services.publish(organizer, services.get(services.save(organizer, entry,
                                                               draft).entry_id))
    assert "Privacy notice (edited)" in client.get("/privacy?lang=en").get_data(as_text=True)


def test_the_campaign_page_shows_the_staff_text_and_the_days_events(staff):
    client = staff.test_client()
    with staff.app_context():
        organizer = db.session.get(services.User, 2)
        rev = services.save(organizer, None, services.Draft(
            kind="campaign", slug="world-water-day",
            en={"title": "Join us for World Water Day", "body": "Save water at home."}))
        services.publish(organizer, services.get(rev.entry_id))
    event = make_event(staff, 2, observance_slug="world-water-day")
    page = client.get("/observances/world-water-day?lang=en").get_data(as_text=True)
    assert "Join us for World Water Day" in page and "Save water at home." in page
    assert f"/events/{event}" in page
    assert client.get("/learn/world-water-day").status_code == 301
    # the library lists do not show campaign pages
    assert "Join us for World Water Day" not in client.get("/learn?lang=en").get_data(
        as_text=True)


def test_a_browser_save_keeps_what_the_form_does_not_edit_and_no_change_adds_no_revision(staff):
    """The editor has no fields for an article's observance days and related articles: a save
    keeps them (before, a browser save dropped them).  Topics ticked in another order than the
    file lists them are the same topics: an unchanged form saves no new revision."""
    organizer = _client(staff, "organizer")
    with staff.app_context():
        entry = services.by_slug("green-travel")
        rev = services.latest(entry)
        first = (list(rev.data["observances"]), list(rev.data["related"]), list(rev.topics))
        fields = {"zh_title": rev.zh_title, "zh_summary": rev.zh_summary,
                  "zh_body": rev.zh_body.replace("\n", "\r\n"),  # as browsers send it
                  "en_title": rev.en_title, "en_summary": rev.en_summary,
                  "en_body": rev.en_body, "topics": sorted(rev.topics, reverse=True)}
        entry_id = entry.id
    assert first[0] and first[1]
    assert _form(organizer, f"/manage/content/{entry_id}", save="1",
                 **fields).status_code == 302
    with staff.app_context():
        assert services.get(entry_id).latest_revision == 1  # nothing changed
    fields["en_title"] += " for everyone"
    assert _form(organizer, f"/manage/content/{entry_id}", publish="1",
                 **fields).status_code == 302
    with staff.app_context():
        rev = services.latest(services.get(entry_id))
        assert rev.number == 2
        assert (rev.data["observances"], rev.data["related"], rev.topics) == first
        en = db.session.scalar(sa.select(Article).where(Article.slug == "green-travel",
                                                        Article.lang == "en"))
        assert en.observances == first[0] and en.related == first[1]
