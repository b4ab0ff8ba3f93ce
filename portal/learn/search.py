"""The library's searchable kinds: articles and observance days (public text only)."""

from __future__ import annotations

import sqlalchemy as sa

from portal import search
from portal.extensions import db
from portal.i18n import _l
from portal.learn.models import Article, Observance
from portal.learn.services import ARTICLE, OBSERVANCE


def _path(a: Article) -> str:
    if a.kind == "page":
        return "/privacy" if a.slug == "privacy" else f"/pages/{a.slug}"
    if a.kind == "campaign":
        return f"/observances/{a.slug}"
    return f"/learn/{a.slug}"  # library articles, news and notices


def article_document(a: Article) -> search.Document:
    return search.Document(kind=ARTICLE, id=a.slug, lang=a.lang, title=a.title,
                           body=f"{a.summary}\n{a.body_html().striptags()}",  # stored HTML
                           url=f"{_path(a)}?lang={a.lang}", summary=a.summary)


def observance_documents(o: Observance):
    for lang in ("zh", "en"):
        body = "\n".join(o.text(key, lang) for key in ("about", "rule", "note"))
        yield search.Document(kind=OBSERVANCE, id=o.slug, lang=lang, title=o.name(lang),
                              body=body, url=f"/observances/{o.slug}?lang={lang}",
                              summary=o.text("about", lang))


def all_articles():
    for a in db.session.scalars(sa.select(Article).order_by(Article.id)):
        yield article_document(a)


def articles_for(slug: str):
    for a in db.session.scalars(sa.select(Article).where(Article.slug == slug)):
        yield article_document(a)


def all_observances():
    for o in db.session.scalars(sa.select(Observance).order_by(Observance.position)):
        yield from observance_documents(o)


def observance_for(slug: str):
    o = db.session.get(Observance, slug)
    if o is not None:
        yield from observance_documents(o)


def register() -> None:
    search.register_source(ARTICLE, lambda: str(_l("Articles")), all_articles, articles_for)
    search.register_source(OBSERVANCE, lambda: str(_l("Observance days")), all_observances,
                           observance_for)
