"""Turning what people type into results: no query syntax, any text is safe.

The text is split into Chinese runs and Latin words (``plan``).  Each piece matches through
its words (title above body) or, for Chinese, through all of its character pairs (lower; used
when the words alone do not fill the page).  Pieces are OR-ed (a document matching more
pieces scores higher), so a mixed query like ``垃圾分类 recycling`` finds articles in either
language.  The backend configured (``SEARCH_BACKEND``: Whoosh files or PostgreSQL tables)
runs the plan; both give the same kind of page, hits and snippets.
"""

from __future__ import annotations

import unicodedata

from portal.search import backends
from portal.search.analysis import bigram_analyzer, chunks, is_han, mixed_analyzer, terms
from portal.search.results import Hit, Piece, ResultPage

__all__ = ["MAX_PAGE", "MAX_QUERY_LENGTH", "PER_PAGE", "TIME_LIMIT", "Hit", "Piece",
           "QueryError", "ResultPage", "clean", "plan", "search"]

MAX_QUERY_LENGTH = 200
MAX_PAGE = 500
PER_PAGE = 10
TIME_LIMIT = 0.3  # seconds; a pathological query returns what it found by then


class QueryError(ValueError):
    """The query cannot be run; ``code`` says why (the view translates it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def clean(text: str | None) -> str:
    """Drop control and format characters, normalise width and spacing."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(text.split())


def plan(text: str) -> list[Piece]:
    """The pieces of a cleaned query, each once, in order; pieces that match nothing (stop
    words of Latin text, punctuation) are left out."""
    mixed, bigrams = mixed_analyzer(), bigram_analyzer()
    pieces = []
    for chunk in dict.fromkeys(chunks(text)):
        words = tuple(terms(chunk, mixed))
        pairs = tuple(terms(chunk, bigrams)) if is_han(chunk) else ()
        if words or pairs:
            pieces.append(Piece(words, pairs))
    return pieces


def search(text: str | None, kind: str | None = None, lang: str | None = None,
           page: int = 1, per_page: int = PER_PAGE) -> ResultPage:
    query_text = clean(text)
    if len(query_text) > MAX_QUERY_LENGTH:
        raise QueryError("too_long")
    if not 1 <= page <= MAX_PAGE:
        raise QueryError("bad_page")
    result = ResultPage(query=query_text, page=page, per_page=per_page)
    pieces = plan(query_text)
    if not pieces:
        return result
    return backends.current().search(pieces, kind, lang, result, time_limit=TIME_LIMIT)

