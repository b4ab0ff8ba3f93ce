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

import yaml

from portal.core.content import ContentError, Problem, split_front_matter

LANGS = ("zh", "en")
FILE_NAME = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.([a-z]{2})\.md$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
KINDS = ("fixed", "rule", "announced")


@dataclass
class ArticleFile:
    slug: str
    lang: str
    title: str
    summary: str
    body: str
    updated: date
    topics: list[str]
    related: list[str]
    observances: list[str]
    content_hash: str


@dataclass
class Plan:
    topics: list[dict] = field(default_factory=list)
    observances: list[dict] = field(default_factory=list)
    articles: list[ArticleFile] = field(default_factory=list)


def _hash(data) -> str:
    return hashlib.sha256(repr(data).encode()).hexdigest()


def _read_yaml(path: str, problems: list[Problem], rel: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        problems.append(Problem(rel, "file is missing"))
    except yaml.YAMLError as err:
        problems.append(Problem(rel, f"not valid YAML: {err}"))
    return None


def _bilingual(value, what: str, rel: str, problems: list[Problem]) -> dict | None:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k].strip()
                                              for k in LANGS):
        problems.append(Problem(rel, f"{what} needs non-empty 'zh' and 'en' texts"))
        return None
    return {k: value[k].strip() for k in LANGS}


def _load_topics(content_dir: str, problems: list[Problem]) -> list[dict]:
    rel = "topics.yaml"
    raw = _read_yaml(os.path.join(content_dir, rel), problems, rel)
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem(rel, "must be a list of topics"))
        return []
    topics, seen = [], set()
    for i, item in enumerate(raw):
        slug = item.get("slug") if isinstance(item, dict) else None
        if not isinstance(slug, str) or not SLUG.match(slug):
            problems.append(Problem(rel, f"topic {i + 1}: 'slug' must be lower-case-words"))
            continue
        if slug in seen:
            problems.append(Problem(rel, f"topic '{slug}' is listed twice"))
            continue
        names = _bilingual(item, f"topic '{slug}'", rel, problems)
        if names:
            seen.add(slug)
            topics.append({"slug": slug, "position": i, **names})
    return topics


def _parse_day(value, what: str, rel: str, problems: list[Problem]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(Problem(rel, f"{what}: '{value}' is not a date (YYYY-MM-DD)"))
        return None


def _load_observances(content_dir: str, problems: list[Problem]) -> list[dict]:
    rel = "observances.yaml"
    raw = _read_yaml(os.path.join(content_dir, rel), problems, rel)
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem(rel, "must be a list of observance days"))
        return []
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not SLUG.match(str(item.get("slug", ""))):
            problems.append(Problem(rel, f"entry {i + 1}: 'slug' must be lower-case-words"))
            continue
        slug = item["slug"]
        where = f"'{slug}'"
        before = len(problems)
        if slug in seen:
            problems.append(Problem(rel, f"{where} is listed twice"))
        names = _bilingual(item, where, rel, problems)
        kind = item.get("kind")
        if kind not in KINDS:
            problems.append(Problem(rel, f"{where}: kind must be one of {', '.join(KINDS)}"))
        month_day = item.get("date")
        if kind == "fixed" and not MONTH_DAY.match(str(month_day or "")):
            problems.append(Problem(rel, f"{where}: a fixed day needs date: \"MM-DD\""))
        week = item.get("week_containing")
        if kind == "rule" and not MONTH_DAY.match(str(week or "")):
            problems.append(Problem(rel, f"{where}: a rule day needs week_containing: \"MM-DD\""))
        texts = {"about": _bilingual(item.get("about"), f"{where} about", rel, problems)}
        for key in ("rule", "note"):
            if item.get(key) is not None:
                texts[key] = _bilingual(item[key], f"{where} {key}", rel, problems)
        if kind in ("rule", "announced") and "rule" not in texts:
            problems.append(Problem(rel, f"{where}: explain how the date is set in 'rule'"))
        announced = {}
        for year, span in (item.get("announced") or {}).items():
            if not (isinstance(span, list) and len(span) == 2):
                problems.append(Problem(rel, f"{where}: announced {year} must be [first, last]"))
                continue
            first = _parse_day(span[0], f"{where} {year}", rel, problems)
            last = _parse_day(span[1], f"{where} {year}", rel, problems)
            if first and last:
                if first.year != int(year) or last < first:
                    problems.append(Problem(rel, f"{where}: announced {year} dates are off"))
                announced[str(year)] = [first.isoformat(), last.isoformat()]
        since = item.get("since")
        if since is not None and not isinstance(since, int):
            problems.append(Problem(rel, f"{where}: since must be a year"))
        if len(problems) != before:
            continue
        seen.add(slug)
        record = {"slug": slug, "position": i, **names, "kind": kind,
                  "month_day": month_day if kind == "fixed" else None,
                  "week_containing": week if kind == "rule" else None, "since": since,
                  "group": item.get("group"), "texts": texts, "announced": announced}
        record["content_hash"] = _hash(record)
        out.append(record)
    return out


def _string_list(meta: dict, key: str, rel: str, problems: list[Problem]) -> list[str]:
    value = meta.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(rel, f"'{key}' must be a list of slugs"))
        return []
    return value


def _load_articles(content_dir: str, topics: set[str], observances: set[str],
                   problems: list[Problem]) -> list[ArticleFile]:
    folder = os.path.join(content_dir, "learn")
    if not os.path.isdir(folder):
        return []
    articles = []
    for name in sorted(os.listdir(folder)):
        rel = f"learn/{name}"
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
        before = len(problems)
        title = meta.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(Problem(rel, "'title' is missing"))
        summary = meta.get("summary") or ""
        if not isinstance(summary, str):
            problems.append(Problem(rel, "'summary' must be text"))
        updated = _parse_day(meta.get("updated"), "'updated'", rel, problems) \
            if meta.get("updated") is not None else None
        if updated is None and len(problems) == before:
            problems.append(Problem(rel, "'updated' (YYYY-MM-DD) is missing"))
        topic_list = _string_list(meta, "topics", rel, problems)
        if not topic_list:
            problems.append(Problem(rel, "at least one topic is needed"))
        for t in topic_list:
            if t not in topics:
                problems.append(Problem(rel, f"unknown topic '{t}' (see topics.yaml)"))
        obs_list = _string_list(meta, "observances", rel, problems)
        for o in obs_list:
            if o not in observances:
                problems.append(Problem(rel, f"unknown observance '{o}' (see observances.yaml)"))
        related = _string_list(meta, "related", rel, problems)
        if not body.strip():
            problems.append(Problem(rel, "the article has no text"))
        if len(problems) != before:
            continue
        articles.append(ArticleFile(
            slug=slug, lang=lang, title=title.strip(), summary=summary.strip(), body=body,
            updated=updated, topics=topic_list, related=related, observances=obs_list,
            content_hash=hashlib.sha256(text.encode()).hexdigest()))
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
    plan.topics = _load_topics(content_dir, problems)
    plan.observances = _load_observances(content_dir, problems)
    plan.articles = _load_articles(content_dir, {t["slug"] for t in plan.topics},
                                   {o["slug"] for o in plan.observances}, problems)
    return plan, problems
