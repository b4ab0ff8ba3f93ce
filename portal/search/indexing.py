"""Keeping the index up to date, whichever backend holds it: index jobs (one record each),
rebuilds, and the checks ``/healthz`` and ``flask setup`` use."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from portal import jobs
from portal.db import end_read, writing
from portal.extensions import db
from portal.i18n import _l
from portal.jobs.models import PENDING, RUNNING, Job
from portal.search import backends
from portal.search.registry import source, sources

INDEX_JOB = "search.index"


def enqueue(kind: str, record_id: str) -> None:
    """Record, in the caller's unit of work, that a searchable record changed: a job that
    applies the record's current state to the index (one record per job)."""
    jobs.enqueue(INDEX_JOB, {"kind": kind, "id": str(record_id)})


def pending() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.kind == INDEX_JOB, Job.state.in_((PENDING, RUNNING)))) or 0


def index_record(payload: dict) -> None:
    """The job: replace the record's documents in the live index by its current ones.

    Raises when the index cannot be written (the job is tried again later)."""
    kind, rid = payload["kind"], payload["id"]
    src = source(kind)
    docs = list(src.documents_for(rid)) if src else []
    end_read()  # nothing held while waiting for the index's lock
    backends.current().apply(f"{kind}:{rid}", docs)


def all_documents(progress: Callable[[int], None] | None = None):
    for src in sources():
        for doc in src.all_documents():
            yield doc
            if progress is not None:
                progress(1)


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Index every registered source afresh and put the new index live; returns how many
    documents it holds.  ``progress(n)`` is told of every n documents indexed.

    Index jobs written before the build started are covered by it and removed afterwards;
    jobs written during the build stay for the worker.
    """
    covered = db.session.scalar(sa.select(sa.func.max(Job.id)).where(Job.kind == INDEX_JOB)) or 0
    end_read()  # read the records in a fresh transaction, after that bound
    count = backends.current().build(all_documents(progress))
    with writing():
        db.session.execute(sa.delete(Job).where(Job.kind == INDEX_JOB, Job.state == PENDING,
                                                Job.id <= covered))
    return count


def has_index() -> bool:
    """Is there a live index of the current schema (one that changes can be applied to)?"""
    return backends.current().has_index()


def check() -> int:
    """The live index's document count (raises if it is unusable)."""
    return backends.current().check()


def close_searcher() -> None:
    """Let go of what this process holds open on the index (tests; before deleting it)."""
    for backend in backends.BACKENDS.values():
        backend.close()


def ensure_index() -> bool:
    """Build the index when it is missing or has an older schema.  Returns True if built."""
    if has_index():
        try:
            check()
            return False
        except Exception:
            current_app.logger.exception("search index unusable: rebuilding")
    rebuild()
    return True


def catch_up(_payload: dict | None = None) -> None:
    """Periodic: build the index if it is missing or of an older schema."""
    ensure_index()


jobs.register(INDEX_JOB, index_record, label=_l("Search index update"))
jobs.register_periodic("search.catch_up", catch_up, "hour", lease=3600,
                       label=_l("Search index check"))
