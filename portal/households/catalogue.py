"""The pledge catalogue: content/pledges.yaml, grouped under the citizens' code headings.

Read from the content folder (cached until the file changes); ``flask content sync`` checks
it with the rest of the content and refuses a bad file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import yaml
from flask import current_app

from portal.core.content import Problem

CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Action:
    code: str
    heading: str
    zh: str
    en: str
    co2_kg_per_month: Decimal | None
    co2_basis: dict | None

    def label(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


@dataclass(frozen=True)
class Heading:
    code: str
    zh: str
    en: str
    actions: tuple[Action, ...]

    def label(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


@dataclass(frozen=True)
class Catalogue:
    headings: tuple[Heading, ...]

    @property
    def actions(self) -> dict[str, Action]:
        return {a.code: a for h in self.headings for a in h.actions}


def parse(raw) -> tuple[Catalogue | None, list[str]]:
    problems: list[str] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("headings"), list):
        return None, ["must have a list 'headings'"]
    headings, seen = [], set()
    for i, h in enumerate(raw["headings"]):
        if not isinstance(h, dict) or not CODE.match(str(h.get("code", ""))):
            problems.append(f"heading {i + 1}: 'code' must be lower-case-words")
            continue
        actions = []
        for a in h.get("actions") or []:
            code = str(a.get("code", "")) if isinstance(a, dict) else ""
            if not CODE.match(code) or code in seen:
                problems.append(f"heading '{h['code']}': action code '{code}' is bad or repeated")
                continue
            if not (str(a.get("zh", "")).strip() and str(a.get("en", "")).strip()):
                problems.append(f"action '{code}': needs zh and en")
                continue
            co2 = a.get("co2_kg_per_month")
            basis = a.get("co2_basis")
            if co2 is not None and (not isinstance(co2, int | float) or co2 <= 0
                                    or not isinstance(basis, dict)
                                    or not basis.get("zh") or not basis.get("en")):
                problems.append(f"action '{code}': an estimate needs a positive number and a "
                                "co2_basis in both languages")
                continue
            seen.add(code)
            actions.append(Action(code, h["code"], a["zh"].strip(), a["en"].strip(),
                                  Decimal(str(co2)) if co2 is not None else None, basis))
        if not actions:
            problems.append(f"heading '{h['code']}' has no valid actions")
        headings.append(Heading(h["code"], str(h.get("zh", "")), str(h.get("en", "")),
                                tuple(actions)))
    return (Catalogue(tuple(headings)) if not problems else None), problems


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Catalogue:
    with open(path, encoding="utf-8") as fh:
        catalogue, problems = parse(yaml.safe_load(fh))
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return catalogue


def catalogue() -> Catalogue:
    path = os.path.join(current_app.config["CONTENT_DIR"], "pledges.yaml")
    return _load(path, os.path.getmtime(path))


def check(content_dir: str):
    """A content loader that only checks (the catalogue is read from the file)."""
    path = os.path.join(content_dir, "pledges.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError:
        return None, [Problem("pledges.yaml", "file is missing")]
    except yaml.YAMLError as err:
        return None, [Problem("pledges.yaml", f"not valid YAML: {err}")]
    _catalogue, problems = parse(raw)
    return None, [Problem("pledges.yaml", p) for p in problems]


def apply(_plan) -> dict:
    return {}
