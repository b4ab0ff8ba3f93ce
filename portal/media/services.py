"""The media library's services.

Interface for other features (issue 14):

* ``upload(user, file_storage, alt_zh, alt_en, credit, licence="") -> Media``: checks the
  texts and the picture (``portal.images``: by content, 5 MB, pixel cap, EXIF rotation
  applied, metadata stripped), makes the responsive sizes (480 and 1200 px wide, never
  upscaled; WebP and JPEG) before any unit of work, writes ``instance/media/<stem>-<w>.<ext>``,
  then the row (audited).  Refusals are ``RuleError("invalid", …, 422, {field: message})`` with
  fields ``file``, ``alt_zh``, ``alt_en``, ``credit``, ``licence``; nothing is stored.
* ``update(user, media_id, alt_zh, alt_en, credit, licence="")``, ``delete(user, media_id)``
  (refused with ``in_use`` 409 while something uses the picture).
* ``register_use(name, count_fn, label=None)``: ``count_fn(media_id) -> int`` says how many of
  your records use a picture (``label``: a lazy plural-free noun such as ``_l("Articles")``);
  a picture in use cannot be deleted and its page says "used by".  Events' covers are
  registered here (``events.cover_id``).
* ``get(media_id)``, ``newest(limit)``, ``url(media, width, ext)``, ``path_of(filename)``.
* In forms: ``portal.media.forms.CoverField`` (a radio field holding a media id or None);
  in templates ``{% from "media/_choose.html" import cover_choice %}{{ cover_choice(field) }}``
  and ``{% from "macros.html" import picture %}{{ picture(media) }}`` (``media`` a ``Media``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, url_for

from portal import audit, images, paging
from portal.db import writing
from portal.events.models import Event
from portal.extensions import db
from portal.i18n import _, _l
from portal.media.models import ALT_MAX, CREDIT_MAX, JPEG, LICENCE_MAX, WEBP, Media
from portal.rules import RuleError

PAGE_SIZE = 24
CHOICES = 24  # pictures offered in a cover field
FILE_NAME = re.compile(r"^[a-z0-9]{16,64}-\d{2,4}\.(webp|jpg)$")
CONTENT_TYPES = {WEBP: "image/webp", JPEG: "image/jpeg"}

audit.describe("media.upload", _l("{actor} uploaded the picture “{label}”"))
audit.describe("media.update", _l("{actor} changed the description of the picture “{label}”"))
audit.describe("media.delete", _l("{actor} deleted the picture “{label}”"))
audit.kind_word("media", _l("picture"))


@dataclass(frozen=True)
class Use:
    name: str
    count: object  # media_id -> int
    label: object


USES: dict[str, Use] = {}


def register_use(name: str, count_fn, label=None) -> None:
    """Another feature says how many of its records use a picture (see the module's note)."""
    USES[name] = Use(name, count_fn, label or name)


def uses(media_id: int) -> list[tuple[object, int]]:
    """(label, count) of each registered use that has at least one record."""
    found = []
    for use in USES.values():
        count = int(use.count(media_id) or 0)
        if count:
            found.append((use.label, count))
    return found


def _event_covers(media_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Event)
                             .where(Event.cover_id == media_id))


register_use("events", _event_covers, _l("Events"))


# -- files ----------------------------------------------------------------------------------

def folder() -> str:
    path = os.path.join(current_app.instance_path, "media")
    os.makedirs(path, exist_ok=True)
    return path


def path_of(filename: str) -> str | None:
    """The file of a variant, or None when the name is not one (strictly) or it is missing."""
    if not isinstance(filename, str) or not FILE_NAME.fullmatch(filename):
        return None
    path = os.path.join(folder(), filename)
    return path if os.path.isfile(path) else None


def content_type(filename: str) -> str:
    return CONTENT_TYPES[filename.rsplit(".", 1)[1]]


def url(media: Media, width: int | None = None, ext: str = JPEG) -> str:
    return url_for("media.file", file=media.filename(width or media.largest(), ext))


def _remove(names) -> None:
    base = folder()
    for name in names:
        try:
            os.remove(os.path.join(base, name))
        except FileNotFoundError:
            pass


# -- checks ---------------------------------------------------------------------------------

@dataclass
class Texts:
    alt_zh: str
    alt_en: str
    credit: str
    licence: str


def _texts(alt_zh, alt_en, credit, licence) -> tuple[Texts, dict[str, str]]:
    texts = Texts(*(" ".join((value or "").split()) for value in (alt_zh, alt_en, credit,
                                                                  licence)))
    errors = {}
    if not texts.alt_zh:
        errors["alt_zh"] = _("Describe the picture in Chinese for people who cannot see it.")
    elif len(texts.alt_zh) > ALT_MAX:
        errors["alt_zh"] = _("A description has at most 250 characters.")
    if not texts.alt_en:
        errors["alt_en"] = _("Describe the picture in English for people who cannot see it.")
    elif len(texts.alt_en) > ALT_MAX:
        errors["alt_en"] = _("A description has at most 250 characters.")
    if not texts.credit:
        errors["credit"] = _("Say who took the picture or where it comes from.")
    elif len(texts.credit) > CREDIT_MAX:
        errors["credit"] = _("The credit has at most 250 characters.")
    if len(texts.licence) > LICENCE_MAX:
        errors["licence"] = _("The licence has at most 120 characters.")
    return texts, errors


def _invalid(errors: dict[str, str]) -> RuleError:
    return RuleError("invalid", _("Some of what you sent is not valid."), 422, errors)


def _label(media: Media) -> str:
    return media.alt_zh or media.alt_en


# -- services -------------------------------------------------------------------------------

def upload(user, file_storage, alt_zh: str, alt_en: str, credit: str,
           licence: str = "") -> Media:
    """Check, resize and store a picture with its texts (see the module's note)."""
    texts, errors = _texts(alt_zh, alt_en, credit, licence)
    data = file_storage.read(images.MAX_BYTES + 1) if file_storage is not None else b""
    made = []
    if not data:
        errors["file"] = _("Choose a picture to upload.")
    elif not errors:  # the slow part only for an upload that can be saved
        try:
            made = images.variants(images.open_upload(data, field="file").image)
        except RuleError as err:
            errors.update(err.fields)
    if errors:
        raise _invalid(errors)
    stem = images.random_stem()
    media = Media(stem=stem, width=made[-1].width, height=made[-1].height,
                  widths=[v.width for v in made], alt_zh=texts.alt_zh, alt_en=texts.alt_en,
                  credit=texts.credit, licence=texts.licence,
                  uploaded_by_id=user.id if user is not None else None)
    written = []
    base = folder()
    try:
        for variant in made:  # the files first, then the row
            for ext, content in ((WEBP, variant.webp), (JPEG, variant.jpeg)):
                name = media.filename(variant.width, ext)
                with open(os.path.join(base, name), "xb") as fh:
                    written.append(name)
                    fh.write(content)
        with writing():
            db.session.add(media)
            db.session.flush()
            audit.record(user, "media.upload", target=f"media:{media.id}", label=_label(media))
    except BaseException:
        _remove(written)
        raise
    return media


def get(media_id: int) -> Media | None:
    return db.session.get(Media, media_id)


def _get_or_refuse(media_id: int) -> Media:
    media = get(media_id)
    if media is None:
        raise RuleError("not_found", _("This picture does not exist (any more)."), 404)
    return media


def update(user, media_id: int, alt_zh: str, alt_en: str, credit: str,
           licence: str = "") -> Media:
    texts, errors = _texts(alt_zh, alt_en, credit, licence)
    if errors:
        raise _invalid(errors)
    with writing():
        media = _get_or_refuse(media_id)
        changed = [name for name in ("alt_zh", "alt_en", "credit", "licence")
                   if getattr(media, name) != getattr(texts, name)]
        for name in changed:
            setattr(media, name, getattr(texts, name))
        if changed:
            audit.record(user, "media.update", target=f"media:{media.id}", label=_label(media))
    return media


def delete(user, media_id: int) -> None:
    with writing() as uow:
        media = _get_or_refuse(media_id)
        if uses(media.id):
            raise RuleError("in_use", _("This picture is in use and cannot be deleted."), 409)
        names = media.files()
        audit.record(user, "media.delete", target=f"media:{media.id}", label=_label(media))
        db.session.delete(media)
        uow.after_commit(lambda: _remove(names))


def library_page(before: int | None, query: str = "") -> paging.Page:
    """The library, newest first, 24 a page; ``query`` finds words of the alt texts."""
    stmt = sa.select(Media)
    words = " ".join((query or "").split())[:100]
    if words:
        like = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(Media.alt_zh.ilike(like, escape="\\"),
                                 Media.alt_en.ilike(like, escape="\\")))
    return paging.newest_first(stmt, Media.id, before, size=PAGE_SIZE)


def newest(limit: int = CHOICES, keep: int | None = None) -> list[Media]:
    """The ``limit`` newest pictures, and the one with id ``keep`` too (an older choice), in
    one statement whatever the choice."""
    latest = sa.select(Media.id).order_by(Media.id.desc()).limit(limit).scalar_subquery()
    wanted = Media.id.in_(latest)
    if keep is not None:
        wanted = sa.or_(wanted, Media.id == keep)
    return list(db.session.scalars(sa.select(Media).where(wanted).order_by(Media.id.desc())))
