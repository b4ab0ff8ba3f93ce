"""The routes of /api/v1 for the staff inbox and a person's notifications; declared like
those in ``views``."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask import abort, request, url_for
from pydantic import Field

from portal import links
from portal.api.declare import operation, reply
from portal.api.schemas import Answer, Shape
from portal.inbox import services
from portal.paging import cursor
from portal.security import current_principal

NOTIFICATIONS_LIMIT = 100


class InboxItem(Answer):
    title: str = Field(description="What waits (a post's title, a school's name…).")
    detail: str = Field(description="More about it (its school, the report reasons…).")
    created_at: datetime | None = Field(description="Since when it waits, when known.")
    url: str = Field(description="The page where staff act on it.")


class InboxSource(Answer):
    name: str = Field(description="The source, e.g. `schools.reported`.")
    label: str = Field(description="What staff call it, in the request's language.")
    count: int = Field(description="How many wait (all of them, not only those listed).")
    items: list[InboxItem] = Field(description="The first (oldest) ones, at most 20.")


class Inbox(Answer):
    """What waits for a staff decision, by source."""

    sources: list[InboxSource]


class NotificationsQuery(Shape):
    error_codes: ClassVar[dict[str, str]] = {"limit": "bad_limit", "cursor": "bad_cursor"}

    limit: int = Field(50, ge=1, le=NOTIFICATIONS_LIMIT,
                       description="Notifications in one answer.")
    cursor: str | None = Field(None, max_length=9, pattern=r"^[0-9]{1,9}$",
                               description="Where the answer goes on from: the `cursor` of the "
                                           "`Link: <…>; rel=\"next\"` header of the previous "
                                           "answer.  Without it: the newest.")


class NotificationOut(Answer):
    id: int
    kind: str = Field(description="The kind, e.g. `schools.post`.")
    text: str = Field(description="The sentence, in the request's language.")
    url: str = Field(description="Where it leads.")
    created_at: datetime
    read: bool


class Notifications(Answer):
    """A page of the person's notifications, newest first."""

    unread: int = Field(description="Unread notifications, counted up to 10.")
    notifications: list[NotificationOut]


NEXT_LINK = {"Link": {
    "description": 'Only when more notifications follow: `<address>; rel="next"`, the '
                   "address of the next answer; it carries the `cursor`.",
    "required": False, "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next"$'}}}


def _url(path: str) -> str:
    return links.absolute("core.home").rstrip("/") + path if path.startswith("/") else path


@operation("get", "/inbox", id="inbox", tag="account", roles=True,
           ok={200: (Inbox, "The inbox's sources with their counts and first items")})
def inbox():
    """The staff inbox

    For organizers and admins (and editors, for the editorial sources): every source of
    work waiting for a decision, with its count and its oldest items."""
    sections = services.overview(current_principal())
    if not sections:
        abort(403)
    return reply(Inbox(sources=[InboxSource(
        name=s.source.name, label=str(s.source.label), count=s.count,
        items=[InboxItem(title=i.title, detail=i.detail, created_at=i.created_at,
                         url=_url(i.link)) for i in s.items]) for s in sections]))


@operation("get", "/notifications", id="notifications", tag="account",
           ok={200: (Notifications, "The notifications (at most `limit`)", NEXT_LINK)},
           errors={400: ("A parameter is not valid: `limit` is not a number from 1 to 100, "
                         "or the `cursor` is not one this API gave", "bad_limit",
                         "bad_cursor")})
def notifications(query: NotificationsQuery):
    """The token owner's notifications, newest first

    When more follow, the `Link` header (`rel="next"`) gives the address of the next
    answer, with a `cursor`."""
    user = current_principal()
    page = services.page(user, cursor("cursor"), size=query.limit)
    answer = reply(Notifications(unread=services.unread_count(user.id), notifications=[
        NotificationOut(id=n.id, kind=n.kind, text=services.sentence(n), url=_url(n.link),
                        created_at=n.created_at, read=n.read_at is not None)
        for n in page.items]))
    if page.next is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        answer.headers["Link"] = f'<{url_for("api.notifications", **args, cursor=page.next)}>;' \
                                 ' rel="next"'
    return answer
