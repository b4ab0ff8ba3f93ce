"""Reading and checking the library's files: topics, observances and articles.

``load(content_dir)`` returns a plan and a list of problems; nothing is written.  A problem
names the file and what is wrong with it, so whoever edits content can fix it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from portal import markup
from portal.contentmodels import (
    Bilingual,
    ContentModel,
    MonthDay,
    Slug,
    Text,
    check,
    problem,
    read_yaml,
)
from portal.core.content import ContentError, Problem, split_front_matter

LANGS = ("zh", "en")
FILE_NAME = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.([a-z]{2})\.md$")


class TopicEntry(ContentModel):
    slug: Slug
    zh: Text
    en: Text


class ObservanceEntry(ContentModel):
    slug: Slug
    zh: Text
    en: Text
    kind: Literal["fixed", "rule", "announced"]
    month_day: MonthDay | None = Field(None, alias="date")
    week_containing: MonthDay | None = None
    since: int | None = None
    group: str | None = None
    about: Bilingual
    rule: Bilingual | None = None
    note: Bilingual | None = None
    announced: dict[int, tuple[date, date]] = {}

    @model_validator(mode="after")
    def _dates_are_set(self):
        if self.kind == "fixed" and not self.month_day:
            raise problem('a fixed day needs date: "MM-DD"')
        if self.kind == "rule" and not self.week_containing:
            raise problem('a rule day needs week_containing: "MM-DD"')
        if self.kind != "fixed" and self.rule is None:
            raise problem("explain how the date is set in 'rule'")
        for year, (first, last) in self.announced.items():
            if first.year != year or last < first:
                raise problem(f"announced {year} dates are off")
        return self

    def record(self, position: int) -> dict:
        texts = {key: getattr(self, key).model_dump() for key in ("about", "rule", "note")
                 if getattr(self, key) is not None}
        record = {"slug": self.slug, "position": position, "zh": self.zh, "en": self.en,
                  "kind": self.kind,
                  "month_day": self.month_day if self.kind == "fixed" else None,
                  "week_containing": self.week_containing if self.kind == "rule" else None,
                  "since": self.since, "group": self.group, "texts": texts,
                  "announced": {str(year): [first.isoformat(), last.isoformat()]
                                for year, (first, last) in self.announced.items()}}
        return {**record, "content_hash": _hash(record)}


def _known(kind: str, listed_in: str):
    """A slug that must be one of ``context[kind]`` (what the other files define)."""
    def known(value: str, info: ValidationInfo) -> str:
        if value not in info.context[kind]:
            raise problem(f"unknown {kind.removesuffix('s')} '{value}' (see {listed_in})")
        return value
    return AfterValidator(known)


class ArticleFile(ContentModel):
    """One language version of an article: its front matter (checked), its text, its hash.
    ``kind`` says what it is (library article, news, notice, an observance day's campaign
    page); fixed pages are ``PageFile``s in ``pages/``."""

    slug: str
    lang: str
    kind: Literal["article", "news", "notice", "campaign"] = "article"
    title: Text
    summary: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    updated: date
    topics: list[Annotated[str, _known("topics", "topics.yaml")]] = []
    observances: list[Annotated[str, _known("observances", "observances.yaml")]] = []
    related: list[str] = []
    body: str
    content_hash: str

    @field_validator("summary", "observances", "related", mode="before")
    @classmethod
    def _left_empty(cls, value, info: ValidationInfo):
        return cls.model_fields[info.field_name].default if value is None else value

    @field_validator("body")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise problem("the article has no text")
        return value

    @model_validator(mode="after")
    def _campaign_names_its_day(self):
        if self.kind == "article" and not self.topics:
            raise problem("a library article needs at least one topic in 'topics'")
        if self.kind == "campaign" and self.slug not in self.observances:
            raise problem("a campaign page's slug is its observance day: list it in "
                          "'observances'")
        return self


class PageFile(ContentModel):
    """One language version of a fixed page (``pages/<slug>.<lang>.md``: privacy, about)."""

    slug: str
    lang: str
    kind: Literal["page"] = "page"
    title: Text
    summary: Annotated[str, StringConstraints(strip_whitespace=True)] = ""
    updated: date | None = None
    version: str | None = None  # the privacy notice's version (site.yaml decides consent)
    topics: list[str] = []
    observances: list[str] = []
    related: list[str] = []
    body: str
    content_hash: str

    @field_validator("version", mode="before")
    @classmethod
    def _as_text(cls, value):
        return None if value is None else str(value)

    @field_validator("body")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise problem("the page has no text")
        return value


@dataclass
class Plan:
    topics: list[dict] = field(default_factory=list)
    observances: list[dict] = field(default_factory=list)
    articles: list[ArticleFile] = field(default_factory=list)
    pages: list[PageFile] = field(default_factory=list)
    # (slug, lang) → (HTML, table of contents) of each article's body, rendered while the files
    # are read: before the unit of work that stores them, and never when a page is read
    rendered: dict[tuple[str, str], tuple[str, list[dict]]] = field(default_factory=dict)


def _hash(data) -> str:
    return hashlib.sha256(repr(data).encode()).hexdigest()


def _read_list(content_dir: str, rel: str, problems: list[Problem]) -> list:
    raw, found = read_yaml(content_dir, rel)
    if raw is not None and not isinstance(raw, list):
        found = [Problem(rel, "must be a list of entries")]
    problems.extend(found)
    return [] if found else raw or []


def _entries(model, content_dir: str, rel: str, what: str, problems: list[Problem]):
    """(position, entry) for each valid entry of a list file; a slug may be listed once."""
    seen = set()
    for i, item in enumerate(_read_list(content_dir, rel, problems)):
        slug = item.get("slug") if isinstance(item, dict) else None
        where = f"{what} '{slug}'" if isinstance(slug, str) else f"{what} {i + 1}"
        entry, found = check(model, item, rel, where=where)
        if entry is not None and entry.slug in seen:
            found = [Problem(rel, f"{where} is listed twice")]
        problems.extend(found)
        if not found:
            seen.add(entry.slug)
            yield i, entry


def _load_files(content_dir: str, sub: str, model, known: dict[str, set[str]],
                problems: list[Problem]) -> list:
    folder = os.path.join(content_dir, sub)
    if not os.path.isdir(folder):
        return []
    articles = []
    for name in sorted(os.listdir(folder)):
        rel = f"{sub}/{name}"
        if name.startswith(".") or not name.endswith(".md"):
            continue
        match = FILE_NAME.match(name)
        if not match or match.group(2) not in LANGS:
            problems.append(Problem(rel, "file name must be <slug>.zh.md or <slug>.en.md"))
            continue
        slug, lang = match.groups()
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                text = fh.read()
            meta, body = split_front_matter(text)
        except (UnicodeDecodeError, ContentError) as err:
            problems.append(Problem(rel, str(err)))
            continue
        if not meta:
            problems.append(Problem(rel, "front matter (--- … ---) is missing"))
            continue
        article, found = check(model, {
            **meta, "slug": slug, "lang": lang, "body": body,
            "content_hash": hashlib.sha256(text.encode()).hexdigest()}, rel, context=known)
        problems.extend(found)
        if article is not None:
            articles.append(article)
    return articles


def _load_articles(content_dir: str, known: dict[str, set[str]],
                   problems: list[Problem]) -> list[ArticleFile]:
    articles = _load_files(content_dir, "learn", ArticleFile, known, problems)
    slugs = {a.slug for a in articles}
    for a in articles:
        for r in a.related:
            if r not in slugs:
                problems.append(Problem(f"learn/{a.slug}.{a.lang}.md",
                                        f"unknown related article '{r}'"))
    return articles


def load(content_dir: str) -> tuple[Plan, list[Problem]]:
    problems: list[Problem] = []
    plan = Plan()
    plan.topics = [{"slug": t.slug, "position": i, "zh": t.zh, "en": t.en}
                   for i, t in _entries(TopicEntry, content_dir, "topics.yaml", "topic",
                                        problems)]
    plan.observances = [o.record(i) for i, o in _entries(
        ObservanceEntry, content_dir, "observances.yaml", "observance", problems)]
    known = {"topics": {t["slug"] for t in plan.topics},
             "observances": {o["slug"] for o in plan.observances}}
    plan.articles = _load_articles(content_dir, known, problems)
    plan.pages = _load_files(content_dir, "pages", PageFile, known, problems)
    article_slugs = {a.slug for a in plan.articles}
    for p in plan.pages:
        if p.slug in article_slugs:
            problems.append(Problem(f"pages/{p.slug}.{p.lang}.md",
                                    f"'{p.slug}' is also an article in learn/"))
    for a in [*plan.articles, *plan.pages]:  # trusted files: rendered in-process
        html, toc = markup.render_with_toc(a.body)
        plan.rendered[(a.slug, a.lang)] = (str(html), toc)
    return plan, problems
