"""The pledge catalogue: content/pledges.yaml, grouped under the citizens' code headings.

Read from the content folder (cached until the file changes); ``flask content sync`` checks
it with the rest of the content and refuses a bad file.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Annotated

from annotated_types import Len
from flask import current_app
from pydantic import Field, model_validator

from portal.contentmodels import Bilingual, ContentModel, Slug, Text, problem, read_yaml
from portal.contentmodels import check as validate
from portal.core.content import Problem
from portal.i18n import Localized, current_locale, pick

FILE = "pledges.yaml"


class Action(ContentModel):
    code: Slug
    heading: str = ""  # the code of the heading it is listed under
    zh: Text
    en: Text
    co2_kg_per_month: Annotated[Decimal, Field(gt=0)] | None = None
    co2_basis: Bilingual | None = None

    @model_validator(mode="after")
    def _estimate_has_a_basis(self):
        if self.co2_kg_per_month is not None and self.co2_basis is None:
            raise problem("an estimate needs a co2_basis in both languages")
        return self

    @cached_property
    def _texts(self) -> dict[tuple[str, str], Localized]:
        return {}  # (which, language) → text: a page lists every action, some twice

    def label(self, locale: str | None = None) -> Localized:
        return self._text("label", locale or current_locale())

    def basis(self, locale: str | None = None) -> Localized:
        return self._text("basis", locale or current_locale())

    def _text(self, which: str, locale: str) -> Localized:
        found = self._texts.get((which, locale))
        if found is None:
            source = self if which == "label" else self.co2_basis or {}
            found = self._texts[which, locale] = pick(source, locale=locale)
        return found


class Heading(ContentModel):
    code: Slug
    zh: Text
    en: Text
    actions: Annotated[tuple[Action, ...], Len(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _actions_know_their_heading(cls, data):
        if isinstance(data, dict) and isinstance(data.get("actions"), list):
            data = {**data, "actions": [{**a, "heading": data.get("code")}
                                        if isinstance(a, dict) else a for a in data["actions"]]}
        return data

    def label(self, locale: str | None = None) -> Localized:
        return pick(self, locale=locale)


class Catalogue(ContentModel):
    headings: Annotated[tuple[Heading, ...], Len(min_length=1)]

    @model_validator(mode="after")
    def _codes_are_unique(self):
        codes = [a.code for h in self.headings for a in h.actions]
        if repeated := sorted({c for c in codes if codes.count(c) > 1}):
            raise problem("an action code may be used once; repeated: " + ", ".join(repeated))
        return self

    @cached_property
    def actions(self) -> dict[str, Action]:  # made once per catalogue (it is read-only)
        return {a.code: a for h in self.headings for a in h.actions}


def check(content_dir: str) -> tuple[Catalogue | None, list[Problem]]:
    """The catalogue in the content folder, or None and its problems (a content loader)."""
    raw, problems = read_yaml(content_dir, FILE)
    return (None, problems) if problems else validate(Catalogue, raw, FILE)


@lru_cache(maxsize=4)
def _load(content_dir: str, mtime: float) -> Catalogue:
    found, problems = check(content_dir)
    if problems:
        raise ValueError("; ".join(map(str, problems)))
    return found


def catalogue() -> Catalogue:
    folder = current_app.config["CONTENT_DIR"]
    return _load(folder, os.path.getmtime(os.path.join(folder, FILE)))


def apply(_plan) -> dict:
    return {}
