"""The library: applying content files to the database, and reading articles and days."""

from __future__ import annotations

import sqlalchemy as sa

from portal import markup, search, stored_html
from portal.extensions import db
from portal.i18n import pick_version
from portal.learn.content import Plan
from portal.learn.models import Article, Observance, Topic

ARTICLE, OBSERVANCE = "article", "observance"


# -- applying content ------------------------------------------------------------------------

def _counts() -> dict[str, int]:
    return {"new": 0, "changed": 0, "removed": 0, "unchanged": 0}


def apply(plan: Plan) -> dict[str, dict[str, int]]:
    """Bring the database in line with ``plan`` (no commit: the caller commits once)."""
    topic_counts, obs_counts, art_counts = _counts(), _counts(), _counts()

    topics = {t.slug: t for t in db.session.scalars(sa.select(Topic))}
    for data in plan.topics:
        row = topics.pop(data["slug"], None)
        if row is None:
            db.session.add(Topic(**data))
            topic_counts["new"] += 1
        elif (row.zh, row.en, row.position) != (data["zh"], data["en"], data["position"]):
            row.zh, row.en, row.position = data["zh"], data["en"], data["position"]
            topic_counts["changed"] += 1
        else:
            topic_counts["unchanged"] += 1
    db.session.flush()

    observances = {o.slug: o for o in db.session.scalars(sa.select(Observance))}
    for data in plan.observances:
        row = observances.pop(data["slug"], None)
        if row is None:
            db.session.add(Observance(**data))
            obs_counts["new"] += 1
        elif row.content_hash != data["content_hash"]:
            for key, value in data.items():
                setattr(row, key, value)
            obs_counts["changed"] += 1
        else:
            obs_counts["unchanged"] += 1
            continue
        search.enqueue(OBSERVANCE, data["slug"])
    for row in observances.values():
        db.session.delete(row)
        obs_counts["removed"] += 1
        search.enqueue(OBSERVANCE, row.slug)

    topic_rows = {t.slug: t for t in db.session.scalars(sa.select(Topic))}
    for row in topics.values():  # topics no file names any more
        topic_rows.pop(row.slug, None)
    existing = {(a.slug, a.lang): a for a in db.session.scalars(sa.select(Article))}
    for data in plan.articles:
        row = existing.pop((data.slug, data.lang), None)
        if row is not None and row.content_hash == data.content_hash \
                and row.html_version == markup.VERSION:
            art_counts["unchanged"] += 1
            continue
        if row is None:
            row = Article(slug=data.slug, lang=data.lang)
            db.session.add(row)
            art_counts["new"] += 1
        else:
            art_counts["changed"] += 1
        row.title, row.summary, row.body = data.title, data.summary, data.body
        row.updated, row.related, row.observances = data.updated, data.related, data.observances
        row.content_hash = data.content_hash
        row.html, row.toc = plan.rendered[(data.slug, data.lang)]
        row.html_version = markup.VERSION
        row.topics = [topic_rows[t] for t in data.topics]
        search.enqueue(ARTICLE, data.slug)
    for row in existing.values():
        db.session.delete(row)
        art_counts["removed"] += 1
        search.enqueue(ARTICLE, row.slug)
    db.session.flush()
    for row in topics.values():
        db.session.delete(row)
        topic_counts["removed"] += 1
    return {"topics": topic_counts, "observances": obs_counts, "articles": art_counts}


# Articles are rendered again when the renderer changes (also by the next content sync).
stored_html.register("articles", Article, {"body": "html"}, toc="toc",
                     after=lambda article: search.enqueue(ARTICLE, article.slug))


# -- reading ---------------------------------------------------------------------------------

def versions(slug: str) -> dict[str, Article]:
    """The language versions of an article: {"zh": Article, "en": Article} (either may lack)."""
    rows = db.session.scalars(sa.select(Article).where(Article.slug == slug))
    return {a.lang: a for a in rows}


def pick(versions_by_lang: dict[str, Article], locale: str) -> Article | None:
    """The version in ``locale``, else whichever exists."""
    return pick_version(versions_by_lang, locale)[1]


def articles_by_slug(locale: str, slugs: list[str] | None = None) -> list[Article]:
    """One version per article (the reader's language when it exists), in title order."""
    stmt = sa.select(Article)
    if slugs is not None:
        stmt = stmt.where(Article.slug.in_(slugs))
    grouped: dict[str, dict[str, Article]] = {}
    for a in db.session.scalars(stmt):
        grouped.setdefault(a.slug, {})[a.lang] = a
    chosen = [pick(v, locale) for v in grouped.values()]
    if slugs is not None:
        order = {s: i for i, s in enumerate(slugs)}
        return sorted(chosen, key=lambda a: order[a.slug])
    return sorted(chosen, key=lambda a: a.title)


def topics() -> list[Topic]:
    return list(db.session.scalars(sa.select(Topic).order_by(Topic.position)))


def topic(slug: str) -> Topic | None:
    return db.session.get(Topic, slug)


def articles_in_topic(slug: str, locale: str) -> list[Article]:
    slugs = db.session.scalars(
        sa.select(Article.slug).where(Article.topics.any(Topic.slug == slug)).distinct())
    return articles_by_slug(locale, sorted(slugs))


def related(article: Article, locale: str) -> list[Article]:
    """The articles an article names as related, then others sharing its first topic."""
    named = articles_by_slug(locale, [s for s in article.related if s != article.slug])
    if len(named) >= 3 or not article.topics:
        return named
    seen = {a.slug for a in named} | {article.slug}
    extra = [a for a in articles_in_topic(article.topics[0].slug, locale) if a.slug not in seen]
    return named + extra[:3 - len(named)]


def observances() -> list[Observance]:
    return list(db.session.scalars(sa.select(Observance).order_by(Observance.position)))


def observance(slug: str) -> Observance | None:
    return db.session.get(Observance, slug)


def observances_named(slugs: list[str]) -> list[Observance]:
    rows = {o.slug: o for o in db.session.scalars(
        sa.select(Observance).where(Observance.slug.in_(slugs)))}
    return [rows[s] for s in slugs if s in rows]


def articles_about_observance(slug: str, locale: str) -> list[Article]:
    slugs = {a.slug for a in db.session.scalars(sa.select(Article))
             if slug in (a.observances or [])}
    return articles_by_slug(locale, sorted(slugs))
