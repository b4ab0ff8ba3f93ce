"""The deployment's own facts: ``content/site.yaml`` (city, zone, districts, privacy notice).

Nothing city-specific lives in Python; this module reads it from the content folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import yaml
from flask import current_app

from portal.i18n import current_locale


@dataclass(frozen=True)
class Division:
    code: str
    zh: str
    en: str

    def label(self, locale: str | None = None) -> str:
        return getattr(self, locale or current_locale(), self.zh)


@dataclass(frozen=True)
class Site:
    name: dict
    city: dict
    timezone: str
    divisions: tuple[Division, ...]
    privacy_notice_version: str
    citizen_code: tuple[dict, ...]
    service_hours: dict
    green_family: dict
    targets: tuple[dict, ...]

    def text(self, field: dict, locale: str | None = None) -> str:
        return field.get(locale or current_locale()) or field.get("zh", "")

    def division(self, code: str) -> Division | None:
        return next((d for d in self.divisions if d.code == code), None)


def load_site(content_dir: str) -> Site:
    path = os.path.join(content_dir, "site.yaml")
    return _load(path, os.path.getmtime(path))


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Site:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return Site(
        name=raw["name"],
        city=raw["city"],
        timezone=raw["timezone"],
        divisions=tuple(Division(**d) for d in raw["divisions"]),
        privacy_notice_version=str(raw["privacy_notice"]["version"]),
        citizen_code=tuple(raw.get("citizen_code", ())),
        green_family={"min_pledges": 6, "min_headings": 4, "min_kept_rate": 0.8, "months": 3,
                      "review_after_days": 365, **(raw.get("green_family") or {})},
        targets=tuple(raw.get("targets") or ()),
        service_hours=raw.get("service_hours") or {"rounding": [[15, 0], [45, 0.5], [60, 1]],
                                                   "min_attendance_share": 0.6},
    )


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
