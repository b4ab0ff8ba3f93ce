"""Layout, error pages, the privacy notice, health check and `flask setup`."""

import os
import shutil
from html.parser import HTMLParser

import pytest

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import PG_URL, make_user, sign_in


class Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def count(self, tag, **attrs):
        return sum(1 for t, a in self.tags
                   if t == tag and all(a.get(k) == v for k, v in attrs.items()))


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


PUBLIC_PAGES = ["/", "/login", "/register", "/privacy", "/password/forgot", "/nowhere"]
SIGNED_IN_PAGES = ["/account", "/account/data", "/account/password", "/account/delete"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_has_the_shared_layout(app, client, lang):
    make_user(app)

    def check(path):
        html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        page = outline(html)
        assert page.count("h1") == 1, path
        assert page.count("main", id="main") == 1, path
        assert page.count("header") == 1 and page.count("footer") == 1, path
        assert page.count("nav") >= 2, path
        assert page.tags[page.tags.index(("body", {})) + 1][1].get("class") == "skip-link", path
        assert page.count("link", rel="stylesheet") == 1
        for _tag, attrs in page.tags:  # nothing from other sites
            for attr in ("src", "href"):
                value = attrs.get(attr) or ""
                assert not value.startswith(("http://", "https://", "//")), (path, value)

    for path in PUBLIC_PAGES:
        check(path)
    sign_in(client)
    for path in SIGNED_IN_PAGES:
        check(path)


@pytest.mark.parametrize("lang,title,text", [
    ("zh", "隐私声明", "我们收集哪些信息"), ("en", "Privacy notice", "What we collect")])
def test_privacy_notice_in_both_languages(client, lang, title, text):
    html = client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html and text in html
    assert "2026-11-28" in html  # the version consent is recorded against


def test_privacy_notice_toc_anchors_work_for_chinese_headings(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert 'href="#我们收集哪些信息"' in html and 'id="我们收集哪些信息"' in html


@pytest.mark.parametrize("lang,status,text", [
    ("zh", 404, "找不到该页面"), ("en", 404, "We could not find this page"),
    ("zh", 405, "此地址不接受这种请求"), ("en", 405, "does not accept that kind of request"),
])
def test_error_pages_are_localised(client, lang, status, text):
    if status == 404:
        response = client.get(f"/no/such/page?lang={lang}")
    else:
        response = client.put(f"/privacy?lang={lang}")
    assert response.status_code == status
    assert text in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_403_page_is_localised(app, client):
    from portal import security

    security.ACCESS["staff_page"] = security.STAFF
    try:
        app.add_url_rule("/staff-page", "staff_page", lambda: "staff")
        make_user(app)
        sign_in(client)
        response = client.get("/staff-page?lang=en")
        assert response.status_code == 403
        assert "You do not have permission" in response.get_data(as_text=True)
    finally:
        del security.ACCESS["staff_page"]


def test_healthz_reports_each_part(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "search": "ok", "content": "ok",
                             "warnings": {"dead_jobs": 0, "overdue_jobs": 0}}


def test_healthz_names_a_missing_search_index(app, client):
    shutil.rmtree(os.path.join(app.instance_path, "search"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "ok", "search": "error",
                             "content": "ok", "warnings": {"dead_jobs": 0, "overdue_jobs": 0}}


def test_healthz_names_an_unusable_database(app, make_app, tmp_path):
    url = ("postgresql+psycopg://postgres@127.0.0.1:1/none" if PG_URL
           else "sqlite:///" + str(tmp_path / "missing-dir" / "x.sqlite3"))
    broken = make_app(DATABASE_URL=url)  # same instance folder: the index is there
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "error", "search": "ok",
                             "content": "ok", "warnings": {}}  # the queue lives in the database


def test_healthz_says_when_searching_fails_though_the_index_opens(app, monkeypatch):
    from portal.search import query

    def broken(*_args, **_kwargs):
        raise RuntimeError("segment unreadable")

    monkeypatch.setattr(query, "search", broken)
    monkeypatch.setattr("portal.search.search", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["search"] == "error"


def test_a_broken_content_file_keeps_the_last_good_content_and_health_says_so(make_app,
                                                                             tmp_path):
    content = tmp_path / "content"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "content"), content)
    app = make_app(CONTENT_DIR=str(content))
    client = app.test_client()
    assert client.get("/?lang=zh").status_code == 200
    assert client.get("/privacy?lang=zh").status_code == 200
    good_privacy = client.get("/privacy?lang=zh").get_data(as_text=True)

    site_file, page = content / "site.yaml", content / "pages" / "privacy.zh.md"
    saved_site, saved_page = site_file.read_text(), page.read_text()
    site_file.write_text("name: [unclosed\n")
    page.write_text("---\ntitle: [unclosed\n---\n正文\n")
    for path in (site_file, page):
        os.utime(path, (os.path.getmtime(path) + 5,) * 2)  # a new version, whatever the clock

    assert client.get("/?lang=zh").status_code == 200  # the last good site file serves
    assert client.get("/privacy?lang=zh").get_data(as_text=True) == good_privacy
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["content"] == "error"

    site_file.write_text(saved_site)
    page.write_text(saved_page)
    for path in (site_file, page):
        os.utime(path, (os.path.getmtime(path) + 10,) * 2)
    assert client.get("/healthz").json["content"] == "ok"


def test_healthz_warns_of_jobs_long_overdue(app):
    from datetime import timedelta

    from portal.db import utcnow, writing
    from portal.jobs import services as jobs

    with app.app_context():
        with writing():
            jobs.enqueue("jobs.prune", {}, due_at=utcnow() - timedelta(hours=1))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json["warnings"]["overdue_jobs"] == 1


def _read(path) -> str:
    with open(path) as fh:
        return fh.read()


def test_setup_is_idempotent_and_loses_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    make_user(app)
    with app.app_context():
        key = app.config["SECRET_KEY"]
    index_before = _read(os.path.join(app.instance_path, "search", "CURRENT"))
    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0, second.output
    assert "search index: present" in second.output
    with app.app_context():
        assert db.session.query(User).count() == 1
    assert _read(os.path.join(app.instance_path, "search", "CURRENT")) == index_before
    assert _read(os.path.join(app.instance_path, "secret_key")) == key


def test_setup_builds_a_missing_index(app):
    shutil.rmtree(os.path.join(app.instance_path, "search"))
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0 and "search index: built" in result.output
    assert app.test_client().get("/healthz").status_code == 200


def test_search_rebuild_swaps_in_a_fresh_index(app):
    from portal.search import index

    with app.app_context():
        before = index.current_dir()
        result = app.test_cli_runner().invoke(args=["search", "rebuild"])
        assert result.exit_code == 0 and "rebuilt" in result.output
        after = index.current_dir()
    assert after != before and os.path.isdir(after)
    with app.app_context():
        assert index.check() == 0
