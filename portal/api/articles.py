"""The routes of /api/v1 for the library's articles, news, notices and pages (editorial);
declared like those in ``views``.  The rules are the editorial services'
(``portal.editorial.services``): editors write and submit, organizers and admins publish.

``DELETE`` takes an article off the site and archives it (status ``unpublished``): its text
and every revision are kept, and it can be published again with ``PUT``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from flask import abort, request, url_for
from pydantic import Field, RootModel

from portal import links, markup
from portal.api.declare import operation, reply
from portal.api.schemas import Answer as AnswerShape
from portal.api.schemas import IsoDateTime, LangQuery, Shape
from portal.editorial import services
from portal.editorial.models import LANGS, Entry
from portal.editorial.services import Draft
from portal.paging import keyset_cursor
from portal.rules import RuleError
from portal.security import current_principal
from portal.site import zone

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Kind = Literal["article", "news", "notice", "page"]
LIMIT = 100
CURSOR = r"^[0-9]{1,18}\.[0-9]{1,10}$"


class ArticlePath(Shape):
    slug: str = Field(min_length=1, max_length=services.SLUG_MAX, pattern=SLUG,
                      description="The article's address name.")


class RevisionPath(ArticlePath):
    n: int = Field(ge=1, le=999_999_999, description="The revision's number (from 1).")


class ArticlesQuery(LangQuery):
    error_codes: ClassVar[dict[str, str]] = {"limit": "bad_limit", "cursor": "bad_cursor",
                                             "kind": "bad_kind"}

    kind: Literal["article", "news", "notice", "page", "campaign"] | None = Field(
        None, description="Only this kind.")
    limit: int = Field(50, ge=1, le=LIMIT, description="Articles in one answer.")
    cursor: str | None = Field(None, max_length=40, pattern=CURSOR,
                               description="From the `Link: <…>; rel=\"next\"` header of the "
                                           "previous answer.")


class ArticleTextInput(Shape):
    title: str = Field("", max_length=markup.TITLE_MAX)
    summary: str = Field("", max_length=markup.TEXT_MAX)
    body: str = Field("", max_length=markup.TEXT_MAX, description="Markdown.")


class ArticleInput(Shape):
    """An article in both languages (a language may be left empty: title and body both
    empty).  ``PUT`` takes the whole article again."""

    model_config = {"json_schema_extra": {"examples": [{
        "slug": "river-clean-up", "kind": "news", "topics": ["water"],
        "zh": {"title": "河道清洁行动", "summary": "", "body": "周六上午……"},
        "en": {"title": "River clean-up", "summary": "", "body": "On Saturday…"},
        "status": "draft"}]}}

    slug: str = Field(min_length=1, max_length=services.SLUG_MAX, pattern=SLUG)
    kind: Kind = "article"
    topics: list[str] = Field(default_factory=list, max_length=20,
                              description="Topic slugs (see the library).")
    zh: ArticleTextInput = Field(default_factory=ArticleTextInput)
    en: ArticleTextInput = Field(default_factory=ArticleTextInput)
    status: Literal["draft", "published"] = Field(
        "draft", description="`published`: publish now (organizers and administrators; an "
                             "editor gets 403 and should leave it `draft`).")
    publish_at: IsoDateTime | None = Field(
        None, description="With `status: published`: publish at this time instead (in the "
                          "future).")


class ArticleText(AnswerShape):
    title: str
    summary: str
    body: str


class Article(AnswerShape):
    slug: str
    kind: str
    status: Literal["draft", "submitted", "published", "unpublished"]
    topics: list[str]
    zh: ArticleText
    en: ArticleText
    url: str = Field(description="The public address (shown only while published).")
    revision: int = Field(description="The latest revision's number.")
    published_revision: int | None
    publish_at: datetime | None
    translation: list[str] = Field(description="`en_outdated`, `zh_outdated`, `no_en`, "
                                               "`no_zh`.")
    updated_at: datetime


class Articles(RootModel[list[Article]]):
    pass


class ArticleRevision(AnswerShape):
    number: int
    created_at: datetime
    author: str | None
    note: str
    source: Literal["file", "browser", "api", "restore"]


class ArticleRevisions(RootModel[list[ArticleRevision]]):
    pass


def _url(entry: Entry) -> str:
    if entry.kind == "page":
        if entry.slug == "privacy":
            return links.absolute("core.privacy")
        return links.absolute("core.page", slug=entry.slug)
    if entry.kind == "campaign":
        return links.absolute("learn.observance", slug=entry.slug)
    return links.absolute("learn.article", slug=entry.slug)


def _article(entry: Entry, rev=None) -> Article:
    rev = rev if rev is not None else services.latest(entry)
    tz = zone()
    return Article(
        slug=entry.slug, kind=entry.kind, status=entry.status,
        topics=list(rev.topics or []) if rev else [],
        **{lang: ArticleText(**{p: rev.text(lang, p) if rev else "" for p in services.PARTS})
           for lang in LANGS},
        url=_url(entry), revision=entry.latest_revision,
        published_revision=entry.published_revision,
        publish_at=entry.publish_at.astimezone(tz) if entry.publish_at else None,
        translation=[s.code for s in services.translation_status(entry)],
        updated_at=entry.updated_at.astimezone(tz))


def _entry(slug: str) -> Entry:
    entry = services.by_slug(slug)
    if entry is None:
        abort(404)
    return entry


def _draft(body: ArticleInput, entry: Entry | None) -> Draft:
    rev = services.latest(entry) if entry is not None else None
    data = (rev.data or {}) if rev is not None else {}
    return Draft(kind=body.kind, slug=body.slug, zh=body.zh.model_dump(),
                 en=body.en.model_dump(), topics=list(body.topics),
                 observances=list(data.get("observances") or []),
                 related=list(data.get("related") or []), cover_id=data.get("cover"),
                 extra={"version": data["version"]} if data.get("version") else {})


def _publish_if_asked(user, entry: Entry, body: ArticleInput) -> Entry:
    if body.status != "published":
        return entry
    if body.publish_at is not None:
        when = body.publish_at if body.publish_at.tzinfo else body.publish_at.replace(
            tzinfo=zone())
        return services.schedule(user, entry, when, entry.unpublish_at)
    return services.publish(user, entry)


def _may_publish(user, body: ArticleInput) -> None:
    if body.status == "published" and not services.can_publish(user):
        raise RuleError("forbidden", services.forbidden_message(), 403)


NEXT_LINK = {"Link": {
    "description": 'Only when more follow: `<address>; rel="next"`.', "required": False,
    "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next"$'}}}
WRITE_ERRORS = {
    403: ("Not allowed: editors cannot publish (`forbidden`), or a second person must "
          "publish (`second_review`)", "forbidden", "second_review"),
    422: ("Some fields are not valid; `error.fields` names them", "invalid",
          "markdown_too_complex")}


@operation("get", "/articles", id="listArticles", tag="articles", roles=True,
           ok={200: (Articles, "Articles, last changed first", NEXT_LINK)},
           errors={400: ("A parameter is not valid", "bad_limit", "bad_cursor", "bad_kind")})
def list_articles(query: ArticlesQuery):
    """Articles, news, notices and pages (editors, organizers, administrators)

    Every entry of the editorial system with its latest revision, last changed first."""
    page = services.entries_page(query.kind, None, keyset_cursor(services.LIST_ORDER,
                                                                 "cursor"),
                                 size=query.limit, param="cursor")
    latest = services.latest_of(page.items)
    answer = reply(Articles([_article(e, latest.get(e.id)) for e in page.items]))
    if page.next is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        answer.headers["Link"] = \
            f'<{url_for("api.list_articles", **args, cursor=page.next)}>; rel="next"'
    return answer


@operation("post", "/articles", id="createArticle", tag="articles", roles=True,
           ok={201: (Article, "Created (revision 1)")},
           errors=WRITE_ERRORS)
def create_article(body: ArticleInput):
    """Write a new article

    Saved as revision 1 (a draft); `status: published` publishes it at once (organizers and
    administrators), or at `publish_at`."""
    user = current_principal()
    _may_publish(user, body)
    rev = services.save(user, None, _draft(body, None), source="api")
    entry = _publish_if_asked(user, services.get(rev.entry_id), body)
    return reply(_article(services.get(entry.id)), 201)


@operation("get", "/articles/<slug>", id="getArticle", tag="articles", roles=True,
           ok={200: (Article, "The article's latest revision")},
           errors={404: ("No such article", "not_found")})
def get_article(path: ArticlePath):
    """One article (its latest revision)"""
    return reply(_article(_entry(path.slug)))


@operation("put", "/articles/<slug>", id="updateArticle", tag="articles", roles=True,
           ok={200: (Article, "Saved as a new revision")},
           errors={**WRITE_ERRORS, 404: ("No such article", "not_found")})
def update_article(path: ArticlePath, body: ArticleInput):
    """Save a new revision of an article (the whole article)

    The body's `slug` must be the address's; the kind cannot change."""
    entry = _entry(path.slug)
    user = current_principal()
    errors = {}
    if body.slug != entry.slug:
        errors["slug"] = services.fixed_message("slug")
    if body.kind != entry.kind:
        errors["kind"] = services.fixed_message("kind")
    if errors:
        raise RuleError("invalid", next(iter(errors.values())), 422, errors)
    _may_publish(user, body)
    services.save(user, entry, _draft(body, entry), source="api")
    entry = _publish_if_asked(user, services.get(entry.id), body)
    return reply(_article(services.get(entry.id)))


@operation("delete", "/articles/<slug>", id="deleteArticle", tag="articles", roles=True,
           ok={200: (Article, "Taken off the site and archived (nothing is deleted)")},
           errors={403: ("Only organizers and administrators", "forbidden"),
                   404: ("No such article", "not_found"),
                   409: ("It is not published", "not_published")})
def delete_article(path: ArticlePath):
    """Unpublish and archive an article

    It leaves the site, search and lists; its text and every revision are kept (status
    `unpublished`), and `PUT` with `status: published` brings it back."""
    entry = _entry(path.slug)
    services.unpublish(current_principal(), entry, services.archived_reason())
    return reply(_article(services.get(entry.id)))


@operation("get", "/articles/<slug>/revisions", id="articleRevisions", tag="articles",
           roles=True,
           ok={200: (ArticleRevisions, "The revisions, numbered from 1 in save order")},
           errors={404: ("No such article", "not_found")})
def article_revisions(path: ArticlePath):
    """An article's revisions (the newest 100)"""
    entry = _entry(path.slug)
    page = services.revisions_page(entry, None, size=LIMIT)
    tz = zone()
    return reply(ArticleRevisions([ArticleRevision(
        number=r.number, created_at=r.created_at.astimezone(tz),
        author=r.author.display_name if r.author else None, note=r.note, source=r.source)
        for r in page.items]))


@operation("post", "/articles/<slug>/revisions/<int:n>/restore", id="restoreRevision",
           tag="articles", roles=True,
           ok={200: (Article, "Restored as a new revision (not published yet)")},
           errors={404: ("No such article or revision", "not_found")})
def restore_revision(path: RevisionPath):
    """Restore an old revision

    Its text becomes a new revision; what is published does not change until it is
    published."""
    entry = _entry(path.slug)
    services.restore(current_principal(), entry, path.n)
    return reply(_article(services.get(entry.id)))
