"""Walking a paged list as a browser would: follow each page's ``rel="next"`` link to the end,
counting the statements every page costs (shared by the list-page tests of schools and
households)."""

from __future__ import annotations

import html
import re

from tests.conftest import statements

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


def section(page: str, start: str, end: str | None = None) -> str:
    """The part of ``page`` from the marker ``start`` up to ``end`` (or the end)."""
    begin = page.index(start)
    return page[begin:page.index(end, begin) if end else len(page)]


def walk(app, client, path: str, items: str, part=None, limit: int = 20):
    """Every page of the list at ``path``: the ids each shows (``items``, a pattern with one
    group), the statements each cost and the links followed.  ``part(page)`` cuts the page to
    the list's own section when a page holds several lists (and several pagers)."""
    pages, costs, links = [], [], [path]
    while True:
        cost, page = statements(app, client, links[-1])
        page = part(page) if part else page
        pages.append([int(n) if n.isdigit() else n for n in re.findall(items, page)])
        costs.append(cost)
        following = NEXT.search(page)
        if following is None:
            return pages, costs, links
        links.append(html.unescape(following.group(1)))
        assert len(links) <= limit, links


def flat(pages: list[list[int]]) -> list[int]:
    return [n for page in pages for n in page]
