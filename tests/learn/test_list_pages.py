"""The library in bounded lists (issue 13): the front page shows each topic's first articles
in a fixed number of statements, topic pages come in pages by slug, a bad cursor is a clear
400 in either language, and no page's statement count grows with its articles."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.db import writing
from portal.extensions import db
from portal.learn import services
from portal.learn.models import Article, Topic
from portal.paging import PAGE_SIZE
from tests.conftest import statements

ARTICLE = re.compile(r'<a href="/learn/(zz-[^"?]+)">')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


def _add(app, n: int, topic: str = "water", tag: str = "a") -> list[str]:
    """``n`` articles (a Chinese and an English version each) in ``topic``."""
    with app.app_context(), writing():
        home = db.session.get(Topic, topic)
        slugs = [f"zz-{tag}-{i:03d}" for i in range(n)]
        for slug in slugs:
            for lang in ("zh", "en"):
                db.session.add(Article(slug=slug, lang=lang, title=f"{slug} {lang}",
                                       summary="s", body="b" * 5000, updated=date(2027, 1, 1),
                                       related=[], observances=["world-water-day"],
                                       content_hash="x", topics=[home]))
        return slugs


def test_topic_pages_by_slug_without_repeats_or_gaps(make_library_app):
    app = make_library_app(PAGE_CACHE_ENABLED=False)
    client = app.test_client()
    few, _html = statements(app, client, "/learn/topics/water")
    slugs = _add(app, PAGE_SIZE + 8)
    many, html = statements(app, client, "/learn/topics/water")
    assert many == few <= 10
    pages, path = [], "/learn/topics/water"
    while path:
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(ARTICLE.findall(html))
        found = NEXT.search(html)
        path = found.group(1).replace("&amp;", "&") if found else None
    shown = [s for p in pages for s in p]
    assert len(shown) == len(set(shown)) and shown == sorted(shown) and set(slugs) <= set(shown)
    assert len(pages) == 2 and len(pages[0]) <= PAGE_SIZE
    with app.app_context():  # the page's articles are read without their bodies
        page = services.topic_page("water", "zh", None)
        assert "body" in sa.inspect(page.items[0]).unloaded


def test_the_front_page_shows_the_first_articles_of_each_topic(make_library_app):
    app = make_library_app(PAGE_CACHE_ENABLED=False)
    client = app.test_client()
    few, before = statements(app, client, "/learn")
    _add(app, 30)
    _add(app, 30, topic="waste", tag="b")
    many, html = statements(app, client, "/learn")
    assert many == few <= 10
    water = html[html.index('id="topic-water"'):]
    water = water[:water.index("</section>")]
    assert len(re.findall(r'<li lang|<li>', water)) == services.INDEX_PER_TOPIC
    assert 'href="/learn/topics/water"' in water.split("</ul>")[-1]  # "all articles" link
    assert 'class="more"' not in before and 'class="more"' in html


def test_an_observance_day_names_a_bounded_number_of_articles(make_library_app):
    app = make_library_app(PAGE_CACHE_ENABLED=False)
    client = app.test_client()
    few, _html = statements(app, client, "/observances/world-water-day")
    _add(app, 40)
    many, html = statements(app, client, "/observances/world-water-day")
    assert many == few
    assert len(ARTICLE.findall(html)) <= services.ABOUT_DAY
    assert "/search?" in html
    with app.app_context():
        found, more = services.articles_about_observance("world-water-day", "zh")
        assert more and len(found) == services.ABOUT_DAY
        assert services.articles_about_observance("world-water", "zh") == ([], False)


@pytest.mark.parametrize("cursor", ["!!", "a.b", "=", "é"])
def test_a_bad_topic_cursor_is_a_clear_400(library, cursor):
    client = library.test_client()
    response = client.get("/learn/topics/water", query_string={"after": cursor})
    assert response.status_code == 400
    assert "页面地址无效" in response.get_data(as_text=True)
    english = client.get("/learn/topics/water", query_string={"after": cursor, "lang": "en"})
    assert english.status_code == 400
    assert "This page address is not valid" in english.get_data(as_text=True)
