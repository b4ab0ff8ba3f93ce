"""Reading Markdown files with YAML front matter from the content folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import yaml
from flask import current_app
from markupsafe import Markup

from portal import markup
from portal.db import writing
from portal.i18n import pick_version


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class Problem:
    """Something wrong with a content file: which file (relative to the folder) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ContentProblems(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class Loader:
    name: str
    load: Callable[[str], tuple[object, list[Problem]]]  # content dir → (plan, problems)
    apply: Callable[[object], dict[str, dict[str, int]]]  # plan → counts; no commit


_LOADERS: list[Loader] = []
_NOTES: list[str] = []  # what the last sync reported besides its counts (conflicts, …)


def note(message: str) -> None:
    """A loader's remark for whoever runs the sync (printed by ``flask content sync``): a
    conflict between a changed file and a staff edit, a removed file left alone."""
    _NOTES.append(message)


def notes() -> list[str]:
    """The remarks of the last sync in this process."""
    return list(_NOTES)


def register_loader(name: str, load: Callable, apply: Callable) -> None:
    """A feature that keeps content in the database says how to read and apply it."""
    if all(loader.name != name for loader in _LOADERS):
        _LOADERS.append(Loader(name, load, apply))


def sync(content_dir: str | None = None) -> dict[str, dict[str, int]]:
    """Load the whole content folder into the database, all or nothing.

    Every loader reads and checks first; if any file has a problem, nothing is written and
    ``ContentProblems`` lists them all.  Otherwise every change is applied and committed in
    one unit of work, with the index jobs for the records that changed.
    """
    folder = content_dir or current_app.config["CONTENT_DIR"]
    plans, problems = [], []
    for loader in _LOADERS:
        plan, found = loader.load(folder)
        plans.append((loader, plan))
        problems.extend(found)
    if problems:
        raise ContentProblems(problems)
    _NOTES.clear()
    counts: dict[str, dict[str, int]] = {}
    with writing():
        for loader, plan in plans:
            counts.update(loader.apply(plan))
    return counts


def split_front_matter(text: str) -> tuple[dict, str]:
    """``---\\nyaml\\n---\\nbody`` → (meta, body); a file without front matter has meta {}."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ContentError("front matter is not closed with a line '---'")
    try:
        meta = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError as err:
        raise ContentError(f"front matter is not valid YAML: {err}") from None
    if not isinstance(meta, dict):
        raise ContentError("front matter must be a mapping")
    return meta, parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""


def content_path(*parts: str) -> str:
    return os.path.join(current_app.config["CONTENT_DIR"], *parts)


@dataclass(frozen=True)
class Page:
    """A page of ``content/pages``: its front matter, its body rendered (with the table of
    contents), and the language it was found in."""

    meta: dict
    html: Markup
    toc: list[dict]
    lang: str


def read_page(name: str, locale: str) -> Page | None:
    """The page ``content/pages/<name>.<locale>.md``, rendered once per version of the file
    (its modification time and size) and kept in memory: a request never renders it again.

    Falls back to the other language when this one is missing; None when neither exists.
    """
    found = {lang: path for lang in current_app.config["LANGUAGES"]
             if os.path.exists(path := content_path("pages", f"{name}.{lang}.md"))}
    lang, path = pick_version(found, locale)
    if path is None:
        return None
    try:
        stat = os.stat(path)
        version = (stat.st_mtime_ns, stat.st_size, markup.VERSION)
        cached = _pages.get(path)
        if cached is None or cached[0] != version:
            with open(path, encoding="utf-8") as fh:
                meta, body = split_front_matter(fh.read())
            html, toc = markup.render_with_toc(body)  # a trusted file: rendered in-process
            _pages[path] = cached = (version, meta, html, toc)
    except (OSError, UnicodeDecodeError, ContentError) as err:
        # An edit broke the file: keep serving the last version that read (health says so).
        current_app.logger.error("content page %s: %s", path, err)
        cached = _pages.get(path)
        if cached is None:
            return None
    _version, meta, html, toc = cached
    return Page(meta, html, toc, lang)


_pages: dict[str, tuple[tuple, dict, Markup, list[dict]]] = {}  # path → the last good version


def page_problems() -> list[Problem]:
    """The pages in ``content/pages/`` that do not read (for ``/healthz``)."""
    folder = content_path("pages")
    problems = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".md"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    split_front_matter(fh.read())
            except (OSError, UnicodeDecodeError, ContentError) as err:
                problems.append(Problem(f"pages/{name}", str(err)))
    return problems
