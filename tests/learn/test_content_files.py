"""The library's own content: complete in both languages and substantial."""

import os
import re

import pytest

from portal.config import ROOT
from portal.core.content import split_front_matter
from portal.learn.content import load

CONTENT = str(ROOT / "content")
HAN = re.compile(r"[\u4e00-\u9fff]")
REQUIRED = ["eco-civilisation-at-home", "water-saving-at-home", "energy-saving-at-home",
            "waste-sorting", "green-travel", "green-consumption", "biodiversity-and-wetlands",
            "citizens-code-of-conduct", "green-school", "green-community", "green-family",
            "green-enterprise", "days-for-water", "days-for-earth-and-environment",
            "days-for-energy-and-low-carbon", "ecology-days", "jiaxing-green-creation-plan"]


def test_the_shipped_content_loads_without_problems():
    plan, problems = load(CONTENT)
    assert problems == []
    assert len({a.slug for a in plan.articles}) >= 16
    assert len(plan.observances) == 13


def test_every_article_exists_in_both_languages_with_the_same_metadata():
    plan, _ = load(CONTENT)
    by_slug: dict[str, dict] = {}
    for a in plan.articles:
        by_slug.setdefault(a.slug, {})[a.lang] = a
    assert set(REQUIRED) <= set(by_slug)
    for slug, versions in by_slug.items():
        assert set(versions) == {"zh", "en"}, slug
        zh, en = versions["zh"], versions["en"]
        assert (zh.topics, zh.related, zh.observances) == (en.topics, en.related, en.observances)


@pytest.mark.parametrize("slug", REQUIRED)
def test_articles_are_substantial(slug):
    with open(os.path.join(CONTENT, "learn", f"{slug}.zh.md"), encoding="utf-8") as fh:
        _meta, zh_body = split_front_matter(fh.read())
    with open(os.path.join(CONTENT, "learn", f"{slug}.en.md"), encoding="utf-8") as fh:
        _meta, en_body = split_front_matter(fh.read())
    assert 600 <= len(HAN.findall(zh_body)) <= 1600
    assert len(en_body.split()) >= 400
    assert "\n## " in zh_body and "\n## " in en_body


def test_every_observance_day_group_has_its_article():
    plan, _ = load(CONTENT)
    slugs = {a.slug for a in plan.articles}
    for obs in plan.observances:
        assert obs["group"] in slugs, obs["slug"]
        covered = {o for a in plan.articles if a.slug == obs["group"] for o in a.observances}
        assert obs["slug"] in covered, obs["slug"]
