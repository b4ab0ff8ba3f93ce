"""The Whoosh backend (the embedded default): the index on disk, its schema, build and swap,
incremental updates, the reused searchers, and queries run on them.

Layout in the instance folder (``SEARCH_DIR`` if set)::

    search/CURRENT           name of the live index directory
    search/index-<v>-<ts>/   one complete Whoosh index (schema version v)
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager

from flask import current_app
from whoosh import collectors
from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.query import And, NullQuery, Or, Term
from whoosh.reading import TermNotFound

from portal.search.analysis import bigram_analyzer, mixed_analyzer
from portal.search.registry import Document
from portal.search.results import Hit, Piece, ResultPage, needs_pairs, snippet, snippet_words

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


def close() -> None:
    close_searcher()


def _is_current_schema(path: str | None) -> bool:
    return bool(path) and os.path.basename(path).startswith(f"index-{SCHEMA_VERSION}-")


def has_index() -> bool:
    """Is there a live index of the current schema (one that changes can be applied to)?"""
    return _is_current_schema(current_dir())


def build(documents: Iterable[Document]) -> int:
    """Index ``documents`` into a fresh directory, then swap it in."""
    root = search_root()
    os.makedirs(root, exist_ok=True)
    name = f"index-{SCHEMA_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    path = os.path.join(root, name)
    os.makedirs(path)
    ix = whoosh_index.create_in(path, schema())
    count = 0
    writer = ix.writer(compound=False)  # see SEARCH-NOTES: compound segments cost 150 ms each
    try:
        for doc in documents:
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
    return count


def apply(record: str, docs: list[Document]) -> None:
    """Replace the record's documents in the live index by ``docs`` (none: it leaves).

    Raises when the index cannot be written (the job is tried again later)."""
    if current_dir() is None:
        return  # no index yet: the first rebuild will include the record
    ix = open_index()
    writer = ix.writer(timeout=WRITER_TIMEOUT, compound=False)
    try:
        writer.delete_by_term("record", record)
        for doc in docs:
            writer.add_document(**fields(doc))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise


# -- queries ---------------------------------------------------------------------------------

def build_query(pieces: list[Piece], with_pairs: bool = True):
    options_per_piece = []
    for piece in pieces:
        options = []
        if piece.words:
            options.append(And([Or([Term("title", w), Term("body", w)]) for w in piece.words]))
        if with_pairs and piece.pairs:
            options.append(And([Or([Term("title_bi", p), Term("body_bi", p)])
                                for p in piece.pairs]))
        if options:
            options_per_piece.append(Or(options))
    if not options_per_piece:
        return NullQuery
    # A plain Or already sums the scores of the pieces a document matches; Or(scale=…) would
    # add a coordination factor at about twice the cost per match (measured in bench/).
    return Or(options_per_piece).normalize()  # flattens one-child groups: fewer matchers


def search(pieces: list[Piece], kind: str | None, lang: str | None, result: ResultPage,
           time_limit: float) -> ResultPage:
    words_only = build_query(pieces, with_pairs=False)
    with searcher() as s:
        # Words first.  Character pairs are the fallback for words jieba splits differently:
        # they join in only when words alone cannot fill the page asked for.  (Common words
        # would otherwise pay for intersecting several huge pair lists: see bench/.)
        if words_only is not NullQuery:
            _collect(s, words_only, pieces, kind, lang, result, time_limit)
        if needs_pairs(pieces, result):
            result = ResultPage(query=result.query, page=result.page, per_page=result.per_page)
            _collect(s, build_query(pieces, with_pairs=True), pieces, kind, lang, result,
                     time_limit)
    return result


def _spans(s, docnum: int, words: list[str]) -> list[tuple[str, int, int]]:
    """Where ``words`` are in the stored body of one hit: the character offsets stored in the
    index.  Done only for the hits on the page shown; whoosh's own route to this needs a
    TermsCollector that records terms for *every* match."""
    spans = []
    for word in words:
        try:
            postings = s.reader().postings("body", word)
        except TermNotFound:
            continue
        postings.skip_to(docnum)
        if postings.is_active() and postings.id() == docnum:
            spans += [(word, start, end) for _pos, start, end in postings.value_as("characters")]
    return spans


ID_CACHE_SIZE = 512


def _term_ids(s, field: str, text: str) -> frozenset[int]:
    """The documents holding a term (deleted ones excluded), cached on the searcher: a
    searcher is replaced whenever the index changes, and its cache goes with it."""
    cache = s.__dict__.setdefault("_portal_term_ids", {})
    key = (field, text)
    found = cache.get(key)
    if found is None:
        try:
            found = frozenset(s.reader().postings(field, text).all_ids())
        except TermNotFound:
            found = frozenset()
        if len(cache) >= ID_CACHE_SIZE:
            cache.clear()
        cache[key] = found
    return found


def count(s, query) -> int:
    """Exactly how many documents ``query`` matches (our queries are And/Or of Terms)."""

    def ids(q) -> frozenset[int]:
        if isinstance(q, Term):
            return _term_ids(s, q.fieldname, q.text)
        if isinstance(q, Or):
            return frozenset().union(*(ids(sub) for sub in q.subqueries))
        if isinstance(q, And):
            parts = sorted((ids(sub) for sub in q.subqueries), key=len)
            return frozenset.intersection(*parts) if parts else frozenset()
        return frozenset(s.docs_for_query(q))  # anything else: ask whoosh

    return len(ids(query))


def _collect(s, query, pieces: list[Piece], kind: str | None, lang: str | None,
             result: ResultPage, time_limit: float) -> None:
    page, per_page = result.page, result.per_page
    # Filters go into the query with no weight: whoosh 2.7.4's FilterCollector is bypassed
    # under a TimeLimitCollector, and its Require() scores every match as 0 (dropping hits).
    filters = [Term("kind", kind, boost=0.0)] if kind else []
    if lang:
        filters.append(Term("lang", lang, boost=0.0))
    if filters:
        query = And([query, *filters])
    # The collector finds the top hits with whoosh's skipping optimisations, so it does not
    # see every match; the total is counted separately, by set algebra (``count``).
    inner = s.collector(limit=page * per_page)
    timed = collectors.TimeLimitCollector(inner, timelimit=time_limit, use_alarm=False)
    try:
        s.search_with_collector(query, timed)
    except collectors.TimeLimit:
        result.timed_out = True
    results = timed.results()
    words = snippet_words(pieces)
    result.total = count(s, query)
    start = (page - 1) * per_page
    for hit in results[start:start + per_page]:
        result.hits.append(Hit(kind=hit["kind"], id=hit["id"], lang=hit["lang"],
                               title=hit["title"], url=hit["url"],
                               snippet=snippet(hit["body"], _spans(s, hit.docnum, words),
                                               hit.get("summary", ""))))
