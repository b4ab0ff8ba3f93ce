"""Readable differences between two versions of a text, for people (not ``---/+++``).

``rows(old, new)`` compares paragraph by paragraph (lines), then word by word inside a
changed paragraph: a Chinese character is a word, a run of letters or digits is a word, and
so is each other character.  The result is a list of side-by-side rows, each with its old and
its new side as segments ``(text, changed)``; templates mark the changed segments
(``<del>``/``<ins>``) with the ``diff`` macro of ``portal/templates/macros.html``.

The work is bounded: a paragraph pair longer than ``WORDS_MAX`` words is shown as replaced
whole, so a pasted book cannot make a request slow."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

WORDS_MAX = 4000
_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+|\s+|.", re.S)

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"


@dataclass
class Row:
    kind: str  # same, changed, added, removed
    old: list[tuple[str, bool]] = field(default_factory=list)
    new: list[tuple[str, bool]] = field(default_factory=list)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _words(old: str, new: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    a, b = words(old), words(new)
    if len(a) + len(b) > WORDS_MAX:
        return [(old, True)], [(new, True)]
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(("".join(a[i1:i2]), op != "equal"))
        if j2 > j1:
            right.append(("".join(b[j1:j2]), op != "equal"))
    return left, right


def rows(old: str, new: str) -> list[Row]:
    """Side-by-side rows from ``old`` to ``new`` (either may be empty)."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    out: list[Row] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(Row(SAME, [(line, False)], [(line, False)]) for line in a[i1:i2])
            continue
        pairs = max(i2 - i1, j2 - j1)
        for k in range(pairs):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            if left is None:
                out.append(Row(ADDED, [], [(right, True)]))
            elif right is None:
                out.append(Row(REMOVED, [(left, True)], []))
            else:
                out.append(Row(CHANGED, *_words(left, right)))
    # Blank lines between paragraphs say nothing in a comparison.
    return [row for row in out if any(text.strip() for text, _ in (*row.old, *row.new))]


def changed(old: str, new: str) -> bool:
    return (old or "") != (new or "")
