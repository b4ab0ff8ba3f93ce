"""Turning what people type into results: no query syntax, any text is safe.

The text is split into Chinese runs and Latin words.  Each piece matches through its words
(title above body) or, for Chinese, through all of its character pairs (lower).  Pieces are
OR-ed, with documents that match more pieces ranked higher, so a mixed query like
``垃圾分类 recycling`` finds articles in either language.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from whoosh import collectors
from whoosh.analysis import Token
from whoosh.highlight import (FIRST, BasicFragmentScorer, HtmlFormatter, PinpointFragmenter,
                              top_fragments)
from whoosh.query import And, NullQuery, Or, Term
from whoosh.reading import TermNotFound

from portal.search.analysis import bigram_analyzer, chunks, is_han, mixed_analyzer, terms
from portal.search.index import searcher

MAX_QUERY_LENGTH = 200
MAX_PAGE = 500
PER_PAGE = 10
TIME_LIMIT = 0.5  # seconds; a pathological query returns what it found by then


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


def build_query(text: str):
    mixed, bigrams = mixed_analyzer(), bigram_analyzer()
    pieces = []
    for piece in dict.fromkeys(chunks(text)):
        words = terms(piece, mixed)
        options = []
        if words:
            options.append(And([Or([Term("title", w), Term("body", w)]) for w in words]))
        if is_han(piece):
            pairs = terms(piece, bigrams)
            if pairs:
                options.append(And([Or([Term("title_bi", p), Term("body_bi", p)])
                                    for p in pairs]))
        if options:
            pieces.append(Or(options))
    if not pieces:
        return NullQuery
    return Or(pieces, scale=0.9)


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
            postings = s.postings("body", word)
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
    return Markup(escape(fallback))


def search(text: str | None, kind: str | None = None, lang: str | None = None,
           page: int = 1, per_page: int = PER_PAGE) -> ResultPage:
    query_text = clean(text)
    if len(query_text) > MAX_QUERY_LENGTH:
        raise QueryError("too_long")
    if not 1 <= page <= MAX_PAGE:
        raise QueryError("bad_page")
    result = ResultPage(query=query_text, page=page, per_page=per_page)
    query = build_query(query_text)
    if query is NullQuery:
        return result
    with searcher() as s:
        _collect(s, query, kind, lang, result)
    return result


def _collect(s, query, kind: str | None, lang: str | None, result: ResultPage) -> None:
    page, per_page = result.page, result.per_page
    # Filters go into the query with no weight: whoosh 2.7.4's FilterCollector is bypassed
    # under a TimeLimitCollector, and its Require() scores every match as 0 (dropping hits).
    filters = [Term("kind", kind, boost=0.0)] if kind else []
    if lang:
        filters.append(Term("lang", lang, boost=0.0))
    if filters:
        query = And([query, *filters])
    inner = s.collector(limit=page * per_page)
    timed = collectors.TimeLimitCollector(inner, timelimit=TIME_LIMIT, use_alarm=False)
    try:
        s.search_with_collector(query, timed)
    except collectors.TimeLimit:
        result.timed_out = True
    results = timed.results()
    words = sorted({text for field, text in query.iter_all_terms() if field == "body"})
    result.total = results.estimated_length() if result.timed_out else len(results)
    start = (page - 1) * per_page
    for hit in results[start:start + per_page]:
        result.hits.append(Hit(kind=hit["kind"], id=hit["id"], lang=hit["lang"],
                               title=hit["title"], url=hit["url"],
                               snippet=_snippet(s, hit.docnum, hit["body"], words,
                                                hit.get("summary", ""))))
