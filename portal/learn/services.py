"""The library: applying content files to the database, and reading articles and days."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from portal import search, stored_html
from portal.events.models import Event
from portal.extensions import db
from portal.i18n import pick_version
from portal.learn.content import Plan
from portal.learn.models import Article, Observance, Topic, article_topics
from portal.media.models import Media
from portal.paging import Page, keyset
from portal.schools.models import PUBLISHED as POST_PUBLISHED
from portal.schools.models import Activity

ARTICLE, OBSERVANCE = "article", "observance"


# -- applying content ------------------------------------------------------------------------

def _counts() -> dict[str, int]:
    return {"new": 0, "changed": 0, "removed": 0, "unchanged": 0}


def apply(plan: Plan, articles: Callable[[Plan], dict[str, dict[str, int]]] | None = None
          ) -> dict[str, dict[str, int]]:
    """Bring the topics and observance days in line with ``plan`` (no commit: the caller
    commits once); ``articles(plan)`` (the editorial import, ``portal.editorial``) brings in
    the articles and pages between the new topics and the removal of the old ones."""
    topic_counts, obs_counts = _counts(), _counts()

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

    db.session.flush()
    counts = articles(plan) if articles is not None else {}
    db.session.flush()
    for row in topics.values():  # topics no file names any more
        db.session.delete(row)
        topic_counts["removed"] += 1
    return {"topics": topic_counts, "observances": obs_counts, **counts}


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


# What a list of articles shows (title, summary): the body, its HTML and contents stay behind.
LISTED = sa.orm.load_only(Article.id, Article.slug, Article.lang, Article.title, Article.summary,
                          Article.published_at)
INDEX_PER_TOPIC = 10  # articles the library's front page shows of each topic
RELATED = 3
ABOUT_DAY = 20  # articles an observance day's page names at most


LIBRARY_KIND = "article"  # the library's lists show these (not news, notices, pages)


def articles_by_slug(locale: str, slugs: list[str] | None = None,
                     kind: str | None = LIBRARY_KIND) -> list[Article]:
    """One version per article (the reader's language when it exists), in title order, or in
    the order of ``slugs``; as listed (title and summary only); of ``kind`` (None: any)."""
    stmt = sa.select(Article).options(LISTED)
    if kind is not None:
        stmt = stmt.where(Article.kind == kind)
    if slugs is not None:
        if not slugs:
            return []
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


def _in_topic(slug: str):
    return sa.select(Article.slug).where(Article.topics.any(Topic.slug == slug),
                                         Article.kind == LIBRARY_KIND).distinct()


def sections(locale: str) -> list[tuple[Topic, list[Article], bool]]:
    """The library's front page: each topic with its first articles (by slug, at most
    ``INDEX_PER_TOPIC``) and whether it holds more, in two statements whatever the number of
    topics and articles."""
    rank = sa.func.dense_rank().over(partition_by=article_topics.c.topic_slug,
                                     order_by=Article.slug)
    ranked = (sa.select(article_topics.c.topic_slug.label("topic"),
                        article_topics.c.article_id.label("id"), rank.label("rank"))
              .join(Article, Article.id == article_topics.c.article_id)
              .where(Article.kind == LIBRARY_KIND).subquery())
    rows = db.session.execute(
        sa.select(ranked.c.topic, ranked.c.rank, Article).join(ranked, ranked.c.id == Article.id)
        .where(ranked.c.rank <= INDEX_PER_TOPIC + 1).options(LISTED)
        .order_by(ranked.c.topic, Article.slug))
    found: dict[str, dict[str, dict[str, Article]]] = {}
    more: set[str] = set()
    for topic_slug, position, article in rows:
        if position > INDEX_PER_TOPIC:
            more.add(topic_slug)
        else:
            found.setdefault(topic_slug, {}).setdefault(article.slug, {})[article.lang] = article
    return [(t, [pick(v, locale) for v in found[t.slug].values()], t.slug in more)
            for t in topics() if t.slug in found]


def topic_page(slug: str, locale: str, after: tuple | None) -> Page:
    """A page of a topic's articles, by slug (``?after=``): the page's slugs, then their
    versions, as listed."""
    page = keyset(_in_topic(slug), TOPIC_ORDER, after)
    page.items = articles_by_slug(locale, page.items)
    return page


TOPIC_ORDER = (Article.slug,)


def articles_in_topic(slug: str, locale: str, limit: int | None = None) -> list[Article]:
    """The first articles of a topic, by slug (at most ``limit``)."""
    stmt = _in_topic(slug).order_by(Article.slug)
    if limit is not None:
        stmt = stmt.limit(limit)
    return articles_by_slug(locale, list(db.session.scalars(stmt)))


def related(article: Article, locale: str) -> list[Article]:
    """The articles an article names as related, then others sharing its first topic."""
    named = articles_by_slug(locale, [s for s in article.related if s != article.slug])
    if len(named) >= RELATED or not article.topics:
        return named
    seen = {a.slug for a in named} | {article.slug}
    stmt = (_in_topic(article.topics[0].slug).where(Article.slug.not_in(seen))
            .order_by(Article.slug).limit(RELATED - len(named)))
    return named + articles_by_slug(locale, list(db.session.scalars(stmt)))


# -- news and notices ----------------------------------------------------------------------

LISTED_ORDER = (Article.published_at, Article.slug)


def published_page(kind: str, locale: str, after: tuple | None) -> Page:
    """A page of the published articles of ``kind`` (news, notices), newest first: the page's
    slugs (one per article, its languages share the publication time), then their versions."""
    stmt = sa.select(Article.slug).where(Article.kind == kind,
                                         Article.published_at.is_not(None)).distinct()
    page = keyset(stmt, LISTED_ORDER, after, descending=True)
    page.items = articles_by_slug(locale, page.items, kind=kind)
    return page


def cover(article: Article | None) -> Media | None:
    """The article's cover picture (of the media library), if it has one."""
    if article is None or article.cover_id is None:
        return None
    return db.session.get(Media, article.cover_id)


# -- an observance day's campaign page ------------------------------------------------------

CAMPAIGN_POSTS = 6  # recent school posts the page shows


def campaign(slug: str, locale: str) -> Article | None:
    """The staff's text for an observance day (an entry of kind campaign), if published."""
    rows = {a.lang: a for a in db.session.scalars(sa.select(Article).where(
        Article.slug == slug, Article.kind == "campaign"))}
    return pick(rows, locale) if rows else None


def posts_about_observance(slug: str) -> list[Activity]:
    """Recent public school posts about an observance day: those linked to one of its events
    (newest first, at most ``CAMPAIGN_POSTS``), with their schools, in one statement."""
    stmt = (sa.select(Activity).join(Event, Event.id == Activity.event_id)
            .where(Event.observance_slug == slug, Activity.status == POST_PUBLISHED,
                   Activity.hidden.is_(False), Activity.title != "")
            .options(sa.orm.load_only(Activity.id, Activity.title, Activity.activity_date,
                                      Activity.school_id),
                     sa.orm.joinedload(Activity.school))
            .order_by(Activity.published_at.desc(), Activity.id.desc()).limit(CAMPAIGN_POSTS))
    return list(db.session.scalars(stmt))


def observances() -> list[Observance]:
    return list(db.session.scalars(sa.select(Observance).order_by(Observance.position)))


def observance(slug: str) -> Observance | None:
    return db.session.get(Observance, slug)


def observances_named(slugs: list[str]) -> list[Observance]:
    rows = {o.slug: o for o in db.session.scalars(
        sa.select(Observance).where(Observance.slug.in_(slugs)))}
    return [rows[s] for s in slugs if s in rows]


def articles_about_observance(slug: str, locale: str) -> tuple[list[Article], bool]:
    """The articles that name an observance day (by slug, at most ``ABOUT_DAY``), and whether
    there are more.  The JSON list is matched as text (``"slug"`` with its quotes, the same on
    SQLite and PostgreSQL), then checked exactly; only slugs and lists are read."""
    quoted = '"' + slug.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    stmt = (sa.select(Article.slug, Article.observances)
            .where(sa.cast(Article.observances, sa.Text).like(f"%{quoted}%", escape="\\"),
                   Article.kind == LIBRARY_KIND)
            .order_by(Article.slug).limit(2 * (ABOUT_DAY + 1)))  # two languages a slug
    slugs: list[str] = []
    for found, days in db.session.execute(stmt):
        if slug in (days or []) and found not in slugs:
            slugs.append(found)
    return articles_by_slug(locale, slugs[:ABOUT_DAY]), len(slugs) > ABOUT_DAY
