"""The editorial workflow: drafts, revisions, review, publishing (now or scheduled),
unpublishing, restoring, and the content/ files as first revisions (import and export).

Rules (tested without HTTP in tests/editorial):

* Editors, organizers and admins save drafts and submit them; only organizers and admins
  publish, schedule, unpublish and send back.  With ``EDITORIAL_SECOND_REVIEW`` on, the person
  who saved the latest revision cannot publish it.
* Every save is a new revision (numbered from 1 per entry in save order); restoring revision n
  is a new revision copying n.  The revision that ``zh`` and ``en`` last changed in is kept
  on the entry (``zh_revised``/``en_revised``): the translation status.
* Markdown is rendered when a revision is saved (``stored_html.render_fields``, before the
  unit of work) and the HTML kept with the revision; publishing copies it, with the text, into
  the ``articles`` rows (one per language) that every public page reads.
* Scheduled publishing and unpublishing are jobs due at the chosen time; the job checks the
  entry again when it runs, so a rescheduled or cancelled one does nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
import yaml
from flask import current_app

from portal import audit, jobs, markup, search, stored_html
from portal.accounts.models import User
from portal.core import content as core_content
from portal.db import utcnow, writing
from portal.editorial.models import (
    DRAFT,
    LANGS,
    PUBLISHED,
    SUBMITTED,
    UNPUBLISHED,
    Entry,
    Revision,
)
from portal.extensions import db
from portal.i18n import _, _l
from portal.inbox import services as inbox
from portal.learn import services as learn
from portal.learn.content import Plan
from portal.learn.models import Article, Observance, Topic
from portal.learn.services import ARTICLE
from portal.media.models import Media
from portal.paging import PAGE_SIZE, Page, keyset
from portal.rules import RuleError
from portal.security import ADMIN, EDITOR, ORGANIZER
from portal.site import zone

PUBLISHERS = (ORGANIZER, ADMIN)
WRITER_ROLES = (EDITOR, ORGANIZER, ADMIN)
#: What staff may create in the browser (and the API, which has no campaign pages).
EDITABLE_KINDS = ("article", "news", "notice", "page", "campaign")
API_KINDS = ("article", "news", "notice", "page")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 120
NOTE_MAX = 500
REASON_MAX = 500
PARTS = ("title", "summary", "body")

PUBLISH_JOB, UNPUBLISH_JOB = "editorial.publish", "editorial.unpublish"

KIND_LABELS = {"article": _l("Library article"), "news": _l("News"), "notice": _l("Notice"),
               "page": _l("Page"), "campaign": _l("Campaign page")}
STATUS_LABELS = {DRAFT: _l("Draft"), SUBMITTED: _l("Submitted for review"),
                 PUBLISHED: _l("Published"), UNPUBLISHED: _l("Unpublished")}
SOURCE_LABELS = {"file": _l("content file"), "browser": _l("browser"), "api": _l("API"),
                 "restore": _l("restored")}

audit.describe("editorial.save", _l("{actor} saved revision {revision} of '{label}'"),
               _l("Content saved"))
audit.describe("editorial.submit", _l("{actor} submitted '{label}' for review"),
               _l("Content submitted"))
audit.describe("editorial.publish", _l("{actor} published revision {revision} of '{label}'"),
               _l("Content published"))
audit.describe("editorial.schedule", _l("{actor} scheduled '{label}'"), _l("Content scheduled"))
audit.describe("editorial.unpublish", _l("{actor} unpublished '{label}'"),
               _l("Content unpublished"))
audit.describe("editorial.send_back", _l("{actor} sent '{label}' back to its author"),
               _l("Content sent back"))
audit.describe("editorial.restore",
               _l("{actor} restored revision {restored} of '{label}' as revision {revision}"),
               _l("Revision restored"))
audit.kind_word("entry", _l("content"))

inbox.kind("editorial.published", label=_l("Your article was published"),
           sentence=_l("Your article '{title}' was published"),
           subject=_l("Your article was published"))
inbox.kind("editorial.sent_back", label=_l("Your article was sent back"),
           sentence=_l("Your article '{title}' was sent back to you"),
           subject=_l("Your article was sent back"))


# -- what a draft holds ------------------------------------------------------------------------

@dataclass
class Draft:
    """What a form or an API body gives for one save."""

    kind: str = "article"
    slug: str = ""
    zh: dict = field(default_factory=dict)  # {title, summary, body}
    en: dict = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    observances: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    cover_id: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)  # updated dates, page version (files)

    def text(self, lang: str, part: str) -> str:
        return ((self.zh if lang == "zh" else self.en).get(part) or "").replace("\r\n", "\n")


def draft_of(revision: Revision, entry: Entry, note: str = "") -> Draft:
    data = revision.data or {}
    return Draft(kind=entry.kind, slug=entry.slug,
                 zh={p: revision.text("zh", p) for p in PARTS},
                 en={p: revision.text("en", p) for p in PARTS},
                 topics=list(revision.topics or []),
                 observances=list(data.get("observances") or []),
                 related=list(data.get("related") or []), cover_id=data.get("cover"),
                 note=note, extra={k: data[k] for k in ("updated", "version") if k in data})


def _invalid(fields: dict[str, str]) -> RuleError:
    return RuleError("invalid", next(iter(fields.values())), 422, fields)


def check(draft: Draft, entry: Entry | None, kinds=EDITABLE_KINDS) -> None:
    """The shape rules of a save (before rendering): a ``RuleError`` naming every field."""
    errors: dict[str, str] = {}
    if draft.kind not in kinds:
        errors["kind"] = _("Choose what this is.")
    if entry is None:
        if not SLUG.match(draft.slug or "") or len(draft.slug) > SLUG_MAX:
            errors["slug"] = _("The address name uses lower-case letters, digits and hyphens "
                               "(for example water-saving-tips), at most 120 characters.")
        elif db.session.scalar(sa.select(Entry.id).where(Entry.slug == draft.slug)):
            errors["slug"] = _("Another article already has this address name.")
    if draft.kind == "campaign" and (entry is None and draft.slug) and \
            db.session.get(Observance, draft.slug) is None:
        errors["slug"] = _("A campaign page's address name is its observance day.")
    for lang in LANGS:
        if len(draft.text(lang, "title")) > markup.TITLE_MAX:
            errors[f"{lang}_title"] = _("A title has at most %(n)d characters.",
                                        n=markup.TITLE_MAX)
        for part in ("summary", "body"):
            if len(draft.text(lang, part)) > markup.TEXT_MAX:
                errors[f"{lang}_{part}"] = _("A text has at most %(n)d characters.",
                                             n=markup.TEXT_MAX)
        has_title = bool(draft.text(lang, "title").strip())
        has_body = bool(draft.text(lang, "body").strip())
        if has_title != has_body:
            name = f"{lang}_body" if has_title else f"{lang}_title"
            errors.setdefault(name, _("Give this language both a title and a text, or "
                                      "leave both empty."))
    if not any(draft.text(lang, "title").strip() for lang in LANGS) and \
            "zh_title" not in errors:
        errors["zh_title"] = _("Write a title and a text in at least one language.")
    if len(draft.note or "") > NOTE_MAX:
        errors["note"] = _("A note has at most 500 characters.")
    texts = {f"{lang}_{p}": draft.text(lang, p) for lang in LANGS for p in PARTS}
    for name, text in {**texts, "note": draft.note or ""}.items():
        if "\x00" in text:  # PostgreSQL cannot store it; no one types it
            errors[name] = _("This text holds a character that cannot be stored (U+0000).")
    known_topics = set(db.session.scalars(sa.select(Topic.slug)))
    if any(t not in known_topics for t in draft.topics):
        errors["topics"] = _("Choose topics from the list.")
    if draft.cover_id is not None and db.session.get(Media, draft.cover_id) is None:
        errors["cover"] = _("Choose one of the pictures shown, or no picture.")
    if errors:
        raise _invalid(errors)


_HEADING = re.compile(r'<h([2-4]) id="([^"]+)">(.*?)</h\1>', re.S)
_TAG = re.compile(r"<[^>]+>")


def _toc(html: str) -> list[dict]:
    return [{"id": m.group(2), "name": _TAG.sub("", m.group(3)), "level": int(m.group(1))}
            for m in _HEADING.finditer(html)]


def render(draft: Draft) -> dict[str, list]:
    """Each language's body as HTML with its table of contents, within the Markdown budget
    (call before the unit of work): ``{lang: [html, toc]}``."""
    texts = {f"{lang}_body": draft.text(lang, "body") for lang in LANGS
             if draft.text(lang, "body").strip()}
    html = stored_html.render_fields(texts)
    return {lang: [html[f"{lang}_body"], _toc(html[f"{lang}_body"])] for lang in LANGS
            if f"{lang}_body" in html}


def preview(draft: Draft) -> dict[str, str]:
    """The preview page's HTML of each language (the same door as a save)."""
    return {lang: value[0] for lang, value in render(draft).items()}


# -- reading -----------------------------------------------------------------------------------

def get(entry_id: int) -> Entry | None:
    return db.session.get(Entry, entry_id)


def by_slug(slug: str) -> Entry | None:
    return db.session.scalar(sa.select(Entry).where(Entry.slug == slug))


def revision(entry: Entry, number: int) -> Revision | None:
    return db.session.scalar(sa.select(Revision).where(Revision.entry_id == entry.id,
                                                       Revision.number == number))


def latest(entry: Entry) -> Revision | None:
    return revision(entry, entry.latest_revision) if entry.latest_revision else None


def latest_of(entries: list[Entry]) -> dict[int, Revision]:
    """The latest revision of each entry, in one statement (entry id → revision)."""
    pairs = [(e.id, e.latest_revision) for e in entries if e.latest_revision]
    if not pairs:
        return {}
    rows = db.session.scalars(sa.select(Revision).where(
        sa.tuple_(Revision.entry_id, Revision.number).in_(pairs)))
    return {r.entry_id: r for r in rows}


LIST_ORDER = (Entry.updated_at, Entry.id)


def entries_page(kind: str | None, status: str | None, after: tuple | None,
                 size: int = PAGE_SIZE, param: str = "after") -> Page:
    """The back office's list, last changed first, with who changed it (one statement)."""
    stmt = sa.select(Entry).options(
        sa.orm.joinedload(Entry.updated_by),
        sa.orm.joinedload(Entry.latest).load_only(Revision.zh_title, Revision.en_title))
    if kind:
        stmt = stmt.where(Entry.kind == kind)
    if status:
        stmt = stmt.where(Entry.status == status)
    return keyset(stmt, LIST_ORDER, after, size=size, descending=True, param=param)


def revisions_page(entry: Entry, before: int | None, size: int = PAGE_SIZE) -> Page:
    stmt = (sa.select(Revision).options(sa.orm.load_only(
        Revision.id, Revision.number, Revision.author_id, Revision.created_at, Revision.note,
        Revision.source), sa.orm.joinedload(Revision.author))
        .where(Revision.entry_id == entry.id))
    after = (before,) if before is not None else None
    return keyset(stmt, (Revision.number,), after, size=size, descending=True, param="before")


def title_of(revision: Revision | None, locale: str = "zh") -> str:
    if revision is None:
        return ""
    other = "en" if locale == "zh" else "zh"
    return revision.text(locale, "title") or revision.text(other, "title")


@dataclass(frozen=True)
class Status:
    code: str  # en_outdated, zh_outdated, no_en, no_zh
    label: str


def translation_status(entry: Entry, revision: Revision | None = None) -> list[Status]:
    """What a reader in each language misses: a language left empty, or one that was last
    changed before the other ("translation outdated")."""
    if not entry.latest_revision:
        return []
    has = set(entry.languages.split()) if revision is None else {
        lang for lang in LANGS if revision.has(lang)}
    out = []
    if "en" not in has:
        out.append(Status("no_en", _("No English version")))
    if "zh" not in has:
        out.append(Status("no_zh", _("No Chinese version")))
    if has == {"zh", "en"}:
        if entry.zh_revised > entry.en_revised:
            out.append(Status("en_outdated", _("English translation outdated")))
        elif entry.en_revised > entry.zh_revised:
            out.append(Status("zh_outdated", _("Chinese translation outdated")))
    return out


def can_publish(user: User | None) -> bool:
    return user is not None and user.role in PUBLISHERS


def can_write(user: User | None) -> bool:
    return user is not None and user.role in WRITER_ROLES


# -- saving ------------------------------------------------------------------------------------

def _changed(prev: Revision | None, draft: Draft, lang: str) -> bool:
    if prev is None:
        return any(draft.text(lang, p).strip() for p in PARTS)
    return any(prev.text(lang, p) != draft.text(lang, p) for p in PARTS)


def _add_revision(entry: Entry, draft: Draft, html: dict, author: User | None, source: str,
                  note: str) -> Revision:
    prev = latest(entry) if entry.id else None
    number = entry.latest_revision + 1
    if entry.kind == "campaign" and entry.slug not in draft.observances:
        draft.observances = [entry.slug, *draft.observances]
    data = {"observances": list(draft.observances), "related": list(draft.related),
            "cover": draft.cover_id, "html": html, "html_version": markup.VERSION,
            **draft.extra}
    rev = Revision(number=number, author_id=author.id if author else None, note=note[:NOTE_MAX],
                   source=source, topics=list(dict.fromkeys(draft.topics)), data=data,
                   created_at=utcnow(),
                   **{f"{lang}_{p}": draft.text(lang, p).strip() if p != "body"
                      else draft.text(lang, p) for lang in LANGS for p in PARTS})
    for lang in LANGS:
        if _changed(prev, draft, lang):
            setattr(entry, f"{lang}_revised", number)
    entry.latest_revision = number
    entry.languages = " ".join(lang for lang in LANGS
                               if draft.text(lang, "title").strip()
                               and draft.text(lang, "body").strip())
    entry.cover_id = draft.cover_id
    if entry.kind == "campaign":
        entry.observance = entry.slug
    entry.updated_at = rev.created_at
    entry.updated_by_id = author.id if author else None
    rev.entry_id = entry.id
    db.session.add(rev)
    db.session.flush()
    return rev


def _require_writer(user: User | None) -> None:
    if not can_write(user):
        raise RuleError("forbidden", _("Only editors, organizers and administrators can "
                                       "write content."), 403)


def save(user: User, entry: Entry | None, draft: Draft, source: str = "browser") -> Revision:
    """A new revision (a new entry when ``entry`` is None): the draft is checked, rendered
    (before the unit of work) and saved.  A published entry stays published as it was until
    the new revision is published."""
    _require_writer(user)
    check(draft, entry)
    html = render(draft)
    with writing():
        if entry is None:
            entry = Entry(slug=draft.slug, kind=draft.kind, status=DRAFT, created_at=utcnow())
            db.session.add(entry)
            db.session.flush()
        else:
            entry = db.session.merge(entry)
            if entry.status != PUBLISHED:
                entry.status = DRAFT
        rev = _add_revision(entry, draft, html, user, source, draft.note or "")
        audit.record(user, "editorial.save", f"entry:{entry.id}", title_of(rev),
                     revision=rev.number)
    return rev


def submit(user: User, entry: Entry) -> Entry:
    _require_writer(user)
    with writing():
        entry = db.session.merge(entry)
        if entry.latest_revision == entry.published_revision and entry.status == PUBLISHED:
            raise RuleError("nothing_to_submit", _("There are no changes to submit: the "
                                                   "latest revision is published."), 409)
        entry.status = SUBMITTED
        entry.submitted_by_id = user.id
        audit.record(user, "editorial.submit", f"entry:{entry.id}", title_of(latest(entry)),
                     revision=entry.latest_revision)
    return entry


def forbidden_message() -> str:
    return _("Only organizers and administrators can publish. Submit it for review instead.")


def fixed_message(name: str) -> str:
    if name == "slug":
        return _("The address name cannot be changed.")
    return _("What an article is cannot be changed.")


def archived_reason() -> str:
    return _("Archived through the API")


def _require_publisher(user: User | None, entry: Entry, rev: Revision | None) -> None:
    if not can_publish(user):
        raise RuleError("forbidden", forbidden_message(), 403)
    if current_app.config.get("EDITORIAL_SECOND_REVIEW") and rev is not None \
            and rev.author_id == user.id:
        raise RuleError("second_review", _("A second person must review and publish what "
                                           "you saved last."), 403)


def _project(entry: Entry, rev: Revision) -> None:
    """Copy ``rev`` into the public ``articles`` rows (one per language it has)."""
    existing = {a.lang: a for a in db.session.scalars(
        sa.select(Article).where(Article.slug == entry.slug))}
    data = rev.data or {}
    html = data.get("html") or {}
    current = data.get("html_version") == markup.VERSION
    topic_rows = list(db.session.scalars(sa.select(Topic).where(Topic.slug.in_(rev.topics))))
    updated = data.get("updated") or {}
    today = datetime.now(zone()).date()
    for lang in LANGS:
        row = existing.pop(lang, None)
        if not rev.has(lang):
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = Article(slug=entry.slug, lang=lang)
            db.session.add(row)
        row.kind, row.cover_id, row.published_at = entry.kind, data.get("cover"), \
            entry.published_at
        row.title, row.summary, row.body = (rev.text(lang, p) for p in PARTS)
        row.updated = date.fromisoformat(updated[lang]) if updated.get(lang) else today
        row.related = list(data.get("related") or [])
        row.observances = list(data.get("observances") or [])
        row.content_hash = hashlib.sha256(repr(
            (row.title, row.summary, row.body, entry.kind)).encode()).hexdigest()
        if lang in html:
            row.html, row.toc = html[lang][0], html[lang][1]
            row.html_version = markup.VERSION if current else 0
        else:
            row.html, row.toc, row.html_version = "", [], 0
        row.topics = topic_rows
    for row in existing.values():
        db.session.delete(row)
    search.enqueue(ARTICLE, entry.slug)


def _publish(actor: User | None, entry: Entry, rev: Revision) -> None:
    now = utcnow()
    if entry.published_at is None or entry.published_revision is None:
        entry.published_at = now  # first published (or again after being taken off)
    entry.status, entry.published_revision = PUBLISHED, rev.number
    entry.publish_at, entry.unpublish_reason = None, ""
    _project(entry, rev)
    audit.record(actor, "editorial.publish", f"entry:{entry.id}", title_of(rev),
                 revision=rev.number)
    author = entry.submitted_by_id
    if author is not None and (actor is None or author != actor.id):
        inbox.notify(author, "editorial.published", _public_path(entry), title=title_of(rev))
    entry.submitted_by_id = None


def publish(user: User, entry: Entry, number: int | None = None) -> Entry:
    """Publish the latest revision (or revision ``number``) now."""
    with writing():
        entry = db.session.merge(entry)
        rev = revision(entry, number or entry.latest_revision)
        if rev is None:
            raise RuleError("not_found", _("This revision does not exist."), 404)
        _require_publisher(user, entry, rev)
        _publish(user, entry, rev)
    return entry


def _remove(entry: Entry) -> None:
    db.session.execute(sa.delete(Article).where(Article.slug == entry.slug))
    search.enqueue(ARTICLE, entry.slug)


def unpublish(user: User, entry: Entry, reason: str) -> Entry:
    """Take an entry off the site with a reason (kept, with every revision)."""
    if not can_publish(user):
        raise RuleError("forbidden", _("Only organizers and administrators can unpublish."),
                        403)
    reason = (reason or "").strip().replace("\x00", "")
    if not reason:
        raise _invalid({"reason": _("Say why it is unpublished.")})
    if len(reason) > REASON_MAX:
        raise _invalid({"reason": _("A reason has at most 500 characters.")})
    with writing():
        entry = db.session.merge(entry)
        if entry.published_revision is None:
            raise RuleError("not_published", _("This is not published."), 409)
        _unpublish(user, entry, reason)
    return entry


def _unpublish(actor: User | None, entry: Entry, reason: str) -> None:
    entry.status, entry.published_revision = UNPUBLISHED, None
    entry.unpublish_reason, entry.unpublish_at = reason, None
    _remove(entry)
    audit.record(actor, "editorial.unpublish", f"entry:{entry.id}", title_of(latest(entry)),
                 reason=reason)


def send_back(user: User, entry: Entry, reason: str) -> Entry:
    if not can_publish(user):
        raise RuleError("forbidden", _("Only organizers and administrators can review."), 403)
    reason = (reason or "").replace("\x00", "").strip()[:REASON_MAX]
    with writing():
        entry = db.session.merge(entry)
        if entry.status != SUBMITTED:
            raise RuleError("not_submitted", _("This was not submitted for review."), 409)
        entry.status = DRAFT
        title = title_of(latest(entry))
        if entry.submitted_by_id is not None:
            inbox.notify(entry.submitted_by_id, "editorial.sent_back",
                         f"/manage/content/{entry.id}", title=title, reason=reason)
        entry.submitted_by_id = None
        audit.record(user, "editorial.send_back", f"entry:{entry.id}", title, reason=reason)
    return entry


def restore(user: User, entry: Entry, number: int, source: str = "restore") -> Revision:
    """A new revision with the text of revision ``number``."""
    _require_writer(user)
    old = revision(entry, number)
    if old is None:
        raise RuleError("not_found", _("This revision does not exist."), 404)
    draft = draft_of(old, entry)
    html = (old.data or {}).get("html") or {}
    if (old.data or {}).get("html_version") != markup.VERSION:
        html = render(draft)
    with writing():
        entry = db.session.merge(entry)
        if entry.status != PUBLISHED:
            entry.status = DRAFT
        rev = _add_revision(entry, draft, html, user, "restore",
                            _("Restored revision %(n)d", n=number))
        audit.record(user, "editorial.restore", f"entry:{entry.id}", title_of(rev),
                     revision=rev.number, restored=number)
    return rev


# -- scheduling --------------------------------------------------------------------------------

def schedule(user: User, entry: Entry, publish_at: datetime | None,
             unpublish_at: datetime | None) -> Entry:
    """Publish the latest revision at ``publish_at`` and/or take the entry off the site at
    ``unpublish_at`` (None: not scheduled; a new time replaces the old one)."""
    with writing():
        entry = db.session.merge(entry)
        _require_publisher(user, entry, latest(entry))
        now = utcnow()
        errors = {}
        if publish_at is not None and publish_at <= now:
            errors["publish_at"] = _("Choose a time in the future, or publish now.")
        if unpublish_at is not None and unpublish_at <= max(now, publish_at or now):
            errors["unpublish_at"] = _("Choose a time after the publishing time.")
        if errors:
            raise _invalid(errors)
        entry.publish_at, entry.unpublish_at = publish_at, unpublish_at
        if publish_at is not None:
            jobs.enqueue(PUBLISH_JOB, {"entry": entry.id, "at": publish_at.isoformat(),
                                       "by": user.id}, due_at=publish_at)
        if unpublish_at is not None:
            jobs.enqueue(UNPUBLISH_JOB, {"entry": entry.id, "at": unpublish_at.isoformat(),
                                         "by": user.id}, due_at=unpublish_at)
        audit.record(user, "editorial.schedule", f"entry:{entry.id}", title_of(latest(entry)),
                     publish_at=publish_at.isoformat() if publish_at else "",
                     unpublish_at=unpublish_at.isoformat() if unpublish_at else "")
    return entry


def _due(entry: Entry | None, column: str, payload: dict) -> bool:
    when = getattr(entry, column, None) if entry is not None else None
    return when is not None and when.isoformat() == payload.get("at") and when <= utcnow()


def run_publish(payload: dict) -> None:
    """The job: publish the entry's latest revision if it is still scheduled for this time."""
    with writing():
        entry = db.session.get(Entry, payload.get("entry"))
        if not _due(entry, "publish_at", payload):
            return  # rescheduled, cancelled or published by hand meanwhile
        rev = latest(entry)
        actor = db.session.get(User, payload.get("by")) if payload.get("by") else None
        entry.publish_at = None
        if rev is not None:
            _publish(actor, entry, rev)


def run_unpublish(payload: dict) -> None:
    with writing():
        entry = db.session.get(Entry, payload.get("entry"))
        if not _due(entry, "unpublish_at", payload):
            return
        entry.unpublish_at = None
        if entry.published_revision is not None:
            actor = db.session.get(User, payload.get("by")) if payload.get("by") else None
            _unpublish(actor, entry, _("Scheduled end of publication"))


jobs.register(PUBLISH_JOB, run_publish, label=_l("Scheduled publishing"))
jobs.register(UNPUBLISH_JOB, run_unpublish, label=_l("Scheduled unpublishing"))


def _public_path(entry: Entry) -> str:
    if entry.kind == "page":
        return "/privacy" if entry.slug == "privacy" else f"/pages/{entry.slug}"
    if entry.kind == "campaign":
        return f"/observances/{entry.slug}"
    return f"/learn/{entry.slug}"


public_path = _public_path


# -- the staff inbox: what waits for a publisher -----------------------------------------------

def submitted_count():
    return sa.select(sa.func.count()).select_from(Entry).where(Entry.status == SUBMITTED)


def submitted_items(limit: int) -> list[inbox.Item]:
    """Entries submitted for review, longest waiting first, with their latest titles."""
    rows = db.session.execute(
        sa.select(Entry, Revision).join(Revision, sa.and_(
            Revision.entry_id == Entry.id, Revision.number == Entry.latest_revision))
        .where(Entry.status == SUBMITTED).order_by(Entry.updated_at, Entry.id).limit(limit))
    return [inbox.Item(title=title_of(rev) or entry.slug,
                       detail=str(KIND_LABELS.get(entry.kind, entry.kind)),
                       created_at=entry.updated_at, link=f"/manage/content/{entry.id}")
            for entry, rev in rows]


# -- content/ files: the first revisions -------------------------------------------------------

def _file_hash(files: dict) -> str:
    return hashlib.sha256("|".join(f"{lang}:{files[lang].content_hash}"
                                   for lang in sorted(files)).encode()).hexdigest()


def _file_draft(slug: str, files: dict, rendered: dict) -> tuple[Draft, dict]:
    first = files.get("zh") or files.get("en")
    extra: dict = {"updated": {lang: f.updated.isoformat() for lang, f in files.items()
                               if getattr(f, "updated", None)}}
    version = next((getattr(f, "version", None) for f in files.values()
                    if getattr(f, "version", None)), None)
    if version:
        extra["version"] = version
    draft = Draft(kind=first.kind, slug=slug,
                  zh={"title": files["zh"].title, "summary": files["zh"].summary,
                      "body": files["zh"].body} if "zh" in files else {},
                  en={"title": files["en"].title, "summary": files["en"].summary,
                      "body": files["en"].body} if "en" in files else {},
                  topics=list(first.topics), observances=list(first.observances),
                  related=list(first.related), extra=extra)
    html = {lang: [str(rendered[(slug, lang)][0]), rendered[(slug, lang)][1]]
            for lang in files}
    return draft, html


def apply_files(plan: Plan) -> dict[str, dict[str, int]]:
    """Import the articles and pages of ``plan`` as entries (inside the sync's unit of work):
    a new file pair is revision 1, published; a changed one is a new revision, published,
    unless staff changed the entry in the browser since the last import: then it is a
    conflict, reported, and the staff version stays.  An entry whose files are gone is left
    alone (reported); if staff never touched it, it is taken off the site (kept)."""
    counts = {"articles": {"new": 0, "changed": 0, "removed": 0, "unchanged": 0,
                           "conflicts": 0},
              "pages": {"new": 0, "changed": 0, "removed": 0, "unchanged": 0,
                        "conflicts": 0}}
    grouped: dict[str, dict] = {}
    for f in [*plan.articles, *plan.pages]:
        grouped.setdefault(f.slug, {})[f.lang] = f
    entries = {e.slug: e for e in db.session.scalars(sa.select(Entry))}
    for slug, files in grouped.items():
        what = "pages" if next(iter(files.values())).kind == "page" else "articles"
        c = counts[what]
        folder = "pages" if what == "pages" else "learn"
        digest = _file_hash(files)
        entry = entries.pop(slug, None)
        if entry is not None and entry.file_hash == digest:
            c["unchanged"] += 1
            continue
        if entry is not None and entry.staff_edited:
            c["conflicts"] += 1
            core_content.note(f"conflict: {folder}/{slug}: the files changed, but staff "
                              f"edited '{slug}' in the browser (revision "
                              f"{entry.latest_revision}); the staff version was kept")
            continue
        draft, html = _file_draft(slug, files, plan.rendered)
        if entry is None:
            entry = Entry(slug=slug, kind=draft.kind, status=DRAFT, created_at=utcnow())
            db.session.add(entry)
            db.session.flush()
            c["new"] += 1
        else:
            entry.kind = draft.kind
            c["changed"] += 1
        rev = _add_revision(entry, draft, html, None, "file", "")  # the source says it
        entry.file_hash, entry.file_revision = digest, rev.number
        entry.submitted_by_id = None
        _publish(None, entry, rev)
    for entry in entries.values():
        if entry.file_hash is None:
            continue  # written in the browser: not the files' business
        what = "pages" if entry.kind == "page" else "articles"
        if entry.staff_edited:
            core_content.note(f"kept: {entry.slug}: its files are gone, but staff edited it "
                              "in the browser; it was left as it is")
            continue
        if entry.published_revision is not None:
            entry.status, entry.published_revision = UNPUBLISHED, None
            entry.unpublish_reason = ""  # its file was removed (the sync reports it)
            _remove(entry)
            counts[what]["removed"] += 1
            core_content.note(f"removed: {entry.slug}: its files are gone; it was taken off "
                              "the site (its revisions are kept)")
    # rows published before the editorial system, whose files are gone
    known = set(db.session.scalars(sa.select(Entry.slug)))
    for slug in set(db.session.scalars(sa.select(Article.slug))) - known - set(grouped):
        db.session.execute(sa.delete(Article).where(Article.slug == slug))
        search.enqueue(ARTICLE, slug)
        counts["articles"]["removed"] += 1
    return counts


def apply_content(plan: Plan) -> dict[str, dict[str, int]]:
    return learn.apply(plan, articles=apply_files)


# -- export ------------------------------------------------------------------------------------

def export(folder: str) -> int:
    """Write every published entry's published revision as content files (front matter and
    Markdown, one file per language: ``learn/<slug>.<lang>.md``, ``pages/<slug>.<lang>.md``);
    ``content sync`` of a copy of the content folder holding them reproduces the site.
    Returns the number of files written.  Cover pictures are not exported (media files)."""
    written = 0
    for entry in db.session.scalars(sa.select(Entry).where(
            Entry.published_revision.is_not(None)).order_by(Entry.slug)):
        rev = revision(entry, entry.published_revision)
        data = rev.data or {}
        sub = "pages" if entry.kind == "page" else "learn"
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        for lang in LANGS:
            if not rev.has(lang):
                continue
            meta: dict = {"title": rev.text(lang, "title")}
            if rev.text(lang, "summary"):
                meta["summary"] = rev.text(lang, "summary")
            if entry.kind not in ("article", "page"):
                meta["kind"] = entry.kind
            if entry.kind != "page":
                meta["topics"] = list(rev.topics or [])
            updated = (data.get("updated") or {}).get(lang) or (
                entry.published_at or utcnow()).astimezone(zone()).date().isoformat()
            meta["updated"] = date.fromisoformat(updated)
            if data.get("version"):
                meta["version"] = str(data["version"])
            if data.get("related"):
                meta["related"] = list(data["related"])
            if data.get("observances"):
                meta["observances"] = list(data["observances"])
            front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False,
                                   default_flow_style=None, width=1000)
            body = rev.text(lang, "body")
            path = os.path.join(folder, sub, f"{entry.slug}.{lang}.md")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(f"---\n{front}---\n{body}" + ("" if body.endswith("\n") else "\n"))
            written += 1
    return written
