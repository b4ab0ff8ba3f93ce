"""Text analysis for Chinese and English, written for this portal.

* ``MixedTokenizer``: Chinese runs are segmented with jieba; at index time the dictionary
  sub-words of longer words (垃圾分类 → 垃圾, 分类) are added *at the same position* so that
  phrase positions stay those of the words (jieba's own ChineseAnalyzer breaks phrases).
  At query time only the precise segmentation is used.  Latin words are lower-cased and
  stemmed with Porter2 ("recycling" and "recycle" both become "recycl").  Stop words of both
  languages are dropped.
* ``BigramTokenizer``: overlapping character pairs of Chinese runs, a fallback field that
  matches words jieba segments differently (ranked lower: bigrams also match across word
  boundaries).

jieba loads its dictionary (~0.5 s, ~80 MB) lazily, once per process.
"""

from __future__ import annotations

import logging
import os
import re
import threading

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter2 import stem

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CHUNK = re.compile(rf"[{HAN}]+|[0-9A-Za-z\u00c0-\u024f]+")
HAN_RUN = re.compile(rf"[{HAN}]+")

ENGLISH_STOP = frozenset("""a an and are as at be but by for from has have in is it its of on
or that the this to was were will with""".split())
CHINESE_STOP = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 把 被 对 从 这 那 着 之 其 等".split())

_jieba = None
_jieba_lock = threading.Lock()
USER_DICT = os.path.join(os.path.dirname(__file__), "userdict.txt")


def segmenter():
    """The process-wide jieba tokenizer with our domain dictionary, loaded on first use."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba  # noqa: PLC0415 (slow to import: ~0.15 s; loaded on first use)

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                with open(USER_DICT, "rb") as fh:  # jieba leaves a path's file open
                    tokenizer.load_userdict(fh)
                _jieba = tokenizer
    return _jieba


def is_han(text: str) -> bool:
    return bool(HAN_RUN.fullmatch(text))


def latin_term(word: str) -> str:
    return stem(word.lower())


def _token(t: Token, text: str, pos: int, start: int, end: int, positions: bool,
           chars: bool, keeporiginal: bool) -> Token:
    t.text = text
    t.boost = 1.0
    t.stopped = False
    if keeporiginal:
        t.original = text
    if positions:
        t.pos = pos
    if chars:
        t.startchar, t.endchar = start, end
    return t


class MixedTokenizer(Tokenizer):
    """jieba words (+ sub-words at index time) for Chinese, stemmed words for Latin text."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            yield _token(t, value, start_pos, start_char, start_char + len(value), positions,
                         chars, keeporiginal)
            return
        pos = start_pos
        index_mode = mode != "query"
        for match in CHUNK.finditer(value):
            chunk, offset = match.group(), start_char + match.start()
            if not is_han(chunk):
                word = chunk.lower()
                if word not in ENGLISH_STOP:
                    yield _token(t, latin_term(word), pos, offset, offset + len(chunk),
                                 positions, chars, keeporiginal)
                pos += 1
                continue
            jieba = segmenter()
            for word, start, end in jieba.tokenize(chunk, HMM=True):
                if word in CHINESE_STOP:
                    pos += 1
                    continue
                begin = offset + start
                yield _token(t, word, pos, begin, offset + end, positions, chars, keeporiginal)
                if index_mode:
                    for n in (2, 3):
                        if len(word) <= n:
                            continue
                        for i in range(len(word) - n + 1):
                            sub = word[i:i + n]
                            if jieba.FREQ.get(sub):
                                yield _token(t, sub, pos, begin + i, begin + i + n, positions,
                                             chars, keeporiginal)
                pos += 1


class BigramTokenizer(Tokenizer):
    """Overlapping pairs of Chinese characters; a lone character stands for itself."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in HAN_RUN.finditer(value):
            run, offset = match.group(), start_char + match.start()
            if len(run) == 1:
                yield _token(t, run, pos, offset, offset + 1, positions, chars, keeporiginal)
                pos += 1
                continue
            for i in range(len(run) - 1):
                yield _token(t, run[i:i + 2], pos, offset + i, offset + i + 2, positions, chars,
                             keeporiginal)
                pos += 1


def mixed_analyzer():
    return MixedTokenizer()


def bigram_analyzer():
    return BigramTokenizer()


def terms(text: str, analyzer, mode: str = "query") -> list[str]:
    """The distinct terms ``analyzer`` makes of ``text``, in order."""
    seen: dict[str, None] = {}
    for tok in analyzer(text, mode=mode):
        seen.setdefault(tok.text, None)
    return list(seen)


def chunks(text: str) -> list[str]:
    """A query split into Chinese runs and Latin words."""
    return CHUNK.findall(text)
