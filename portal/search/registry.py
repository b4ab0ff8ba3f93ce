from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """One searchable record in one language.  ``key`` is unique: "<kind>:<id>:<lang>"."""

    kind: str
    id: str
    lang: str
    title: str
    body: str
    url: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}:{self.lang}"


@dataclass(frozen=True)
class Source:
    kind: str
    documents: Callable[[], Iterable[Document]]


_SOURCES: dict[str, Source] = {}


def register_source(kind: str, documents: Callable[[], Iterable[Document]]) -> None:
    """A feature says: records of ``kind`` are searchable; ``documents()`` yields them all."""
    _SOURCES[kind] = Source(kind, documents)


def sources() -> list[Source]:
    return list(_SOURCES.values())
