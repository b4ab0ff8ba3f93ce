"""`flask content sync`: new, changed and removed files; a bad file imports nothing.

Articles and pages are counted per entry (one per slug, both language files together); the
editorial import itself (revisions, conflicts with staff edits) is tested in tests/editorial.
"""

import shutil

import pytest
import sqlalchemy as sa

from portal.config import ROOT
from portal.core import content
from portal.extensions import db
from portal.jobs.models import Job
from portal.learn.models import Article, Observance, Topic


@pytest.fixture
def folder(tmp_path):
    """A private copy of the real content folder that a test may edit."""
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _sync(app, folder):
    return app.test_cli_runner().invoke(args=["content", "sync"],
                                        env={"PORTAL_CONTENT_DIR": str(folder)})


def _titles(app):
    with app.app_context():
        return {(a.slug, a.lang): a.title for a in db.session.scalars(sa.select(Article))}


def test_first_sync_loads_everything_and_the_second_changes_nothing(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    first = app.test_cli_runner().invoke(args=["content", "sync"])
    assert first.exit_code == 0, first.output
    assert "articles: 17 new, 0 changed, 0 removed, 0 unchanged" in first.output
    assert "pages: 2 new" in first.output
    assert "observances: 13 new" in first.output and "topics: 11 new" in first.output
    second = app.test_cli_runner().invoke(args=["content", "sync"])
    assert "articles: 0 new, 0 changed, 0 removed, 17 unchanged" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 34 + 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Topic)) == 11


def test_new_changed_and_removed_files(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    app.test_cli_runner().invoke(args=["content", "sync"])
    page = folder / "learn" / "green-travel.en.md"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "title:", "title: Updated —", 1), encoding="utf-8")
    (folder / "learn" / "green-family.zh.md").unlink()
    (folder / "learn" / "tree-care.en.md").write_text(
        "---\ntitle: Caring for street trees\ntopics: [nature]\nupdated: 2026-11-28\n---\n"
        "Water young trees in dry weeks.\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    # green-family lost its Chinese file: a new revision without Chinese
    assert "articles: 1 new, 2 changed, 0 removed, 15 unchanged" in result.output
    titles = _titles(app)
    assert titles[("green-travel", "en")].startswith("Updated —")
    assert ("green-family", "zh") not in titles and ("green-family", "en") in titles
    assert titles[("tree-care", "en")] == "Caring for street trees"


@pytest.mark.parametrize("name,text,problem", [
    ("learn/broken.zh.md", "---\ntitle: [unclosed\n---\n正文", "front matter is not valid YAML"),
    ("learn/untitled.zh.md", "---\ntopics: [water]\nupdated: 2026-11-28\n---\n正文",
     "'title' is missing"),
    ("learn/lost.en.md", "---\ntitle: Lost\ntopics: [astrology]\nupdated: 2026-11-28\n---\nx",
     "unknown topic 'astrology'"),
    ("learn/no-matter.en.md", "Just text, no front matter.", "front matter (--- … ---) is missing"),
    ("learn/Bad_Name.md", "---\ntitle: x\n---\nx", "file name must be"),
    ("learn/old.en.md", "---\ntitle: Old\ntopics: [water]\nupdated: someday\n---\nx",
     "is not a date"),
])
def test_a_bad_file_is_named_and_nothing_is_imported(make_app, folder, name, text, problem):
    app = make_app(CONTENT_DIR=str(folder))
    # A good change in the same run must not be imported either.
    page = folder / "learn" / "green-travel.en.md"
    page.write_text(page.read_text(encoding="utf-8").replace("title:", "title: Changed —", 1),
                    encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0
    assert name in result.output and problem in result.output
    assert "nothing was imported" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_a_bad_file_after_a_good_sync_leaves_the_library_as_it_was(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    app.test_cli_runner().invoke(args=["content", "sync"])
    before = _titles(app)
    (folder / "learn" / "green-travel.zh.md").write_text("---\ntitle: 改\n---\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0 and "learn/green-travel.zh.md" in result.output
    assert _titles(app) == before


def test_bad_observances_file_is_reported(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    (folder / "observances.yaml").write_text(
        "- slug: odd-day\n  zh: 怪日\n  en: Odd day\n  kind: lunar\n  about: {zh: 无, en: none}\n",
        encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code != 0
    assert "observances.yaml: observance 'odd-day': 'kind' must be one of" in result.output
    # …and articles that name the now-missing days are reported too.
    assert "unknown observance 'world-water-day'" in result.output


def test_setup_runs_the_content_sync(make_app, folder):
    app = make_app(CONTENT_DIR=str(folder))
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert "articles: 17 new" in result.output
    with app.app_context():
        assert db.session.get(Observance, "earth-day").month_day == "04-22"


def test_sync_service_raises_with_every_problem(make_app, folder):
    (folder / "learn" / "a.zh.md").write_text("---\ntitle: A\n---\n正文", "utf-8")
    (folder / "learn" / "b.zh.md").write_text("---\ntopics: [water]\n---\n正文", "utf-8")
    app = make_app(CONTENT_DIR=str(folder))
    with app.app_context(), pytest.raises(content.ContentProblems) as info:
        content.sync()
    paths = {p.path for p in info.value.problems}
    assert {"learn/a.zh.md", "learn/b.zh.md"} <= paths
