"""Notifications (what the site tells a person, on the site and by mail) and the staff inbox
(what waits for a staff decision, from every feature).  Tested without HTTP.

**Notifications.**  A feature registers each kind it sends at import (``kind(name, label=,
sentence=, subject=)``: lazy translated strings; the sentence names its values with
``{placeholders}``) and calls ``notify(user_id, kind, link, **params)`` inside its unit of
work.  The row is written there; unless the person switched mail off for that kind, an
``inbox.mail`` job of the same transaction mails it.  The worker renders the sentence and the
subject in the recipient's language (``user.locale``, else the site's default) with
``force_locale``, and the link absolute (``portal.links.absolute``).  A value of ``params`` is
text, or ``{"zh": …, "en": …}`` (a school's name), picked in the reader's language.
``reason`` in ``params`` is shown under the sentence (the staff's words to the person).

**The staff inbox.**  Each source is registered with ``register_source(name, label, count,
items, more, roles)``: ``count()`` returns a *statement* (a ``select`` of one count), so the
inbox asks every source's count in one statement; ``items(limit)`` returns at most ``limit``
``Item``s, oldest waiting first; ``more`` is the endpoint of the feature's own list, linked
as "N more" when a source holds more than the inbox shows.  ``roles`` says who sees a source
(staff by default).  *Hook for the editorial helper:* register the editorial sources (articles
submitted for review, …) with ``roles=(EDITOR, ORGANIZER, ADMIN)``; editors see only the
sources whose roles include theirs, and ``/manage/inbox`` is open to them once its ACCESS
entry is widened to ``WRITERS``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from portal import jobs, links, mail
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.db import utcnow, writing
from portal.extensions import db
from portal.i18n import _l, current_locale, force_locale, normalise
from portal.inbox.models import Notification, NotificationSetting
from portal.paging import PAGE_SIZE, Page, newest_first
from portal.security import ADMIN, ORGANIZER

# -- kinds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    label: object  # what people read beside the mail switch
    # "Your application for {school} was approved"; or {variant: sentence}, chosen by the
    # notification's ``variant`` value (one kind, one switch, several outcomes)
    sentence: object
    subject: object  # the mail's subject (or {variant: subject})
    staff: bool = False  # only staff get it (the settings page shows it to staff only)


_KINDS: dict[str, Kind] = {}


def kind(name: str, *, label, sentence, subject, staff: bool = False) -> Kind:
    """Register a kind of notification (at import time)."""
    _KINDS[name] = Kind(name, label, sentence, subject, staff)
    return _KINDS[name]


def kinds(user: User | None = None) -> list[Kind]:
    """Every kind, or the kinds ``user`` can receive (staff kinds for staff only)."""
    staff = user is not None and user.role in (ORGANIZER, ADMIN)
    return [k for k in _KINDS.values() if user is None or staff or not k.staff]


def get_kind(name: str) -> Kind | None:
    return _KINDS.get(name)


# -- sending ---------------------------------------------------------------------------------

MAIL_JOB = "inbox.mail"


def _mail_off(user_ids: list[int], kind_name: str) -> set[int]:
    return set(db.session.scalars(sa.select(NotificationSetting.user_id).where(
        NotificationSetting.kind == kind_name, NotificationSetting.mail.is_(False),
        NotificationSetting.user_id.in_(user_ids))))


def notify_many(user_ids, kind_name: str, link: str, **params) -> list[Notification]:
    """``notify`` for several people at once (one settings read); each person once."""
    if kind_name not in _KINDS:
        raise ValueError(f"unknown notification kind: {kind_name}")
    ids = list(dict.fromkeys(i for i in user_ids if i is not None))
    if not ids:
        return []
    off = _mail_off(ids, kind_name)
    rows = [Notification(user_id=i, kind=kind_name, params=dict(params), link=link[:300])
            for i in ids]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        if row.user_id not in off:
            jobs.enqueue(MAIL_JOB, {"notification": row.id})
    return rows


def notify(user_id: int | None, kind_name: str, link: str, **params) -> Notification | None:
    """Tell ``user_id`` something, inside the caller's unit of work: the row, and the mail
    job unless they switched mail off for this kind.  ``link`` is a local path."""
    rows = notify_many([user_id], kind_name, link, **params)
    return rows[0] if rows else None


def path(endpoint: str, **values) -> str:
    """The local path of an endpoint, also outside a request (services run in the worker
    and in commands): what ``notify`` takes as its link."""
    parts = urlsplit(links.absolute(endpoint, **values))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _text(template, variant) -> str:
    if isinstance(template, dict):
        template = template.get(variant) or next(iter(template.values()))
    return str(template)


def _value(value, locale: str):
    if isinstance(value, dict):
        return value.get(locale) or value.get("zh") or next(iter(value.values()), "")
    return value


class _Params(dict):
    def __missing__(self, key):
        return ""


def sentence(notification: Notification, locale: str | None = None) -> str:
    """The notification's sentence in ``locale`` (the current language when None is given,
    with the values picked in that language)."""
    found = _KINDS.get(notification.kind)
    locale = locale or _current()
    params = notification.params or {}
    values = _Params({k: _value(v, locale) for k, v in params.items()})
    if found is None:
        return ""
    return _text(found.sentence, params.get("variant")).format_map(values)


def _current() -> str:
    return normalise(current_locale()) or current_app.config["BABEL_DEFAULT_LOCALE"]


def send_mail(payload: dict) -> None:
    """The job: mail one notification in its recipient's language (nothing if it or they
    are gone, or they switched this kind's mail off meanwhile)."""
    row = db.session.get(Notification, payload["notification"])
    user = db.session.get(User, row.user_id) if row is not None else None
    found = _KINDS.get(row.kind) if row is not None else None
    if user is None or found is None or _mail_off([user.id], row.kind):
        return
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        text = sentence(row, locale)
        params = row.params or {}
        subject = _text(found.subject, params.get("variant")).format_map(_Params(
            {k: _value(v, locale) for k, v in params.items()}))
    link = _absolute(row.link)
    mail.send_template(user.email, locale, subject, "inbox/mail/notification.txt",
                       user=user, sentence=text, reason=(row.params or {}).get("reason", ""),
                       link=link, settings=links.absolute("inbox.settings"))


def _absolute(path: str) -> str:
    """An absolute address for a local path (the home page's address is the base)."""
    if not path.startswith("/") or path.startswith("//"):
        return links.absolute("inbox.notifications")
    return links.absolute("core.home").rstrip("/") + path


jobs.register(MAIL_JOB, send_mail, label=_l("Mail about a notification"))


# -- reading ---------------------------------------------------------------------------------

#: The header shows at most this many unread ("9+" above).
UNREAD_SHOWN = 9


def unread_count(user_id: int) -> int:
    """Unread notifications, counted up to ``UNREAD_SHOWN + 1`` (one statement, bounded)."""
    capped = (sa.select(Notification.id).where(Notification.user_id == user_id,
                                               Notification.read_at.is_(None))
              .limit(UNREAD_SHOWN + 1).subquery())
    return db.session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0


def page(user: User, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of the person's notifications, newest first."""
    return newest_first(sa.select(Notification).where(Notification.user_id == user.id),
                        Notification.id, before, size=size)


def mark_all_read(user: User) -> int:
    with writing():
        done = db.session.execute(sa.update(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow()))
    return done.rowcount or 0


def mail_settings(user: User) -> dict[str, bool]:
    """Kind → mail on, for every kind the person can receive."""
    off = set(db.session.scalars(sa.select(NotificationSetting.kind).where(
        NotificationSetting.user_id == user.id, NotificationSetting.mail.is_(False))))
    return {k.name: k.name not in off for k in kinds(user)}


def save_settings(user: User, mail_on: set[str]) -> None:
    """Mail for the kinds in ``mail_on``, none for the other kinds the person can receive."""
    with writing():
        db.session.execute(sa.delete(NotificationSetting).where(
            NotificationSetting.user_id == user.id))
        db.session.add_all(NotificationSetting(user_id=user.id, kind=k.name, mail=False)
                           for k in kinds(user) if k.name not in mail_on)


# -- personal data ---------------------------------------------------------------------------

def _export(user: User) -> dict:
    rows = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id))
    # The sentence says it in words; the stored details come as their JSON text (their keys
    # differ by kind: a label for each would be noise).
    items = [{"kind": n.kind, "sentence": sentence(n), "link": n.link,
              "params": json.dumps(n.params or {}, ensure_ascii=False, sort_keys=True),
              "created_at": n.created_at, "read_at": n.read_at} for n in rows]
    # Every kind the person can receive, with their choice (the default included).
    return {"items": items,
            "mail_settings": [{"kind": k, "mail": on} for k, on in mail_settings(user).items()]}


def _erase(user: User) -> None:
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(sa.delete(NotificationSetting).where(
        NotificationSetting.user_id == user.id))


def register_personal_data() -> None:
    accounts.register_personal_data("notifications", _export, _erase)


# -- the staff inbox -------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    title: str
    detail: str
    created_at: datetime | None
    link: str
    picture: str | None = None  # a local address of a thumbnail (a post's cover)


@dataclass(frozen=True)
class Source:
    name: str
    label: object
    count: Callable[[], sa.Select]  # a select of one count (asked with the others at once)
    items: Callable[[int], list[Item]]
    more: str  # endpoint of the feature's own list (or a rule starting with "/")
    roles: tuple[str, ...] = (ORGANIZER, ADMIN)


_SOURCES: dict[str, Source] = {}

#: Items shown per source; the rest are behind the "N more" link.
SHOWN = 20


def register_source(name: str, label, count, items, more: str,
                    roles: tuple[str, ...] = (ORGANIZER, ADMIN)) -> None:
    _SOURCES[name] = Source(name, label, count, items, more, tuple(roles))


def sources(user: User | None) -> list[Source]:
    if user is None:
        return []
    return [s for s in _SOURCES.values() if user.role in s.roles]


def counts(user: User | None) -> dict[str, int]:
    """Every source's count for ``user`` in one statement."""
    mine = sources(user)
    if not mine:
        return {}
    row = db.session.execute(sa.select(*(s.count().scalar_subquery().label(f"c{i}")
                                         for i, s in enumerate(mine)))).one()
    return {s.name: int(row[i] or 0) for i, s in enumerate(mine)}


@dataclass
class Section:
    source: Source
    count: int
    items: list[Item]

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.items))


def overview(user: User, only: str | None = None) -> list[Section]:
    """The inbox: each source with its count and its first ``SHOWN`` items (sources with
    nothing waiting are listed with no items, so staff see they are clear)."""
    found = counts(user)
    out = []
    for source in sources(user):
        if only and source.name != only:
            continue
        n = found.get(source.name, 0)
        out.append(Section(source, n, source.items(SHOWN) if n else []))
    return out


def header_counts(user: User | None) -> tuple[int, int | None]:
    """For the page header, in one statement: the person's unread notifications (capped
    like ``unread_count``) and, for people with inbox sources, what waits in the inbox
    (None for the others)."""
    if user is None:
        return 0, None
    capped = (sa.select(Notification.id).where(Notification.user_id == user.id,
                                               Notification.read_at.is_(None))
              .limit(UNREAD_SHOWN + 1).subquery())
    unread = sa.select(sa.func.count()).select_from(capped).scalar_subquery()
    mine = sources(user)
    row = db.session.execute(sa.select(unread, *(s.count().scalar_subquery()
                                                 for s in mine))).one()
    return int(row[0] or 0), (sum(int(v or 0) for v in row[1:]) if mine else None)
