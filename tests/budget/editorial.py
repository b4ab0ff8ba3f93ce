"""Query budgets of the editorial routes (issue 14): the back office (organizer), the public
news and notices lists and fixed pages, and the articles API."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from portal import markup
from portal.db import utcnow
from portal.editorial.models import Entry, Revision
from portal.extensions import db
from portal.learn.models import Article, Observance
from tests.budget import Route

ZH, EN = "预算新闻正文。", "Budget news text."
SAME = {"zh_title": "预算新闻0", "zh_summary": "", "zh_body": ZH, "en_title": "Budget news 0",
        "en_summary": "", "en_body": EN, "topics": ["water"], "note": "", "save": "Save"}
API_BODY = {"slug": "budget-news-0", "kind": "news", "topics": ["water"],
            "zh": {"title": "预算新闻0", "body": ZH}, "en": {"title": "Budget news 0", "body": EN},
            "status": "draft"}


def _entry(i):
    return lambda ids: f"/manage/content/{ids['entry']}{i}"


ROUTES: dict[str, Route] = {
    "editorial.index": Route("/manage/content", "organizer"),
    "editorial.index news": Route("/manage/content?kind=news&status=published", "organizer"),
    "editorial.new": Route("/manage/content/new?kind=news", "organizer"),
    "editorial.edit": Route(_entry(""), "organizer"),
    "editorial.revisions": Route(_entry("/revisions"), "organizer"),
    "editorial.revision": Route(_entry("/revisions/2"), "organizer"),
    "editorial.restore": Route(_entry("/revisions/1/restore"), "organizer"),
    "editorial.unpublish": Route(_entry("/unpublish"), "organizer"),
    # Repeatable posts: a new entry with a bad address name (the form again); saving the
    # latest revision's text unchanged (nothing saved); restoring revision 1 (one more
    # revision each time); unpublishing without a reason (the form again); sending back what
    # was not submitted (refused with a message).
    "editorial.new POST": Route("/manage/content/new?kind=news", "organizer", 422, "POST",
                                form={**SAME, "slug": "Not a slug"}),
    "editorial.edit POST": Route(_entry(""), "organizer", 302, "POST", form=SAME),
    "editorial.restore POST": Route(_entry("/revisions/1/restore"), "organizer", 302, "POST",
                                    form={}),
    "editorial.unpublish POST": Route(_entry("/unpublish"), "organizer", 400, "POST",
                                      form={"reason": ""}),
    "editorial.send_back": Route(_entry("/send-back"), "organizer", 302, "POST",
                                 form={"back-reason": "x"}),
    "learn.observance campaign": Route(lambda i: f"/observances/{i['campaign']}"),
    "learn.news": Route("/news"),
    "learn.notices": Route("/notices"),
    "core.page": Route("/pages/about"),
    "api.list_articles": Route("/api/v1/articles", "organizer"),
    "api.get_article": Route("/api/v1/articles/budget-news-0", "organizer"),
    "api.article_revisions": Route("/api/v1/articles/budget-news-0/revisions", "organizer"),
    # Repeatable API writes: a slug that is taken; a new revision of the same text; restoring
    # revision 1; archiving what is not published (refused).
    "api.create_article": Route("/api/v1/articles", "organizer", 422, "POST", json=API_BODY),
    "api.update_article": Route("/api/v1/articles/budget-news-0", "organizer", 200, "PUT",
                                json=API_BODY),
    "api.restore_revision": Route("/api/v1/articles/budget-news-0/revisions/1/restore",
                                  "organizer", 200, "POST"),
    "api.delete_article": Route("/api/v1/articles/budget-draft", "organizer", 409, "DELETE"),
}
SHOWN: dict[str, str] = {
    "editorial.index": "budget-news-",
    "editorial.index news": "budget-news-",
    "editorial.revisions": "预算修订",
    "learn.news": "预算新闻",
    "learn.notices": "预算公告",
    "api.list_articles": '"budget-news-',
    "api.article_revisions": '"number"',
}


def _html(text: str) -> list:
    return [f"<p>{text}</p>", []]


def seed(n: int, ids: dict, people: dict, others: list) -> None:
    """``n`` published news entries (the first with ``n`` revisions), ``n`` published notices
    and one draft."""
    now = utcnow()
    organizer = people["organizer"]
    for kind, word, zh_word in (("news", "news", "预算新闻"), ("notice", "notice", "预算公告")):
        for i in range(n):
            when = now - timedelta(minutes=i + (0 if kind == "news" else 500))
            revisions = n if (kind == "news" and i == 0) else 1
            entry = Entry(slug=f"budget-{word}-{i}", kind=kind, status="published",
                          created_at=when, updated_at=when, updated_by_id=organizer,
                          zh_revised=revisions, en_revised=revisions,
                          latest_revision=revisions, languages="zh en",
                          published_revision=revisions, published_at=when)
            db.session.add(entry)
            db.session.flush()
            db.session.add_all(Revision(
                entry_id=entry.id, number=k + 1, author_id=organizer, created_at=when,
                note=f"预算修订{k}", source="browser", zh_title=f"{zh_word}{i}", zh_body=ZH,
                en_title=f"Budget {word} {i}", en_body=EN, topics=["water"],
                data={"html": {"zh": _html(ZH), "en": _html(EN)},
                      "html_version": markup.VERSION}) for k in range(revisions))
            db.session.add_all(Article(
                slug=entry.slug, lang=lang, kind=kind, title=title, summary="", body=body,
                html=f"<p>{body}</p>", html_version=markup.VERSION, updated=date.today(),
                related=[], observances=[], content_hash=f"{i:064d}", published_at=when)
                for lang, title, body in (("zh", f"{zh_word}{i}", ZH),
                                          ("en", f"Budget {word} {i}", EN)))
            if kind == "news" and i == 0:
                ids["entry"] = entry.id
    # the first observance day's campaign page (its staff text)
    day = db.session.scalar(sa.select(Observance.slug).order_by(Observance.slug))
    db.session.add_all(Article(slug=day, lang=lang, kind="campaign", title=title, summary="",
                               body=ZH, html=f"<p>{ZH}</p>", html_version=markup.VERSION,
                               updated=date.today(), related=[], observances=[day],
                               content_hash="c" * 64, published_at=now)
                       for lang, title in (("zh", "预算活动页"), ("en", "Budget campaign")))
    ids["campaign"] = day
    draft = Entry(slug="budget-draft", kind="news", status="draft", created_at=now,
                  updated_at=now, latest_revision=1, languages="zh")
    db.session.add(draft)
    db.session.flush()
    db.session.add(Revision(entry_id=draft.id, number=1, source="browser", zh_title="草稿",
                            zh_body=ZH, topics=[], data={}))
