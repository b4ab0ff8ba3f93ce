"""What both backends share: the parsed query (``Piece``), a page of results and its hits,
and the snippet made from the offsets of the matched words in a hit's stored body."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from whoosh.analysis import Token
from whoosh.highlight import BasicFragmentScorer, HtmlFormatter, PinpointFragmenter


@dataclass(frozen=True)
class Piece:
    """One Chinese run or Latin word of a query: it matches through all of its ``words``
    (title or body) or, for Chinese, through all of its character ``pairs``."""

    words: tuple[str, ...]
    pairs: tuple[str, ...] = ()


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


def snippet_words(pieces: list[Piece]) -> list[str]:
    """The words highlighted in snippets: every piece's words (never its character pairs)."""
    return sorted({w for piece in pieces for w in piece.words})


def needs_pairs(pieces: list[Piece], result: ResultPage) -> bool:
    """Words first; character pairs join in only when words alone cannot fill the page asked
    for (common words would otherwise pay for intersecting several huge pair lists)."""
    return result.total < result.page * result.per_page and any(p.pairs for p in pieces)


FRAGMENTER = PinpointFragmenter(maxchars=120, surround=40, autotrim=True)
SCORER = BasicFragmentScorer()


def formatter() -> HtmlFormatter:
    """A formatter for one snippet: it numbers the words it marks (``class="match term0"``)
    as it meets them, so a shared one would number them by the process's history."""
    return HtmlFormatter(tagname="mark", between=" … ")


def top_fragments(fragments, count: int = 2) -> list:
    """The ``count`` best-scoring fragments in text order; among equal scores the earlier
    one.  (whoosh's own ``top_fragments`` breaks ties by the fragments' memory addresses,
    so the same hit could show different text from one call to the next.)"""
    scored = [(SCORER(f), f) for f in fragments]
    best = sorted((sf for sf in scored if sf[0] >= 1), key=lambda sf: (-sf[0], sf[1].startchar))
    return sorted((f for _score, f in best[:count]), key=lambda f: f.startchar)


def snippet(text: str, spans: list[tuple[str, int, int]], fallback: str) -> Markup:
    """Up to two fragments of ``text`` around the matched words, each ``(word, start, end)``
    a character range of ``text`` (from the index: no re-tokenising); else the fallback."""
    tokens = []
    for word, start, end in spans:
        token = Token(text=word, startchar=start, endchar=end, boost=1.0)
        token.matched = True
        tokens.append(token)
    if tokens:
        tokens.sort(key=lambda t: t.startchar)
        fragments = top_fragments(FRAGMENTER.fragment_matches(text, tokens))
        if fragments:
            return Markup(formatter()(text, fragments))  # noqa: S704 (the formatter escapes)
    return escape(fallback)
