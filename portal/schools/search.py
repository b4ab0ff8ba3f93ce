"""Published, visible activity posts are searchable (kind "activity")."""

from __future__ import annotations

import sqlalchemy as sa

from portal import search
from portal.extensions import db
from portal.i18n import _l
from portal.schools.models import PUBLISHED, Activity
from portal.schools.services import ACTIVITY


def documents(post: Activity):
    if not post.public:
        return
    yield search.Document(kind=ACTIVITY, id=str(post.id), lang="zh", title=post.title,
                          body=post.html().striptags(),  # stored when saved
                          url=f"/activities/{post.id}", summary=post.school.name_zh)


def all_documents():
    for post in db.session.scalars(sa.select(Activity).where(Activity.status == PUBLISHED,
                                                             Activity.hidden.is_(False))):
        yield from documents(post)


def documents_for(activity_id: str):
    post = db.session.get(Activity, int(activity_id)) if activity_id.isdigit() else None
    if post is not None:
        yield from documents(post)


def register() -> None:
    search.register_source(ACTIVITY, lambda: str(_l("School activities")), all_documents,
                           documents_for)
