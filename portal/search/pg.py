"""The PostgreSQL backend (``SEARCH_BACKEND=postgresql``): the index is a table of the site's
own database, so every app server searches the same index and it replicates (and is backed
up) with the database.

``portal_search.documents`` holds one row per document (a record in one language): what a
hit shows (title, url, summary, the stored body for snippets), the filters (kind, lang), and
the same analysis as the Whoosh backend's (``portal.search.analysis``: jieba words with their
dictionary sub-words, Porter2-stemmed Latin words, Chinese character pairs) as ``tsvector``
columns made with the ``simple`` configuration, which only lower-cases: PostgreSQL's own
stemming and stop words stay out of it, our analyser already did that.

* ``words``: the words of the title (weight A) and of the body (B); ``pairs``: the character
  pairs of the title (A) and the body (B) — two columns, so that neither kind of match needs
  a weight-restricted query (which makes GIN re-check every row).
* ``tier1`` ⊂ ``tier2`` ⊂ ``tier3``: the words of the title and those the body has at least
  5, 3 or 2 times — tier 1 with their positions, kept in the row itself (``STORAGE MAIN``,
  ~200 bytes) because it is ranked; the others as bare lexemes — and ``length``, the
  number of words of title and body.
* ``spans``: where each word of the body is (``{word: [start, end, start, end, …]}``), so
  that snippets are cut from the stored body by the same function as Whoosh's, from offsets
  found at index time (``ts_headline`` does not know jieba's words).

Every tsvector has a GIN index.  Ranking every match with ``ts_rank_cd`` means reading every
match's whole vector (thousands of TOAST fetches for a common word), so the order is tiered
(an impact-ordered index, the "champion lists" of the IR textbooks): documents with the words
in their title or at least 5 times come first, then 3 times, then twice, then the rest;
``ts_rank_cd`` orders each tier, and only the smallest tier that fills the page asked for is
ranked (counting a tier is a GIN scan); tier 1 is ranked from its own vector, which gives
the same rank for a piece's words as the whole vector, without a TOAST read.  In the last
group (each word once) the order is ``ts_rank_cd`` when the query has at most
``EXACT_LIMIT`` matches, else shorter documents first (for a word found once that is
``ts_rank_cd``'s own order).  Rows keep only small columns in the table itself
(``toast_tuple_target``), so counting matches stays cheap.  The planner is told to use the
GIN indexes even for a small table (it does not know that testing a row's vector in a
sequential scan is a TOAST read) and to plan each search for its words.

The tables live in their own schema, made by migration 0012 on PostgreSQL only (they are not
part of the models' metadata: derived data, rebuilt by ``flask search rebuild``).
``portal_search.meta`` records the analysis version the rows were made with.

Writes take a transaction-level advisory lock: index jobs share it, a rebuild holds it alone
(one transaction: readers see the old index until it commits), so a job never writes rows the
rebuild then replaces with an older state.  A job waits at most ``WRITE_TIMEOUT_MS`` for a
rebuild and is tried again later.
"""

from __future__ import annotations

import functools
import time
import zlib
from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert

from portal.db import discard, utcnow, writing
from portal.extensions import db
from portal.search.analysis import bigram_analyzer, mixed_analyzer
from portal.search.registry import Document
from portal.search.results import Hit, Piece, ResultPage, needs_pairs, snippet, snippet_words

SCHEMA = "portal_search"
#: The analysis the rows were made with; bump it (like index.SCHEMA_VERSION) when
#: ``analysis`` or the columns' content change: the hourly catch-up then rebuilds.
SCHEMA_VERSION = "1"
LOCK_KEY = zlib.crc32(b"portal_search.documents")  # the advisory lock of index writes
WRITE_TIMEOUT_MS = 10_000  # how long an index job waits for a rebuild's lock
BATCH = 200  # rows per INSERT during a rebuild

#: The tiers: a word of the title, or one the body has at least this many times.
TIERS = (5, 3, 2)
#: Up to this many matches the last group is ordered by ts_rank_cd too.
EXACT_LIMIT = 200
#: ts_rank_cd's weights for {D, C, B, A}; words and pairs in the proportions of the Whoosh
#: fields' boosts: title words 4, body words 1, title pairs 1.5, body pairs 0.4.
WORD_WEIGHTS = "{0,0,0.25,1}"
PAIR_WEIGHTS = "{0,0,0.1,0.375}"
#: ts_rank_cd's normalisation: 1 divides by 1 + log(document length), so a long text does
#: not win by length alone (BM25's length normalisation does that for Whoosh).
NORMALIZATION = 1

metadata = sa.MetaData(schema=SCHEMA)
TIER_COLUMNS = tuple(f"tier{n}" for n in range(1, len(TIERS) + 1))

documents = sa.Table(
    "documents", metadata,
    sa.Column("key", sa.Text, primary_key=True),  # kind:id:lang
    sa.Column("record", sa.Text, nullable=False, index=True),  # kind:id
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("record_id", sa.Text, nullable=False),
    sa.Column("lang", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("length", sa.Integer, nullable=False),
    sa.Column("words", TSVECTOR, nullable=False),
    sa.Column("pairs", TSVECTOR, nullable=False),
    *(sa.Column(name, TSVECTOR, nullable=False) for name in TIER_COLUMNS),
    sa.Column("spans", JSONB, nullable=False),
)

meta = sa.Table(
    "meta", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


# -- documents into rows ---------------------------------------------------------------------

def row(doc: Document) -> dict:
    """A document as the values of its row: each field's analysed text as tokens separated
    by spaces (``to_tsvector('simple', …)`` keeps each token as it is: tested), the tiers'
    words, and the character offsets of the body's words."""
    mixed, bigrams = mixed_analyzer(), bigram_analyzer()
    body_words, spans = [], {}
    for tok in mixed(doc.body, chars=True, mode="index"):  # one Token, reused: read it now
        body_words.append(tok.text)
        spans.setdefault(tok.text, []).extend((tok.startchar, tok.endchar))
    title_words = [t.text for t in mixed(doc.title, mode="index")]
    often = Counter(body_words)
    tiers = [set(title_words) | {w for w, n in often.items() if n >= least} for least in TIERS]
    return {
        "key": doc.key, "record": doc.record, "kind": doc.kind, "record_id": doc.id,
        "lang": doc.lang, "url": doc.url, "summary": doc.summary, "title": doc.title,
        "body": doc.body, "length": len(title_words) + len(body_words), "spans": spans,
        "title_words": " ".join(title_words), "body_words": " ".join(body_words),
        "title_pairs": " ".join(t.text for t in bigrams(doc.title, mode="index")),
        "body_pairs": " ".join(t.text for t in bigrams(doc.body, mode="index")),
        # tier 1 keeps its words' positions (it is ranked); the others are lexemes only
        "tier1_drop": sorted((set(title_words) | set(often)) - tiers[0]),
        **{name: " ".join(sorted(words)) for name, words in zip(TIER_COLUMNS[1:], tiers[1:],
                                                                strict=True)},
    }


def _vector(param: str):
    return sa.func.to_tsvector(sa.literal_column("'simple'"), sa.bindparam(param, type_=sa.Text))


def _weighted(title: str, body: str):
    return (sa.func.setweight(_vector(title), sa.literal_column("'A'"))
            .op("||")(sa.func.setweight(_vector(body), sa.literal_column("'B'"))))


PLAIN = ("key", "record", "kind", "record_id", "lang", "url", "summary", "title", "body",
         "length", "spans")


def _upsert():
    values = {name: sa.bindparam(name, type_=documents.c[name].type) for name in PLAIN}
    values["words"] = _weighted("title_words", "body_words")
    values["pairs"] = _weighted("title_pairs", "body_pairs")
    values["tier1"] = sa.func.ts_delete(_weighted("title_words", "body_words"),
                                        sa.bindparam("tier1_drop", type_=sa.ARRAY(sa.Text)))
    for name in TIER_COLUMNS[1:]:
        values[name] = sa.func.strip(_vector(name))
    stmt = pg_insert(documents).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=[documents.c.key],
        set_={name: stmt.excluded[name] for name in values if name != "key"})


UPSERT = _upsert()


def _write(session, rows: list[dict]) -> None:
    if rows:
        session.execute(UPSERT, rows)


def _version(session) -> str | None:
    return session.scalar(sa.select(meta.c.value).where(meta.c.name == "schema_version"))


# -- the backend -----------------------------------------------------------------------------

def has_index() -> bool:
    """Has the table been filled by a rebuild with the current analysis?"""
    return _version(db.session) == SCHEMA_VERSION


def check() -> int:
    """The number of documents in the index (raises if there is none or it is unreadable)."""
    try:
        if not has_index():
            raise LookupError("no search index: run `flask search rebuild`")
        return db.session.scalar(sa.select(sa.func.count()).select_from(documents))
    except sa.exc.DBAPIError:
        discard()  # a failed read leaves the transaction unusable
        raise


def close() -> None:
    """Nothing to close: the index is read through the app's database connections."""


def build(docs: Iterable[Document]) -> int:
    """Replace every row by ``docs`` in one transaction (searches see the previous index
    until it commits), then mark the index as built with the current analysis."""
    count = 0
    with writing() as uow:
        session = uow.session
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))  # waits for jobs
        session.execute(sa.delete(documents))
        batch = []
        for doc in docs:
            batch.append(row(doc))
            count += 1
            if len(batch) >= BATCH:
                _write(session, batch)
                batch = []
        _write(session, batch)
        for name, value in (("schema_version", SCHEMA_VERSION),
                            ("built_at", utcnow().isoformat())):
            stmt = pg_insert(meta).values(name=name, value=value)
            session.execute(stmt.on_conflict_do_update(index_elements=[meta.c.name],
                                                       set_={"value": stmt.excluded.value}))
    return count


def apply(record: str, docs: list[Document]) -> None:
    """Replace the record's rows by ``docs`` (none: it leaves).  Raises when the index
    cannot be written now (a rebuild holds it longer than ``WRITE_TIMEOUT_MS``)."""
    rows = [row(doc) for doc in docs]  # slow pure work before the unit of work
    with writing() as uow:
        session = uow.session
        session.execute(sa.text(f"SET LOCAL lock_timeout = {int(WRITE_TIMEOUT_MS)}"))
        session.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(LOCK_KEY)))
        if _version(session) != SCHEMA_VERSION:
            return  # no index of this analysis yet: the next rebuild will include the record
        session.execute(sa.delete(documents).where(
            documents.c.record == record, documents.c.key.not_in([r["key"] for r in rows])))
        _write(session, rows)


# -- queries ---------------------------------------------------------------------------------

def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(pieces: list[Piece], field: str) -> str | None:
    """``to_tsquery`` text matching the pieces through ``field`` ("words" or "pairs"): all
    of a piece's words (or pairs), any piece."""
    options = [" & ".join(_lexeme(t) for t in getattr(piece, field))
               for piece in pieces if getattr(piece, field)]
    return " | ".join(f"( {o} )" for o in options) or None


def _q(name: str):
    return sa.func.to_tsquery(sa.literal_column("'simple'"), sa.bindparam(name, type_=sa.Text))


# The statements have few shapes (which fields, which filters, which tier): each is built
# once, with every value a bound parameter, so building and compiling it is not paid again.

def _filters(t, kind: bool, lang: bool) -> list:
    return ([t.c.kind == sa.bindparam("kind", type_=sa.Text)] if kind else []) + (
        [t.c.lang == sa.bindparam("lang", type_=sa.Text)] if lang else [])


def _match(t, words: bool, pairs: bool):
    return sa.or_(*(t.c[field].op("@@")(_q(field))
                    for field, used in (("words", words), ("pairs", pairs)) if used))


def _tiers(t, words: bool) -> list:
    """Tiers are of words: a document found through character pairs only is in none."""
    return [t.c[name].op("@@")(_q("words")) for name in TIER_COLUMNS] if words else []


def _rank_of(t, vector: str, query: str, weights: str):
    """``ts_rank_cd`` normalised by the document's length: with ``length`` the number of the
    document's words this is ts_rank_cd's own normalisation 1 (divided by log2(length + 1)),
    also when ``vector`` is tier 1, which holds only some of the words."""
    rank = sa.func.ts_rank_cd(sa.literal_column(f"'{weights}'::real[]"), t.c[vector],
                              _q(query), sa.literal_column("0"))
    return rank / (sa.func.ln(t.c.length + 1) / sa.func.ln(2))


def _rank(t, words: bool, pairs: bool, in_tier1=None):
    """Tier 1 is ranked from its own small vector (in the row: no TOAST read), the other
    documents from the words vector; then the pairs, when they take part."""
    ranks = []
    if words:
        ranks.append(_rank_of(t, "tier1", "words", WORD_WEIGHTS) if in_tier1 is None else
                     sa.case((in_tier1, _rank_of(t, "tier1", "words", WORD_WEIGHTS)),
                             else_=_rank_of(t, "words", "words", WORD_WEIGHTS)))
    if pairs:
        ranks.append(sa.func.ts_rank_cd(sa.literal_column(f"'{PAIR_WEIGHTS}'::real[]"),
                                        t.c.pairs, _q("pairs"), NORMALIZATION))
    return sum(ranks[1:], ranks[0])


@functools.cache
def counts_statement(words: bool, pairs: bool, kind: bool, lang: bool):
    """Both phases' counts: documents matching through words (``total``), in each tier up
    to the first that holds ``need`` documents (later ones NULL, never counted), and — only
    when the words match fewer than ``need`` — through words or pairs (``with_pairs``)."""
    def count(condition):
        return (sa.select(sa.func.count()).select_from(documents)
                .where(condition, *_filters(documents, kind, lang)).scalar_subquery())

    need = sa.bindparam("need", type_=sa.Integer)
    tiers = _tiers(documents, words)
    counted = sa.select(
        (count(_match(documents, True, False)) if words else sa.literal(0)).label("total"),
        *([count(tiers[0]).label("t0")] if tiers else [])).subquery("c0")
    for n in range(1, len(tiers)):
        before = counted.c[f"t{n - 1}"]
        counted = sa.select(counted, sa.case((sa.func.coalesce(before, need) >= need, None),
                                             else_=count(tiers[n])).label(f"t{n}")
                            ).subquery(f"c{n}")
    if pairs:
        counted = sa.select(counted, sa.case(
            (counted.c.total >= need, None),
            else_=count(_match(documents, words, True))).label("with_pairs")).subquery("cp")
    return sa.select(counted)


@functools.cache
def page_statement(words: bool, pairs: bool, kind: bool, lang: bool, chosen: int,
                   by_length: bool):
    """One page in the order: tier by tier, ``ts_rank_cd`` within each, ranking only tier
    ``chosen`` (the smallest that holds the page; past the last tier, every match).  With
    ``by_length`` the last group (each word once) goes by length instead."""
    d = documents

    def in_tier(n: int):  # as a hashed subplan: no row's vector is read for it
        inner = documents.alias("tiered")
        keys = sa.select(inner.c.key).where(_tiers(inner, words)[n],
                                            *_filters(inner, kind, lang))
        return d.c.key.in_(keys)

    tiers = _tiers(d, words)
    order = [in_tier(n).desc() for n in range(chosen)]
    rank = _rank(d, words, pairs, in_tier(0) if chosen and tiers else None)
    if chosen < len(tiers):
        scan = tiers[chosen]
    else:  # the last group too: every match
        scan = _match(d, words, pairs)
        if by_length:
            rank = sa.case((in_tier(chosen - 1) if tiers else sa.false(), rank),
                           else_=-sa.cast(d.c.length, sa.REAL))
    word = sa.func.unnest(sa.bindparam("snippet_words", type_=sa.ARRAY(sa.Text))
                          ).table_valued("w").render_derived()
    spans = (sa.select(sa.func.jsonb_object_agg(word.c.w, d.c.spans.op("->")(word.c.w)))
             .where(d.c.spans.has_key(word.c.w)).scalar_subquery())
    return (sa.select(d.c.kind, d.c.record_id, d.c.lang, d.c.title, d.c.url, d.c.summary,
                      d.c.body, spans.label("spans"))
            .where(scan, *_filters(d, kind, lang))
            .order_by(*order, rank.desc(), d.c.key)
            .limit(sa.bindparam("limit", type_=sa.Integer))
            .offset(sa.bindparam("offset", type_=sa.Integer)))


def _collect(conn, pieces: list[Piece], kind, lang, result: ResultPage) -> None:
    """Words first; character pairs join in when the words match fewer documents than the
    page asked for needs (as ``needs_pairs`` for Whoosh), decided from one count."""
    words, pairs = tsquery(pieces, "words"), tsquery(pieces, "pairs")
    params = {"words": words, "pairs": pairs, "kind": kind, "lang": lang,
              "snippet_words": snippet_words(pieces), "limit": result.per_page,
              "offset": (result.page - 1) * result.per_page,
              "need": result.page * result.per_page}
    counts = conn.execute(counts_statement(words is not None, pairs is not None, bool(kind),
                                           bool(lang)), params).one()._mapping
    result.total = counts["total"]
    with_pairs = needs_pairs(pieces, result)
    if with_pairs:
        result.total = counts["with_pairs"]
    if params["offset"] >= result.total:
        return
    tiers = [counts[f"t{n}"] for n in range(len(TIERS))] if words else []
    chosen = next((n for n, count in enumerate(tiers) if count is not None and
                   count >= params["need"]), len(tiers))
    by_length = chosen == len(tiers) and result.total > EXACT_LIMIT
    shape = (words is not None, with_pairs, bool(kind), bool(lang))
    rows = conn.execute(page_statement(*shape, chosen, by_length), params).all()
    for r in rows:
        spans = [(w, offsets[i], offsets[i + 1]) for w, offsets in (r.spans or {}).items()
                 for i in range(0, len(offsets), 2)]
        result.hits.append(Hit(kind=r.kind, id=r.record_id, lang=r.lang, title=r.title,
                               url=r.url, snippet=snippet(r.body, spans, r.summary)))


def search(pieces: list[Piece], kind: str | None, lang: str | None, result: ResultPage,
           time_limit: float) -> ResultPage:
    """Run the search under a statement timeout, in a savepoint that is always rolled back
    (reads only: it undoes the settings, and a cancelled statement with them)."""
    conn = db.session.connection()
    start = time.perf_counter()
    savepoint = conn.begin_nested()
    try:
        # Each search is planned for its own words (a generic plan, which psycopg's prepared
        # statements get after five runs, cannot see how many rows a tsquery matches), and
        # through the GIN indexes even when the table is small: the planner does not count
        # the TOAST reads that testing each row's vector in a sequential scan costs.
        conn.execute(sa.select(*(sa.func.set_config(name, value, True) for name, value in (
            ("statement_timeout", str(max(1, int(time_limit * 1000)))),
            ("plan_cache_mode", "force_custom_plan"), ("enable_seqscan", "off")))))
        _collect(conn, pieces, kind, lang, result)
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != "57014":  # query_canceled
            raise
        result.hits.clear()
        result.timed_out = True
    finally:
        savepoint.rollback()
    if time.perf_counter() - start >= time_limit:
        result.timed_out = True
    return result
