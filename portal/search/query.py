"""Turning what people type into results: no query syntax, any text is safe.

The text is split into Chinese runs and Latin words.  Each piece matches through its words
(title above body) or, for Chinese, through all of its character pairs (lower; used when the
words alone do not fill the page).  Pieces are
OR-ed (a document matching more pieces scores higher), so a mixed query like
``垃圾分类 recycling`` finds articles in either language.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from whoosh import collectors
from whoosh.analysis import Token
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    HtmlFormatter,
    PinpointFragmenter,
    top_fragments,
)
from whoosh.query import And, NullQuery, Or, Term
from whoosh.reading import TermNotFound

from portal.search.analysis import bigram_analyzer, chunks, is_han, mixed_analyzer, terms
from portal.search.index import searcher

MAX_QUERY_LENGTH = 200
MAX_PAGE = 500
PER_PAGE = 10
TIME_LIMIT = 0.3  # seconds; a pathological query returns what it found by then


class QueryError(ValueError):
    """The query cannot be run; ``code`` says why (the view translates it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Hit:
    kind: str
    id: str
    lang: str
    title: str
    url: str
    snippet: Markup


@dataclass
class ResultPage:
    query: str
    page: int
    per_page: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    timed_out: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def clean(text: str | None) -> str:
    """Drop control and format characters, normalise width and spacing."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def build_query(text: str, with_pairs: bool = True):
    mixed, bigrams = mixed_analyzer(), bigram_analyzer()
    pieces = []
    for piece in dict.fromkeys(chunks(text)):
        words = terms(piece, mixed)
        options = []
        if words:
            options.append(And([Or([Term("title", w), Term("body", w)]) for w in words]))
        if with_pairs and is_han(piece):
            pairs = terms(piece, bigrams)
            if pairs:
                options.append(And([Or([Term("title_bi", p), Term("body_bi", p)])
                                    for p in pairs]))
        if options:
            pieces.append(Or(options))
    if not pieces:
        return NullQuery
    # A plain Or already sums the scores of the pieces a document matches; Or(scale=…) would
    # add a coordination factor at about twice the cost per match (measured in bench/).
    return Or(pieces).normalize()  # flattens one-child groups: fewer matcher layers


FRAGMENTER = PinpointFragmenter(maxchars=120, surround=40, autotrim=True)
FORMATTER = HtmlFormatter(tagname="mark", between=" … ")
SCORER = BasicFragmentScorer()


def _snippet(s, docnum: int, text: str, words: list[str], fallback: str) -> Markup:
    """Highlight ``words`` in the stored body of one hit, from the character offsets stored
    in the index (no re-tokenising).  Done only for the hits on the page shown; whoosh's own
    route to this needs a TermsCollector that records terms for *every* match."""
    tokens = []
    for word in words:
        try:
            postings = s.reader().postings("body", word)
        except TermNotFound:
            continue
        postings.skip_to(docnum)
        if postings.is_active() and postings.id() == docnum:
            for _pos, start, end in postings.value_as("characters"):
                token = Token(text=word, startchar=start, endchar=end, boost=1.0)
                token.matched = True
                tokens.append(token)
    if tokens:
        tokens.sort(key=lambda t: t.startchar)
        fragments = top_fragments(FRAGMENTER.fragment_matches(text, tokens), 2, SCORER, FIRST)
        if fragments:
            return Markup(FORMATTER(text, fragments))  # noqa: S704 (the formatter escapes)
    return escape(fallback)


def search(text: str | None, kind: str | None = None, lang: str | None = None,
           page: int = 1, per_page: int = PER_PAGE) -> ResultPage:
    query_text = clean(text)
    if len(query_text) > MAX_QUERY_LENGTH:
        raise QueryError("too_long")
    if not 1 <= page <= MAX_PAGE:
        raise QueryError("bad_page")
    result = ResultPage(query=query_text, page=page, per_page=per_page)
    words_only = build_query(query_text, with_pairs=False)
    with_pairs = build_query(query_text, with_pairs=True)
    if with_pairs is NullQuery:
        return result
    with searcher() as s:
        # Words first.  Character pairs are the fallback for words jieba splits differently:
        # they join in only when words alone cannot fill the page asked for.  (Common words
        # would otherwise pay for intersecting several huge pair lists: see bench/.)
        if words_only is not NullQuery:
            _collect(s, words_only, kind, lang, result)
        if result.total < page * per_page and with_pairs != words_only:
            result = ResultPage(query=query_text, page=page, per_page=per_page)
            _collect(s, with_pairs, kind, lang, result)
    return result


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


def _collect(s, query, kind: str | None, lang: str | None, result: ResultPage) -> None:
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
    timed = collectors.TimeLimitCollector(inner, timelimit=TIME_LIMIT, use_alarm=False)
    try:
        s.search_with_collector(query, timed)
    except collectors.TimeLimit:
        result.timed_out = True
    results = timed.results()
    words = sorted({text for field, text in query.iter_all_terms() if field == "body"})
    result.total = count(s, query)
    start = (page - 1) * per_page
    for hit in results[start:start + per_page]:
        result.hits.append(Hit(kind=hit["kind"], id=hit["id"], lang=hit["lang"],
                               title=hit["title"], url=hit["url"],
                               snippet=_snippet(s, hit.docnum, hit["body"], words,
                                                hit.get("summary", ""))))
