"""Reading the library: articles, topics and observance days, in both languages."""

import re
from datetime import date

import pytest

from portal.extensions import db
from portal.learn import observances as days
from portal.learn.models import Article, Observance


def test_library_index_lists_topics_and_articles(library):
    client = library.test_client()
    html = client.get("/learn").get_data(as_text=True)
    assert "<h1>生态文明知识库</h1>" in html
    assert 'href="/learn/topics/water"' in html and 'href="/learn/waste-sorting"' in html
    en = client.get("/learn?lang=en").get_data(as_text=True)
    assert "Eco-civilisation library" in en and "Waste sorting" in en


def test_article_page_has_everything_a_reader_needs(library):
    html = library.test_client().get("/learn/water-saving-at-home").get_data(as_text=True)
    with library.app_context():
        zh = db.session.query(Article).filter_by(slug="water-saving-at-home", lang="zh").one()
    assert f"<h1>{zh.title}</h1>" in html
    assert zh.summary in html
    assert "更新于 2026年11月28日" in html
    assert 'href="/learn/topics/water"' in html
    assert 'href="/learn/water-saving-at-home?lang=en"' in html and "Read in English" in html
    assert "相关文章" in html and 'href="/observances/world-water-day"' in html
    # The table of contents links to headings that carry the same (Chinese) ids.
    anchors = re.findall(r'<a href="#([^"]+)"', html)
    assert len(anchors) >= 3
    for anchor in anchors:
        assert f'id="{anchor}"' in html, anchor
    assert any(re.search(r"[\u4e00-\u9fff]", a) for a in anchors)


def test_article_in_english(library):
    html = library.test_client().get("/learn/water-saving-at-home?lang=en").get_data(
        as_text=True)
    assert '<html lang="en">' in html and "Updated" in html and "阅读中文版" in html


def test_a_missing_language_is_explained_not_a_404(library):
    with library.app_context():
        db.session.query(Article).filter_by(slug="green-travel", lang="en").delete()
        db.session.commit()
    response = library.test_client().get("/learn/green-travel?lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "not yet available in your language" in html
    assert 'lang="zh-CN"' in html  # the Chinese text is marked as Chinese
    assert "Read in English" not in html


def test_unknown_article_topic_and_day_are_404(library):
    client = library.test_client()
    for path in ["/learn/no-such-article", "/learn/topics/astrology", "/observances/no-day"]:
        assert client.get(path).status_code == 404, path


def test_topic_page_lists_its_articles(library):
    html = library.test_client().get("/learn/topics/green-creation?lang=en").get_data(
        as_text=True)
    assert "<h1>Green creation</h1>" in html
    for slug in ["green-school", "green-community", "green-family", "green-enterprise"]:
        assert f'href="/learn/{slug}"' in html


def test_observance_list_shows_next_dates(library):
    html = library.test_client().get("/observances?lang=en").get_data(as_text=True)
    assert "Zhejiang Ecology Day" in html and "Same date every year" in html
    assert "Announced each year" in html


def test_fixed_observance_page(library):
    html = library.test_client().get("/observances/world-environment-day").get_data(
        as_text=True)
    assert "<h1>世界环境日</h1>" in html and "每年日期固定" in html and "6月5日" in html
    assert "1974" in html and "环境保护法" in html
    assert 'href="/learn/days-for-earth-and-environment"' in html


def test_rule_observance_dates_are_marked_provisional(library):
    html = library.test_client().get("/observances/urban-water-saving-week?lang=en").get_data(
        as_text=True)
    assert "contains 15 May" in html
    assert "provisional" in html


def _obs(library, slug):
    with library.app_context():
        obs = db.session.get(Observance, slug)
        db.session.expunge(obs)
        return obs


def test_occurrences_follow_each_kind_of_rule(library):
    earth = _obs(library, "earth-day")
    assert days.occurrence(earth, 2027) == days.Occurrence(date(2027, 4, 22), date(2027, 4, 22),
                                                           False)
    assert days.occurrence(earth, 1960) is None  # before it existed
    week = _obs(library, "urban-water-saving-week")
    # Announced dates win over the rule (2024 ran Saturday to Friday) …
    assert days.occurrence(week, 2024) == days.Occurrence(date(2024, 5, 11), date(2024, 5, 17),
                                                          False)
    # … and without an announcement the rule gives a provisional Sunday-to-Saturday week.
    occ = days.occurrence(week, 2027)
    assert (occ.start, occ.end, occ.provisional) == (date(2027, 5, 9), date(2027, 5, 15), True)
    assert occ.start.weekday() == 6 and occ.start <= date(2027, 5, 15) <= occ.end
    low_carbon = _obs(library, "low-carbon-day")
    assert days.occurrence(low_carbon, 2020).start == date(2020, 7, 2)  # 4th day that year
    assert days.occurrence(low_carbon, 2027) is None  # only announced dates exist


def test_upcoming_skips_what_is_over_and_says_what_is_unknown(library):
    earth = _obs(library, "earth-day")
    after = days.upcoming(earth, on=date(2026, 11, 28), years=2)
    assert [(y, o.start) for y, o in after] == [(2027, date(2027, 4, 22)),
                                                (2028, date(2028, 4, 22))]
    energy = _obs(library, "energy-saving-week")
    assert days.upcoming(energy, on=date(2025, 6, 1), years=2)[0][1].start == date(2025, 6, 23)
    assert days.upcoming(energy, on=date(2026, 11, 28), years=2) == [(2026, None), (2027, None)]


@pytest.mark.parametrize("day,expected", [(date(2027, 5, 15), date(2027, 5, 9)),
                                          (date(2022, 5, 15), date(2022, 5, 15)),
                                          (date(2021, 5, 15), date(2021, 5, 9))])
def test_week_containing_starts_on_sunday(day, expected):
    start, end = days.week_containing(day)
    assert start == expected and (end - start).days == 6
