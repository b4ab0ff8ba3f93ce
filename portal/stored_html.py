"""Markdown people type, rendered once when it is saved, and stored HTML kept up to date.

Services render a text with ``render_fields`` before their unit of work: each text in a
process of its own (``markup.try_render``) within ``MARKDOWN_BUDGET`` seconds, or a
``RuleError`` (``markdown_too_complex``, 422, naming the field) and nothing is saved.  The HTML
is stored beside the text with the renderer's ``markup.VERSION`` in the row's
``html_version``.  Features say which
of their tables hold such text (``register``); when ``VERSION`` changes, or after the
migration that added the columns (``html_version`` 0: never rendered), the ``markup.rerender``
job renders those rows again, a batch at a time, and queues itself again while rows remain.
``flask setup`` queues it when there are such rows.

A text the renderer now refuses keeps the HTML it had (or, never rendered, is shown as
escaped text) and the row is marked ``-VERSION``, so the job does not try it again until the
next version; the refusal is logged.  Rendering happens outside the unit of work; the write
skips a row that was saved again in the meantime (the save rendered it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal import jobs, markup
from portal.db import end_read, writing
from portal.extensions import db
from portal.i18n import _, _l
from portal.jobs.models import PENDING, RUNNING, Job
from portal.rules import RuleError

RERENDER_JOB = "markup.rerender"
BATCH = 100  # rows per job at most …
SECONDS = 120  # … and no new row after this long (the job's lease is longer)


# -- rendering within the budget ----------------------------------------------------------------

def refusal_message() -> str:
    return _("This text is too complex to show. Please simplify it: fewer nested brackets, "
             "fewer emphasis marks (* or _) in a row, and lists or quotes nested less deeply.")


def budgeted(text: str) -> str | None:
    """``text`` as sanitised HTML, rendered within ``MARKDOWN_BUDGET`` seconds, or None."""
    return markup.try_render(text, current_app.config["MARKDOWN_BUDGET"])


def render_fields(texts: dict[str, str]) -> dict[str, str]:
    """``{field: text}`` → ``{field: html}``, each rendered within the budget (call it before
    the unit of work); one ``RuleError`` naming every field that was refused."""
    rendered, refused = {}, {}
    for name, text in texts.items():
        html = budgeted(text)
        if html is None:
            refused[name] = refusal_message()
        else:
            rendered[name] = html
    if refused:
        raise RuleError("markdown_too_complex", next(iter(refused.values())), 422, refused)
    return rendered


# -- rows that keep HTML ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    name: str
    model: Any  # a mapped class with an ``html_version`` column
    fields: dict[str, str]  # text column → HTML column
    toc: str | None = None  # trusted content: rendered in-process, its table of contents here
    after: Callable[[Any], None] | None = None  # in the unit of work of a changed row


_SOURCES: dict[str, Source] = {}


def register(name: str, model, fields: dict[str, str], *, toc: str | None = None,
             after: Callable[[Any], None] | None = None) -> None:
    """Rows of ``model`` keep the HTML of each text column ``fields`` names.  ``toc``: the
    texts are trusted content files (rendered without a budget) and this column keeps the
    table of contents.  ``after(row)`` runs in the unit of work that stored new HTML (to
    queue the row's search index update)."""
    _SOURCES[name] = Source(name, model, dict(fields), toc, after)


def _key(model):
    return sa.inspect(model).primary_key[0]


def _stale(model):
    return model.html_version.not_in((markup.VERSION, -markup.VERSION))


def stale_count() -> int:
    """Rows whose stored HTML this version of the renderer has not made (or refused)."""
    return sum(db.session.scalar(sa.select(sa.func.count()).select_from(s.model)
                                 .where(_stale(s.model))) or 0 for s in _SOURCES.values())


def _render(source: Source, texts: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(column → new value, text columns refused)."""
    values: dict[str, Any] = {}
    refused = []
    for text_column, html_column in source.fields.items():
        if source.toc:
            html, toc = markup.render_with_toc(texts[text_column])
            values[html_column], values[source.toc] = str(html), toc
            continue
        html = budgeted(texts[text_column])
        if html is None:
            refused.append(text_column)
        else:
            values[html_column] = html
    return values, refused


def rerender_row(source: Source, key) -> bool:
    """Render one row's texts again and store them; False when the row was left alone (gone,
    already current, or saved again while it was being rendered)."""
    row = db.session.get(source.model, key)
    if row is None or markup.is_current(row.html_version):
        return False
    texts = {column: getattr(row, column) or "" for column in source.fields}
    end_read()  # no transaction held while rendering
    values, refused = _render(source, texts)
    with writing():
        row = db.session.scalar(sa.select(source.model).where(_key(source.model) == key)
                                .with_for_update().execution_options(populate_existing=True))
        if row is None or markup.is_current(row.html_version) or any(
                (getattr(row, column) or "") != text for column, text in texts.items()):
            return False
        for column, value in values.items():
            setattr(row, column, value)
        row.html_version = -markup.VERSION if refused else markup.VERSION
        if refused:
            current_app.logger.warning(
                "stored HTML: %s %s: %s refused by renderer version %d; the previous HTML "
                "stays", source.name, key, ", ".join(refused), markup.VERSION)
        if source.after is not None:
            source.after(row)
    return True


def rerender(_payload: dict | None = None) -> int:
    """The job: bring a batch of rows up to date; queue the job again while rows remain (and
    this run got somewhere).  Returns how many rows were stored."""
    began, seen, stored = time.monotonic(), 0, 0
    for source in list(_SOURCES.values()):
        keys = list(db.session.scalars(sa.select(_key(source.model)).where(
            _stale(source.model)).order_by(_key(source.model)).limit(BATCH - seen)))
        for key in keys:
            stored += rerender_row(source, key)
            seen += 1
            if time.monotonic() - began > SECONDS:
                break
        if seen >= BATCH or time.monotonic() - began > SECONDS:
            break
    if stored and stale_count():
        with writing():
            jobs.enqueue(RERENDER_JOB, {})
    return stored


def queue_if_stale() -> int:
    """Queue the job when rows need it and it is not waiting already (``flask setup``);
    returns how many rows need it."""
    stale = stale_count()
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.kind == RERENDER_JOB, Job.state.in_((PENDING, RUNNING))))
    if stale and not waiting:
        with writing():
            jobs.enqueue(RERENDER_JOB, {})
    return stale


jobs.register(RERENDER_JOB, rerender, lease=SECONDS * 5,
              label=_l("Rendering stored texts again (new renderer version)"))
