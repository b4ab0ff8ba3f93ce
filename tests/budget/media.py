"""Query budgets of the media routes (issue 14)."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import current_app

from portal.db import utcnow
from portal.events.models import PUBLISHED, Event
from portal.extensions import db
from portal.media.models import Media
from tests.budget import Route

TEXTS = {"alt_zh": "南湖边的志愿者", "alt_en": "Volunteers by South Lake", "credit": "王敏",
         "licence": ""}

ROUTES: dict[str, Route] = {
    "media.file": Route(lambda i: f"/media/{i['media_file']}"),
    "media.library": Route("/manage/media", "organizer"),
    "media.library search": Route("/manage/media?q=志愿者", "organizer"),
    "media.new": Route("/manage/media/new", "organizer"),
    "media.edit": Route(lambda i: f"/manage/media/{i['media']}", "organizer"),
    "media.delete": Route(lambda i: f"/manage/media/{i['media']}/delete", "organizer"),
    # Repeatable posts: an upload without a picture is refused (the form again, nothing
    # stored); saving the same texts; deleting a picture an event uses is refused.
    "media.new POST": Route("/manage/media/new", "organizer", 400, "POST", form=TEXTS),
    "media.edit POST": Route(lambda i: f"/manage/media/{i['media']}", "organizer", 302, "POST",
                             form=TEXTS),
    "media.delete POST": Route(lambda i: f"/manage/media/{i['media']}/delete", "organizer",
                               302, "POST", form={}),
    # The event whose cover is the first picture, and its form with the cover chooser.
    "events.detail cover": Route(lambda i: f"/events/{i['media_event']}"),
    "events.edit cover": Route(lambda i: f"/events/{i['media_event']}/edit", "organizer"),
}
SHOWN: dict[str, str] = {
    "media.library": "媒体库摄影师",
    "media.library search": "媒体库摄影师",
    "events.edit cover": "媒体库图片",
}


def seed(n: int, ids: dict, people: dict, others: list) -> None:
    """``n`` pictures (each in two sizes), the first the cover of the soonest event."""
    now = utcnow()
    pictures = [Media(stem=f"{i:032x}", width=1200, height=800, widths=[480, 1200],
                      alt_zh=f"媒体库图片{i}：南湖边的志愿者", alt_en=f"Volunteers {i}",
                      credit=f"媒体库摄影师{i}", licence="CC BY 4.0",
                      uploaded_by_id=people["organizer"], created_at=now)
                for i in range(n)]
    db.session.add_all(pictures)
    db.session.flush()
    first = pictures[0]
    event = db.session.scalars(sa.select(Event).where(Event.status == PUBLISHED,
                                                      Event.starts_at > now)
                               .order_by(Event.starts_at, Event.id).limit(1)).one()
    event.cover_id = first.id
    folder = os.path.join(current_app.instance_path, "media")
    os.makedirs(folder, exist_ok=True)
    for name in first.files():
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(b"RIFF\x00\x00\x00\x00WEBP" if name.endswith(".webp") else b"\xff\xd8\xff")
    ids.update(media=first.id, media_file=first.filename(480, "webp"), media_event=event.id)
