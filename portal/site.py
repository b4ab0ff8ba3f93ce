"""The deployment's own facts: ``content/site.yaml`` (city, zone, districts, privacy notice).

Nothing city-specific lives in Python; this module reads it from the content folder.
"""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Len
from flask import current_app
from pydantic import Field, field_validator

from portal.contentmodels import Bilingual, ContentModel, Slug, Text, check, problem, read_yaml
from portal.core.content import ContentProblems
from portal.i18n import Localized, pick

FILE = "site.yaml"


class Division(ContentModel):
    code: Slug
    zh: Text
    en: Text

    def label(self, locale: str | None = None) -> Localized:
        return pick(self, locale=locale)


class PrivacyNotice(ContentModel):
    version: Text  # quoted: unquoted, YAML reads 2026-11-28 as a date


class ServiceHours(ContentModel):
    """[minutes past the last full hour up to which, hours added]; see site.yaml."""

    rounding: Annotated[tuple[tuple[int, Decimal], ...], Len(min_length=1)] = (
        (15, Decimal(0)), (45, Decimal("0.5")), (60, Decimal(1)))
    min_attendance_share: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.6")


class GreenFamily(ContentModel):
    min_pledges: Annotated[int, Field(ge=1)] = 6
    min_headings: Annotated[int, Field(ge=1)] = 4
    min_kept_rate: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.8")
    months: Annotated[int, Field(ge=1)] = 3
    review_after_days: Annotated[int, Field(ge=1)] = 365


class Target(ContentModel):
    key: Slug
    label: Bilingual
    target: Decimal
    year: int
    source: str  # "entered" or "live:<metric>"
    unit: str = "count"

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value != "entered" and not value.startswith("live:"):
            raise problem('must be "entered" or "live:<metric>"')
        return value


class Site(ContentModel):
    name: Bilingual
    city: Bilingual
    timezone: str
    divisions: Annotated[tuple[Division, ...], Len(min_length=1)]
    privacy_notice: PrivacyNotice
    citizen_code: tuple[Bilingual, ...] = ()
    service_hours: ServiceHours = ServiceHours()
    green_family: GreenFamily = GreenFamily()
    targets: tuple[Target, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise problem(f"unknown time zone '{value}' (like Asia/Shanghai)") from None
        return value

    @property
    def privacy_notice_version(self) -> str:
        return self.privacy_notice.version

    def text(self, field, locale: str | None = None) -> Localized:
        """One of the file's bilingual texts (``site().name``) in the reader's language."""
        return pick(field, locale=locale)

    def division(self, code: str) -> Division | None:
        return next((d for d in self.divisions if d.code == code), None)


_last_good: dict[str, Site] = {}  # by content folder: what to serve while the file is broken


def load_site(content_dir: str) -> Site:
    """The site file as it is now; while an edit has broken it, the last version that loaded
    (the problems are logged and ``/healthz`` reports them).  Raises only when it never
    loaded."""
    found, problems = _load(content_dir, _mtime(content_dir))
    if found is not None:
        _last_good[content_dir] = found
        return found
    if content_dir not in _last_good:
        raise ContentProblems(problems)
    return _last_good[content_dir]


def site_problems(content_dir: str) -> list:
    """What is wrong with the site file now (empty when it loads)."""
    return _load(content_dir, _mtime(content_dir))[1]


def _mtime(content_dir: str) -> float:
    try:
        return os.path.getmtime(os.path.join(content_dir, FILE))
    except OSError:
        return -1.0  # missing: read_yaml says so


@lru_cache(maxsize=8)
def _load(content_dir: str, mtime: float) -> tuple[Site | None, list]:
    """Read once per version of the file (a broken version too: it is not re-read on every
    request)."""
    raw, problems = read_yaml(content_dir, FILE)
    found, problems = (None, problems) if problems else check(Site, raw, FILE)
    if problems:
        logging.getLogger(__name__).error("%s: %s", FILE, "; ".join(map(str, problems)))
    return found, problems


def site() -> Site:
    return load_site(current_app.config["CONTENT_DIR"])


def zone() -> ZoneInfo:
    """The site's time zone (Asia/Shanghai for Jiaxing)."""
    return ZoneInfo(site().timezone)


def resolve_division(value: str | None) -> str | None:
    """A division's code from its code or its name in either language, else None."""
    value = (value or "").strip()
    for d in site().divisions:
        if value and value.lower() in (d.code, d.zh, d.en.lower()):
            return d.code
    return None
