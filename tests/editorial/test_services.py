"""The editorial rules, without HTTP: who may publish, revisions and restore, translation
status, scheduled publishing through the job worker, unpublishing, and the content/ files
(import, conflicts with staff edits, export and back)."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import search
from portal.accounts.models import User
from portal.config import ROOT
from portal.db import utcnow, writing
from portal.editorial import services
from portal.editorial.models import Revision
from portal.editorial.services import Draft
from portal.extensions import db
from portal.inbox import services as inbox
from portal.inbox.models import Notification
from portal.jobs.models import Job
from portal.learn.models import Article
from portal.rules import RuleError
from tests.conftest import make_user, run_jobs


def _draft(slug="river-clean-up", kind="news", zh="河道清洁行动", en="River clean-up",
           body_zh="周六上午，志愿者清理了南湖岸边的垃圾。",
           body_en="On Saturday morning volunteers cleared litter along the South Lake shore.",
           topics=("water",), **kwargs) -> Draft:
    return Draft(kind=kind, slug=slug, zh={"title": zh, "summary": "", "body": body_zh},
                 en={"title": en, "summary": "", "body": body_en}, topics=list(topics),
                 **kwargs)


@pytest.fixture
def people(library):
    return {role: make_user(library, f"{role}@example.org", role=role, name=f"{role}-name")
            for role in ("editor", "organizer", "admin", "citizen")}


def _user(uid) -> User:
    return db.session.get(User, uid)


def test_editor_saves_and_submits_but_cannot_publish(library, people):
    with library.app_context():
        editor = _user(people["editor"])
        rev = services.save(editor, None, _draft())
        entry = services.get(rev.entry_id)
        assert (rev.number, entry.status, entry.published_revision) == (1, "draft", None)
        services.submit(editor, entry)
        assert services.get(entry.id).status == "submitted"
        with pytest.raises(RuleError) as info:
            services.publish(editor, services.get(entry.id))
        assert info.value.status == 403 and info.value.code == "forbidden"
        assert db.session.scalar(sa.select(Article).where(Article.slug == "river-clean-up")) \
            is None
        organizer = _user(people["organizer"])
        services.publish(organizer, services.get(entry.id))
        rows = {a.lang: a for a in db.session.scalars(
            sa.select(Article).where(Article.slug == "river-clean-up"))}
        assert set(rows) == {"zh", "en"} and rows["en"].kind == "news"
        assert rows["en"].title == "River clean-up" and "South Lake" in rows["en"].html
        assert services.get(entry.id).status == "published"
        # the editor is told (the inbox's notification)
        told = db.session.scalar(sa.select(Notification).where(
            Notification.user_id == people["editor"]))
        assert told is not None and told.kind == "editorial.published"


def test_citizens_cannot_write(library, people):
    with library.app_context(), pytest.raises(RuleError) as info:
        services.save(_user(people["citizen"]), None, _draft())
    assert info.value.status == 403


def test_second_review_setting(make_library_app):
    app = make_library_app(EDITORIAL_SECOND_REVIEW=True)
    a = make_user(app, "a@example.org", role="organizer")
    b = make_user(app, "b@example.org", role="organizer")
    with app.app_context():
        rev = services.save(_user(a), None, _draft())
        entry = services.get(rev.entry_id)
        with pytest.raises(RuleError) as info:
            services.publish(_user(a), entry)
        assert info.value.code == "second_review" and info.value.status == 403
        services.publish(_user(b), services.get(entry.id))
        assert services.get(entry.id).published_revision == 1


def test_bad_drafts_are_refused_with_fields(library, people):
    with library.app_context():
        editor = _user(people["editor"])
        with pytest.raises(RuleError) as info:
            services.save(editor, None, _draft(slug="Not A Slug", zh="", en=""))
        assert {"slug", "zh_title"} <= set(info.value.fields)
        with pytest.raises(RuleError) as info:
            services.save(editor, None, _draft(slug="green-travel"))  # taken by the library
        assert "slug" in info.value.fields
        with pytest.raises(RuleError) as info:
            services.save(editor, None, _draft(topics=["astrology"]))
        assert "topics" in info.value.fields


def test_revisions_are_numbered_and_restore_makes_a_new_one(library, people):
    with library.app_context():
        editor = _user(people["editor"])
        first = services.save(editor, None, _draft())
        entry = services.get(first.entry_id)
        services.save(editor, entry, _draft(en="River clean-up on Saturday", note="date"))
        services.save(editor, services.get(entry.id), _draft(en="Third title"))
        numbers = list(db.session.scalars(sa.select(Revision.number).where(
            Revision.entry_id == entry.id).order_by(Revision.id)))
        assert numbers == [1, 2, 3]
        restored = services.restore(editor, services.get(entry.id), 1)
        assert restored.number == 4 and restored.source == "restore"
        assert restored.en_title == "River clean-up"
        assert services.revision(services.get(entry.id), 3).en_title == "Third title"


def test_translation_status(library, people):
    with library.app_context():
        editor = _user(people["editor"])
        rev = services.save(editor, None, _draft())
        entry = services.get(rev.entry_id)
        assert services.translation_status(entry) == []
        services.save(editor, entry, _draft(body_zh="周六上午，三百名志愿者清理了南湖岸边的垃圾。"))
        codes = [s.code for s in services.translation_status(services.get(entry.id))]
        assert codes == ["en_outdated"]
        services.save(editor, services.get(entry.id), _draft(
            body_en="On Saturday morning 300 volunteers cleared litter along the shore."))
        assert services.translation_status(services.get(entry.id)) == []
        services.save(editor, services.get(entry.id), _draft(en="", body_en=""))
        assert [s.code for s in services.translation_status(services.get(entry.id))] \
            == ["no_en"]


def test_unpublish_needs_a_reason_and_keeps_everything(library, people):
    with library.app_context():
        organizer = _user(people["organizer"])
        entry = services.by_slug("green-travel")
        with pytest.raises(RuleError) as info:
            services.unpublish(organizer, entry, "  ")
        assert "reason" in info.value.fields
        with pytest.raises(RuleError):
            services.unpublish(_user(people["editor"]), entry, "wrong figures")
        services.unpublish(organizer, services.by_slug("green-travel"), "wrong figures")
        entry = services.by_slug("green-travel")
        assert (entry.status, entry.unpublish_reason) == ("unpublished", "wrong figures")
        assert db.session.scalar(sa.select(Article).where(Article.slug == "green-travel")) \
            is None
        assert services.latest(entry).zh_title  # the text is kept
        services.publish(organizer, entry)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article).where(
            Article.slug == "green-travel")) == 2


def _travel(library, minutes: int):
    """Let time pass: the services and the job worker see ``minutes`` later."""
    later = utcnow() + timedelta(minutes=minutes)
    with library.app_context(), writing():
        db.session.execute(sa.update(Job).where(Job.kind.like("editorial.%"))
                           .where(Job.due_at <= later).values(due_at=utcnow()))
    return later


def test_scheduled_publish_runs_in_the_worker_and_a_rescheduled_job_does_nothing(
        library, people, monkeypatch):
    with library.app_context():
        organizer = _user(people["organizer"])
        rev = services.save(organizer, None, _draft(kind="notice", slug="water-cut"))
        entry = services.get(rev.entry_id)
        at = utcnow() + timedelta(minutes=30)
        services.schedule(organizer, entry, at, None)
        # rescheduled to an hour later: the first job must do nothing
        services.schedule(organizer, services.get(entry.id), at + timedelta(minutes=30), None)
        entry_id = entry.id
    later = _travel(library, 40)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    run_jobs(library)
    with library.app_context():
        assert services.get(entry_id).published_revision is None
        assert db.session.scalar(sa.select(Article).where(Article.slug == "water-cut")) is None
    later = _travel(library, 70)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    run_jobs(library)
    with library.app_context():
        entry = services.get(entry_id)
        assert (entry.status, entry.published_revision, entry.publish_at) == \
            ("published", 1, None)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article).where(
            Article.slug == "water-cut", Article.kind == "notice")) == 2


def test_scheduled_unpublish(library, people, monkeypatch):
    with library.app_context():
        organizer = _user(people["organizer"])
        entry = services.by_slug("green-travel")
        services.schedule(organizer, entry, None, utcnow() + timedelta(minutes=5))
    later = _travel(library, 10)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    run_jobs(library)
    with library.app_context():
        entry = services.by_slug("green-travel")
        assert entry.status == "unpublished" and entry.published_revision is None
        assert entry.unpublish_reason


def test_schedule_refuses_the_past_and_editors(library, people):
    with library.app_context():
        entry = services.by_slug("green-travel")
        with pytest.raises(RuleError) as info:
            services.schedule(_user(people["organizer"]), entry,
                              utcnow() - timedelta(minutes=1), None)
        assert "publish_at" in info.value.fields
        with pytest.raises(RuleError) as info:
            services.schedule(_user(people["editor"]), entry,
                              utcnow() + timedelta(minutes=1), None)
        assert info.value.status == 403


def test_search_finds_a_newly_published_article_and_the_page_shows_it(library, people):
    client = library.test_client()
    assert client.get("/learn/heron-count").status_code == 404
    assert client.get("/news").status_code == 200  # stored in the page cache
    with library.app_context():
        organizer = _user(people["organizer"])
        rev = services.save(organizer, None, _draft(
            slug="heron-count", en="Herons counted at Nanhu",
            body_en="Volunteers counted forty grey herons in the Nanhu wetland."))
        services.publish(organizer, services.get(rev.entry_id))
    run_jobs(library)
    with library.app_context():
        found = search.search("herons", lang="en")
        assert any(hit.id == "heron-count" for hit in found.hits)
    page = client.get("/learn/heron-count?lang=en")
    assert page.status_code == 200 and "Herons counted at Nanhu" in page.get_data(as_text=True)
    assert "Herons counted at Nanhu" in client.get("/news", headers={
        "Accept-Language": "en"}).get_data(as_text=True)  # the cached list was refreshed
    assert "Herons counted at Nanhu" not in client.get("/learn", headers={
        "Accept-Language": "en"}).get_data(as_text=True)  # news is not in the library


# -- the content/ files ---------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _sync(app):
    return app.test_cli_runner().invoke(args=["content", "sync"])


def test_unchanged_sync_is_a_no_op(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    assert _sync(app).exit_code == 0
    with app.app_context():
        revisions = db.session.scalar(sa.select(sa.func.count()).select_from(Revision))
        jobs = db.session.scalar(sa.select(sa.func.count()).select_from(Job))
        entry = services.by_slug("green-travel")
        assert (entry.latest_revision, entry.published_revision, entry.file_revision) == (1, 1, 1)
        assert services.latest(entry).source == "file"
        assert services.by_slug("privacy").kind == "page"
    result = _sync(app)
    assert "articles: 0 new, 0 changed, 0 removed, 17 unchanged" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Revision)) == revisions
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == jobs


def test_a_changed_file_is_a_new_published_revision(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    _sync(app)
    path = folder / "learn" / "green-travel.en.md"
    path.write_text(path.read_text("utf-8").replace("title:", "title: Updated —", 1), "utf-8")
    result = _sync(app)
    assert "articles: 0 new, 1 changed" in result.output
    with app.app_context():
        entry = services.by_slug("green-travel")
        assert (entry.latest_revision, entry.published_revision) == (2, 2)
        assert [s.code for s in services.translation_status(entry)] == ["zh_outdated"]
        en = db.session.scalar(sa.select(Article).where(Article.slug == "green-travel",
                                                        Article.lang == "en"))
        assert en.title.startswith("Updated —")


def test_sync_never_overwrites_a_staff_edit_and_reports_the_conflict(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    tree = folder / "learn" / "tree-care.en.md"
    tree.write_text("---\ntitle: Caring for street trees\ntopics: [nature]\nupdated: "
                    "2026-11-28\n---\nWater young trees in dry weeks.\n", encoding="utf-8")
    _sync(app)
    organizer = make_user(app, "o@example.org", role="organizer")
    with app.app_context():
        entry = services.by_slug("green-travel")
        draft = services.draft_of(services.latest(entry), entry)
        draft.en["title"] = "Green travel (staff edit)"
        rev = services.save(_user(organizer), entry, draft)
        services.publish(_user(organizer), services.get(rev.entry_id))
    path = folder / "learn" / "green-travel.en.md"
    path.write_text(path.read_text("utf-8").replace("title:", "title: From the file —", 1),
                    "utf-8")
    tree.unlink()
    result = _sync(app)
    assert result.exit_code == 0, result.output
    assert "1 conflict(s)" in result.output
    assert "conflict: learn/green-travel" in result.output
    assert "removed: tree-care" in result.output
    with app.app_context():
        en = db.session.scalar(sa.select(Article).where(Article.slug == "green-travel",
                                                        Article.lang == "en"))
        assert en.title == "Green travel (staff edit)"
        assert services.by_slug("green-travel").latest_revision == 2
        tree_entry = services.by_slug("tree-care")  # kept, with its revisions, off the site
        assert tree_entry is not None and tree_entry.status == "unpublished"
        assert db.session.scalar(sa.select(Article).where(Article.slug == "tree-care")) is None
    # and again: still reported, still left alone
    again = _sync(app)
    assert "conflict: learn/green-travel" in again.output


def test_export_then_sync_on_a_fresh_site_reproduces_the_content(make_app, folder, tmp_path):
    app = make_app(CONTENT_DIR=str(folder))
    _sync(app)
    organizer = make_user(app, "o@example.org", role="organizer")
    with app.app_context():
        user = _user(organizer)
        entry = services.by_slug("green-travel")
        draft = services.draft_of(services.latest(entry), entry)
        draft.zh["body"] += "\n\n## 新的一节\n\n乘坐地铁。\n"
        services.publish(user, services.get(services.save(user, entry, draft).entry_id))
        rev = services.save(user, None, _draft())
        services.publish(user, services.get(rev.entry_id))
        rev = services.save(user, None, _draft(kind="campaign", slug="world-water-day",
                                               zh="世界水日", en="World Water Day",
                                               topics=[]))
        services.publish(user, services.get(rev.entry_id))

    def published(a):
        with a.app_context():
            return sorted((r.slug, r.lang, r.kind, r.title, r.summary, r.body.strip(),
                           tuple(t.slug for t in r.topics), tuple(r.observances),
                           tuple(r.related)) for r in db.session.scalars(sa.select(Article)))

    out = tmp_path / "exported"
    result = app.test_cli_runner().invoke(args=["content", "export", str(out)])
    assert result.exit_code == 0, result.output
    copy = tmp_path / "fresh-content"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("learn", "pages"))
    shutil.copytree(out / "learn", copy / "learn")
    shutil.copytree(out / "pages", copy / "pages")
    fresh = make_app(CONTENT_DIR=str(copy))
    assert _sync(fresh).exit_code == 0
    assert published(fresh) == published(app)


def test_submitted_articles_wait_in_the_staff_inbox(library, people):
    with library.app_context():
        rev = services.save(_user(people["editor"]), None, _draft())
        services.submit(_user(people["editor"]), services.get(rev.entry_id))
        organizer = _user(people["organizer"])
        assert inbox.counts(organizer)["editorial.submitted"] == 1
        items = services.submitted_items(20)
        assert [i.title for i in items] == ["河道清洁行动"]
        assert items[0].link == f"/manage/content/{rev.entry_id}"
        services.publish(organizer, services.get(rev.entry_id))
        assert inbox.counts(organizer)["editorial.submitted"] == 0
