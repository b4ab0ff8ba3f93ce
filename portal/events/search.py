"""Published events are searchable (title and description, in the languages they have)."""

from __future__ import annotations

import sqlalchemy as sa

from portal import search
from portal.events.models import PUBLISHED, Event
from portal.events.services import EVENT
from portal.extensions import db
from portal.i18n import _l


def documents(event: Event):
    if event.status != PUBLISHED:
        return
    for lang in ("zh", "en"):
        title, text = event.title(lang), event.description(lang)
        if not any(t and not t.fallback for t in (title, text)):
            continue  # nothing written in this language
        # the stored HTML (rendered when saved), never rendered here
        body = "" if text.fallback else event.description_html(lang)[0].striptags()
        yield search.Document(kind=EVENT, id=str(event.id), lang=lang, title=title,
                              body=f"{body}\n{event.place}", url=f"/events/{event.id}?lang={lang}",
                              summary=event.place)


def all_documents():
    for event in db.session.scalars(sa.select(Event).where(Event.status == PUBLISHED)):
        yield from documents(event)


def documents_for(event_id: str):
    event = db.session.get(Event, int(event_id)) if event_id.isdigit() else None
    if event is not None:
        yield from documents(event)


def register() -> None:
    search.register_source(EVENT, lambda: str(_l("Events")), all_documents, documents_for)
