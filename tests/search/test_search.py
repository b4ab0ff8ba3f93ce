"""Searching the real library: recall in both languages, ranking, filters, paging, the API."""

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from portal import search
from portal.extensions import db
from portal.learn.models import Article
from portal.search.analysis import mixed_analyzer, terms
from tests.conftest import make_user
from tests.search.backend import drop_index

WORD = re.compile(r"[A-Za-z]{5,}")


def _body_only_terms(library):
    """For every article, its rarest word that is in the body but not in title or summary."""
    with library.app_context():
        articles = list(db.session.scalars(sa.select(Article)))
        analyzer = mixed_analyzer()
        vocab = {}
        for a in articles:
            if a.lang == "zh":
                words = {w for w in terms(a.body, analyzer) if len(w) >= 2
                         and re.fullmatch(r"[\u4e00-\u9fff]+", w)}
            else:
                words = {w.lower() for w in WORD.findall(a.body)}
            head = (a.title + a.summary).lower()
            vocab[(a.slug, a.lang)] = {w for w in words if w not in head
                                       and not set(terms(w, analyzer)) & set(
                                           terms(head, analyzer))}
        df = Counter(terms(w, analyzer)[0] for words in vocab.values() for w in words)
        picks = {}
        for key, words in vocab.items():
            ranked = sorted(words, key=lambda w: (df[terms(w, analyzer)[0]], -len(w), w))
            picks[key] = ranked[0]
        return picks


def test_every_article_is_found_by_a_word_that_is_only_in_its_body(library, monkeypatch):
    from portal.search import query

    # Recall, not speed: on a busy machine Whoosh's collector may stop at the time limit and
    # return part of the matches (test_a_pathological_query_is_cut_off_not_hung).
    monkeypatch.setattr(query, "TIME_LIMIT", 5.0)
    picks = _body_only_terms(library)
    assert len(picks) == 38  # 17 articles and 2 pages (privacy, about), in two languages
    missed = []
    with library.test_request_context("/"):
        for (slug, lang), word in picks.items():
            page = search.search(word, lang=lang, per_page=20)
            if (slug, lang) not in {(h.id, h.lang) for h in page.hits}:
                missed.append((slug, lang, word, page.total, page.timed_out))
    assert missed == []


@pytest.mark.parametrize("query,slug,lang", [
    ("水效标识", "water-saving-at-home", "zh"),
    ("recycling", "waste-sorting", "en"),
    ("recycle", "waste-sorting", "en"),
    ("standby", "energy-saving-at-home", "en"),
    ("湿地", "biodiversity-and-wetlands", "zh"),
    ("wetland", "biodiversity-and-wetlands", "en"),
])
def test_known_words_find_their_article(library, query, slug, lang):
    with library.test_request_context("/"):
        page = search.search(query, lang=lang)
    assert (slug, lang) in {(h.id, h.lang) for h in page.hits}


def test_mixed_query_finds_both_languages(library):
    with library.test_request_context("/"):
        page = search.search("垃圾分类 recycling", per_page=50)
    langs = {h.lang for h in page.hits}
    assert langs == {"zh", "en"}
    assert ("waste-sorting", "zh") in {(h.id, h.lang) for h in page.hits}
    assert ("waste-sorting", "en") in {(h.id, h.lang) for h in page.hits}


def test_title_matches_rank_above_body_matches(library):
    with library.test_request_context("/"):
        page = search.search("垃圾分类", lang="zh")
        titles = [h.title for h in page.hits]
    assert "垃圾分类" in titles[0]
    assert any("垃圾分类" not in t for t in titles[1:])  # body-only matches come after


def test_snippets_highlight_the_match_and_escape_text(library):
    with library.test_request_context("/"):
        page = search.search("节水", lang="zh")
    assert "<mark" in page.hits[0].snippet and "节水</mark>" in page.hits[0].snippet


def test_filters_by_kind_and_language(library):
    with library.test_request_context("/"):
        only_days = search.search("水", kind="observance", per_page=50)
        only_en = search.search("water", lang="en", per_page=50)
    assert only_days.hits and {h.kind for h in only_days.hits} == {"observance"}
    assert only_en.hits and {h.lang for h in only_en.hits} == {"en"}


def test_paging(library):
    with library.test_request_context("/"):
        first = search.search("water", per_page=5)
        second = search.search("water", page=2, per_page=5)
        far = search.search("water", page=50, per_page=5)
    assert first.total == second.total > 5
    assert not {(h.id, h.lang) for h in first.hits} & {(h.id, h.lang) for h in second.hits}
    assert far.hits == [] and far.total == first.total


def test_results_page_html(library):
    client = library.test_client()
    html = client.get("/search?q=节水&lang_filter=zh").get_data(as_text=True)
    assert "条结果" in html and "<mark" in html and 'href="/learn/water-saving-at-home' in html
    assert 'rel="next"' in html or "第 1 页" not in html


def test_empty_results_suggest_what_to_try(library):
    html = library.test_client().get("/search?q=zzzyyyxxx&kind=article").get_data(as_text=True)
    assert "没有找到结果" in html and "换一种语言试试" in html and 'href="/learn"' in html
    assert "取消筛选" in html  # a filter was set: offer to drop it
    en = library.test_client().get("/search?q=zzzyyyxxx&lang=en").get_data(as_text=True)
    assert "Nothing found" in en


@pytest.mark.parametrize("query_string,code", [
    ({"q": "水", "page": "0"}, "bad_page"), ({"q": "水", "page": "abc"}, "bad_page"),
    ({"q": "水", "kind": "users"}, "bad_kind"), ({"q": "水", "lang": "fr"}, "bad_lang"),
    ({"q": "x" * 10_000}, "too_long"),
])
def test_api_rejects_bad_parameters_with_json(library, query_string, code):
    response = library.test_client().get("/api/v1/search", query_string=query_string)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code and response.json["error"]["message"]


def test_html_rejects_bad_parameters_with_a_message(library):
    response = library.test_client().get("/search", query_string={"q": "x" * 10_000})
    assert response.status_code == 400
    assert "搜索内容太长" in response.get_data(as_text=True)


def test_api_shape_without_a_token(library):
    response = library.test_client().get("/api/v1/search?q=节水&lang=zh&kind=article")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"query", "total", "page", "pages", "results"}
    assert body["query"] == "节水" and body["page"] == 1 and body["total"] >= 1
    first = body["results"][0]
    assert set(first) == {"kind", "id", "title", "url", "snippet", "lang"}
    assert first["kind"] == "article" and first["lang"] == "zh"
    assert first["url"].startswith("/learn/")
    assert "节水" in response.get_data(as_text=True)  # Chinese as text
    assert "Set-Cookie" not in response.headers


def test_people_are_never_in_the_index(library):
    make_user(library, email="wangxiaoming@example.org", name="王小明")
    with library.app_context():
        search.rebuild()
    with library.test_request_context("/"):
        assert search.search("wangxiaoming").total == 0
        assert search.search("王小明").total == 0


def test_a_pathological_query_is_cut_off_not_hung(library, monkeypatch):
    from portal.search import query

    monkeypatch.setattr(query, "TIME_LIMIT", 0.0)
    response = library.test_client().get("/search?q=水 water 的 节约")
    assert response.status_code == 200
    assert "搜索用时过长" in response.get_data(as_text=True)


def test_rebuilding_gives_identical_results(library):
    queries = ["节水", "water", "垃圾分类 recycling", "湿地", "energy label", "世界环境日"]

    def snapshot():
        with library.test_request_context("/"):
            return {q: [(h.kind, h.id, h.lang) for h in search.search(q, per_page=50).hits]
                    for q in queries}

    before = snapshot()
    drop_index(library)
    result = library.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "64 documents" in result.output
    assert snapshot() == before
