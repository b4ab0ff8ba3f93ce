from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """One searchable record in one language.  Only public text belongs here: never personal
    data.  ``record`` ("kind:id") groups a record's languages."""

    kind: str
    id: str
    lang: str
    title: str
    body: str
    url: str
    summary: str = ""

    @property
    def record(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}:{self.lang}"


@dataclass(frozen=True)
class Source:
    kind: str
    label: Callable[[], str]
    all_documents: Callable[[], Iterable[Document]]
    documents_for: Callable[[str], Iterable[Document]]


_SOURCES: dict[str, Source] = {}


def register_source(kind: str, label: Callable[[], str],
                    all_documents: Callable[[], Iterable[Document]],
                    documents_for: Callable[[str], Iterable[Document]]) -> None:
    """A feature says: records of ``kind`` are searchable.

    ``all_documents()`` yields every public document (for a rebuild); ``documents_for(id)``
    yields the current public documents of one record (none when it is gone or hidden);
    ``label()`` names the kind for people, in the current language.
    """
    _SOURCES[kind] = Source(kind, label, all_documents, documents_for)


def sources() -> list[Source]:
    return list(_SOURCES.values())


def source(kind: str) -> Source | None:
    return _SOURCES.get(kind)
