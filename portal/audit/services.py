"""The audit log: writing an entry, telling it in words, reading pages of it.  Tested without
HTTP.

Telling an entry: each action is described once (``describe``) with a lazy gettext sentence
naming ``{actor}`` (first: for an automatic action the sentence is told without it, after
"Automatically: "), ``{label}`` and the keys of the entry's ``data``.  A number the sentence
names can be counted in words (``count_word``: "3 reports" / "3 次举报").  An entry whose
action was never described, or whose label is empty (rows written before 0019), is still told
in words: the action's name, and the thing it was done to by its kind ("post 12")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy import orm

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.i18n import _, _l, _n, format_date
from portal.paging import Page, newest_first
from portal.rules import RuleError
from portal.site import zone

LABEL_MAX, REASON_MAX, ACTION_MAX, TARGET_MAX = 200, 500, 32, 64


@dataclass(frozen=True)
class Action:
    sentence: object  # lazy gettext: "{actor} hid '{label}' ({reports})"
    name: object  # lazy gettext: what the filter's list calls it ("Post hidden")


ACTIONS: dict[str, Action] = {}
KINDS: dict[str, object] = {}  # "activity" -> _l("post")
COUNTS: dict[str, tuple[str, str]] = {}  # "reports" -> ("%(num)d report", "%(num)d reports")
WORDS: dict[str, object] = {}  # "level" -> {"city": _l("City-level green school"), …}


def describe(action: str, sentence, name=None) -> None:
    """``sentence``: a lazy gettext string with ``{actor}``, ``{label}`` and the data's keys;
    ``name``: what the action is called in the audit page's list of actions (by default the
    sentence told of nobody in particular)."""
    ACTIONS[action] = Action(sentence, name)


def kind_word(kind: str, word) -> None:
    """What people call a target's kind: ``kind_word("activity", _l("post"))``."""
    KINDS[kind] = word


def count_word(key: str, singular: str, plural: str) -> None:
    """A number in ``data[key]`` told with its noun: ``count_word("reports", "%(num)d report",
    "%(num)d reports")`` (the msgids, translated when told)."""
    COUNTS[key] = (singular, plural)


def value_words(key: str, words) -> None:
    """Codes in ``data[key]`` told in words: ``value_words("level", {"city": _l("…")})``, or
    by a function of the code (``jobs.label``)."""
    WORDS[key] = words


def forget(target: str) -> None:
    """An erased account (``user:N``): the log keeps what staff did to it, no longer the name
    it was done to (the label held the person's name at the time)."""
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.target == target)
                       .values(label=""))


def record(actor, action: str, target: str, label: str = "", reason: str = "", **data) -> None:
    """One staff action: ``target`` is "kind:id" ("activity:12", "user:3"), ``label`` what
    people call it at the time ("Tree planting"), ``data`` the details the sentence names
    (JSON values).  ``actor`` None: the portal did it by itself."""
    db.session.add(AuditEntry(actor_id=actor.id if actor else None, action=action[:ACTION_MAX],
                              target=target[:TARGET_MAX], label=(label or "")[:LABEL_MAX],
                              reason=(reason or "")[:REASON_MAX],
                              data=_plain(data if actor else {**data, "auto": True})))


def _plain(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
        else:  # dates, decimals, lazy strings: their text
            out[key] = value.isoformat() if isinstance(value, date) else str(value)
    return out


# -- telling an entry in words ---------------------------------------------------------------

_CODE = re.compile(r"[_.:\-]+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMPTY = re.compile(r"\s*(\(\s*\)|（\s*）)")


def _words(code: str) -> str:
    return _CODE.sub(" ", code or "").strip()


def action_name(action: str) -> str:
    """The action as people call it: its name, else its sentence told of nobody, else the
    code's words ("hidden by reports")."""
    known = ACTIONS.get(action)
    if known is not None and known.name is not None:
        return str(known.name)
    if known is not None:
        text = _tell(str(known.sentence), {"actor": "", "label": "…"}, {})
        return text[:1].upper() + text[1:]
    return _words(action)


def thing(target: str) -> str:
    """A target "kind:id" in words: "post 12"."""
    kind, _sep, key = (target or "").partition(":")
    word = KINDS.get(kind)
    word = str(word) if word is not None else _words(kind)
    return f"{word} {key}".strip() if key else word


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def _tell(sentence: str, names: dict, data: dict) -> str:
    values = _Missing()
    for key, value in data.items():
        if key in COUNTS and isinstance(value, int) and not isinstance(value, bool):
            singular, plural = COUNTS[key]
            values[key] = _n(singular, plural, value)
        elif isinstance(value, str) and _DAY.fullmatch(value):
            values[key] = format_date(date.fromisoformat(value), "long")
        elif key in WORDS and isinstance(value, str):
            words = WORDS[key]
            word = words(value) if callable(words) else words.get(value)
            values[key] = str(word) if word is not None else _words(value)
        else:
            values[key] = "" if value is None else str(value)
    for key in COUNTS:  # a count not given (or none): its words and brackets go
        values.setdefault(key, "")
        if data.get(key) in (None, 0):
            values[key] = ""
    values.update(names)
    try:
        text = sentence.format_map(values)
    except (ValueError, IndexError, AttributeError):  # a broken translation: say it plainly
        return ""
    return _EMPTY.sub("", text).strip()


# Actions the portal took by itself before entries said so (``data["auto"]``).
AUTOMATIC = {"hidden_by_reports", "school_imported"}


def is_automatic(entry: AuditEntry) -> bool:
    """Done by the portal itself (no actor, and marked so or of an automatic kind); an entry
    without an actor otherwise was made by an account deleted since."""
    return entry.actor_id is None and (bool((entry.data or {}).get("auto"))
                                       or entry.action in AUTOMATIC)


def sentence(entry: AuditEntry) -> str:
    """The entry in the reader's language: "王敏 hid 'Tree planting' (3 reports)"."""
    automatic = is_automatic(entry)
    if entry.actor is not None:
        actor = entry.actor.display_name
    elif automatic:
        actor = ""
    else:
        actor = _("A deleted account")
    label = entry.label or thing(entry.target)
    known = ACTIONS.get(entry.action)
    text = ""
    if known is not None:
        text = _tell(str(known.sentence), {"actor": actor, "label": label}, entry.data or {})
    if not text:
        if automatic:
            text = _("%(action)s: %(thing)s", action=action_name(entry.action), thing=label)
        else:
            text = _("%(actor)s: %(action)s, %(thing)s", actor=actor,
                     action=action_name(entry.action), thing=label)
    if automatic:
        return _("Automatically: %(what)s", what=text)
    return text


# -- reading ---------------------------------------------------------------------------------

@dataclass
class Filters:
    person: str = ""
    action: str = ""
    start: date | None = None
    end: date | None = None

    def args(self) -> dict:
        out = {"person": self.person, "action": self.action,
               "from": self.start.isoformat() if self.start else "",
               "to": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in out.items() if v}


def _day(raw: str, field: str, errors: dict) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = _("Enter a date like 2026-12-01.")
        return None


def filters(args) -> Filters:
    """The filters of a request's arguments; a date that is not one, or a period that ends
    before it starts, is refused with a translated message per field (400)."""
    errors: dict[str, str] = {}
    start = _day(args.get("from", ""), "from", errors)
    end = _day(args.get("to", ""), "to", errors)
    if start and end and end < start:
        errors["to"] = _("The last day cannot be before the first.")
    if errors:
        raise RuleError("invalid", _("Some of what you sent is not valid."), 400, errors)
    action = (args.get("action") or "")[:ACTION_MAX]
    return Filters(person=(args.get("person") or "").strip()[:80], action=action,
                   start=start, end=end)


def _midnight(day: date) -> datetime:
    """The start of a day in the site's time zone (Beijing time), as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=zone())


def _filtered(f: Filters):
    stmt = sa.select(AuditEntry)
    if f.person:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", f.person.lower()) + "%"
        people = sa.select(User.id).where(sa.func.lower(User.display_name).like(pattern,
                                                                              escape="\\"))
        stmt = stmt.where(AuditEntry.actor_id.in_(people))
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.start:
        stmt = stmt.where(AuditEntry.created_at >= _midnight(f.start))
    if f.end:
        stmt = stmt.where(AuditEntry.created_at < _midnight(f.end + timedelta(days=1)))
    return stmt


def page(f: Filters, before: int | None = None) -> Page:
    """One page of the log, newest first, with who did it in the same statement."""
    stmt = _filtered(f).options(orm.joinedload(AuditEntry.actor))
    return newest_first(stmt, AuditEntry.id, before)


def all_rows(f: Filters, batch: int = 500) -> Iterator[AuditEntry]:
    """Every entry of the filtered log, newest first, read in batches (for the CSV export)."""
    before = None
    while True:
        stmt = (_filtered(f).options(orm.joinedload(AuditEntry.actor))
                .order_by(AuditEntry.id.desc()).limit(batch))
        if before is not None:
            stmt = stmt.where(AuditEntry.id < before)
        rows = list(db.session.scalars(stmt))
        yield from rows
        if len(rows) < batch:
            return
        before = rows[-1].id


def actions() -> list[tuple[str, str]]:
    """The described actions with their names, in the reader's language's order."""
    return sorted(((code, action_name(code)) for code in ACTIONS), key=lambda a: a[1])


# The kinds of things acted on, and the words of the actions the log held before 0019.
kind_word("activity", _l("post"))
kind_word("school", _l("school"))
kind_word("user", _l("account"))
kind_word("household", _l("household"))
kind_word("application", _l("application"))
kind_word("event", _l("event"))
kind_word("signup", _l("sign-up"))
kind_word("figure", _l("figure"))
kind_word("job", _l("job"))
kind_word("article", _l("article"))
kind_word("media", _l("picture"))
count_word("reports", "%(num)d report", "%(num)d reports")
count_word("jobs", "%(num)d job", "%(num)d jobs")
