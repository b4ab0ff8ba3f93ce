"""The index on disk: schema, build, swap, incremental updates, and the reused searcher."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app
from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema

from portal import jobs
from portal.db import end_read, writing
from portal.extensions import db
from portal.i18n import _l
from portal.jobs.models import PENDING, RUNNING, Job
from portal.search.analysis import bigram_analyzer, mixed_analyzer
from portal.search.registry import Document, source, sources

SCHEMA_VERSION = 2
WRITER_TIMEOUT = 10.0  # seconds a writer waits for another process's lock


def schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),
        record=ID,
        kind=ID(stored=True),
        id=ID(stored=True),
        lang=ID(stored=True),
        url=STORED,
        summary=STORED,
        title=TEXT(stored=True, analyzer=mixed_analyzer(), field_boost=4.0),
        body=TEXT(stored=True, analyzer=mixed_analyzer(), chars=True),
        title_bi=TEXT(analyzer=bigram_analyzer(), field_boost=1.5),
        body_bi=TEXT(analyzer=bigram_analyzer(), field_boost=0.4),
    )


def fields(doc: Document) -> dict:
    return {"key": doc.key, "record": doc.record, "kind": doc.kind, "id": doc.id,
            "lang": doc.lang, "url": doc.url, "summary": doc.summary, "title": doc.title,
            "body": doc.body, "title_bi": doc.title, "body_bi": doc.body}


def search_root() -> str:
    return current_app.config.get("SEARCH_DIR") or os.path.join(current_app.instance_path,
                                                                "search")


def _pointer() -> str:
    return os.path.join(search_root(), "CURRENT")


def current_dir() -> str | None:
    try:
        with open(_pointer()) as fh:
            name = fh.read().strip()
    except FileNotFoundError:
        return None
    path = os.path.join(search_root(), name)
    return path if name and os.path.isdir(path) else None


def open_index():
    path = current_dir()
    if path is None:
        raise FileNotFoundError("no search index: run `flask search rebuild`")
    return whoosh_index.open_dir(path)


# -- reused searchers ------------------------------------------------------------------------
# Opening a searcher costs milliseconds, so searchers are pooled per process and reused across
# requests and threads (one thread uses a searcher at a time).  A searcher goes back to the
# pool only while it is up to date with the live index; after an incremental commit or a
# rebuild (a new CURRENT directory) fresh ones are opened and the old ones closed.
# whoosh 2.7.4's refresh() is correct, but a fresh searcher is the safe choice either way.

_pool_lock = threading.Lock()
_pools: dict[str, list] = {}


def _close_pools_except(keep: str | None) -> None:
    for path in [p for p in _pools if p != keep]:
        for stale in _pools.pop(path):
            stale.close()


@contextmanager
def searcher():
    """A searcher on the live index, borrowed from the pool for the ``with`` block."""
    path = current_dir()
    if path is None:
        raise FileNotFoundError("no search index: run `flask search rebuild`")
    with _pool_lock:
        _close_pools_except(path)
        pool = _pools.setdefault(path, [])
        borrowed = pool.pop() if pool else None
    if borrowed is not None and not borrowed.up_to_date():
        borrowed.close()
        borrowed = None
    if borrowed is None:
        borrowed = whoosh_index.open_dir(path).searcher()
    try:
        yield borrowed
    finally:
        with _pool_lock:
            if path in _pools and borrowed.up_to_date():
                _pools[path].append(borrowed)
            else:
                borrowed.close()


def close_searcher() -> None:
    """Close every pooled searcher (tests; before deleting an index folder)."""
    with _pool_lock:
        _close_pools_except(None)


def check() -> int:
    """Open the live index and return its document count (raises if it is unusable)."""
    with searcher() as s:
        return s.doc_count()


def _is_current_schema(path: str | None) -> bool:
    return bool(path) and os.path.basename(path).startswith(f"index-{SCHEMA_VERSION}-")


def ensure_index() -> bool:
    """Build the index when it is missing or has an older schema.  Returns True if built."""
    if _is_current_schema(current_dir()):
        try:
            check()
            return False
        except Exception:
            current_app.logger.exception("search index unusable: rebuilding")
    rebuild()
    return True


def rebuild() -> int:
    """Index every registered source into a fresh directory, then swap it in.

    Index jobs written before the build started are covered by it and removed afterwards;
    jobs written during the build stay for the worker.
    """
    root = search_root()
    os.makedirs(root, exist_ok=True)
    covered = db.session.scalar(sa.select(sa.func.max(Job.id)).where(Job.kind == INDEX_JOB)) or 0
    end_read()  # read the records in a fresh transaction, after that bound
    name = f"index-{SCHEMA_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    path = os.path.join(root, name)
    os.makedirs(path)
    ix = whoosh_index.create_in(path, schema())
    count = 0
    writer = ix.writer(compound=False)  # see SEARCH-NOTES: compound segments cost 150 ms each
    try:
        for src in sources():
            for doc in src.all_documents():
                writer.add_document(**fields(doc))
                count += 1
        writer.commit(optimize=True)
    except BaseException:
        writer.cancel()
        shutil.rmtree(path, ignore_errors=True)
        raise
    previous = current_dir()
    tmp = _pointer() + f".{os.getpid()}.{secrets.token_hex(4)}"
    with open(tmp, "w") as fh:
        fh.write(name)
    os.replace(tmp, _pointer())
    # Keep the previous index a while for readers that opened it just before the swap.
    keep = {name, os.path.basename(previous) if previous else None}
    for old in os.listdir(root):
        if old.startswith("index-") and old not in keep:
            shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    with writing():
        db.session.execute(sa.delete(Job).where(Job.kind == INDEX_JOB, Job.state == PENDING,
                                                Job.id <= covered))
    return count


# -- index jobs ------------------------------------------------------------------------------

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
    end_read()  # nothing held while waiting for the writer's lock
    if current_dir() is None:
        return  # no index yet: the first rebuild will include the record
    ix = open_index()
    writer = ix.writer(timeout=WRITER_TIMEOUT, compound=False)
    try:
        writer.delete_by_term("record", f"{kind}:{rid}")
        for doc in docs:
            writer.add_document(**fields(doc))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


def catch_up(_payload: dict | None = None) -> None:
    """Periodic: build the index if it is missing or of an older schema."""
    ensure_index()


jobs.register(INDEX_JOB, index_record, label=_l("Search index update"))
jobs.register_periodic("search.catch_up", catch_up, "hour", lease=3600,
                       label=_l("Search index check"))
