"""Site search: the only package that imports Whoosh (and, for Chinese, jieba).

The index is derived from the database and can be rebuilt at any time.  Features register
the kinds of records they want found (``register_source``); this package imports no feature.

Layout in the instance folder::

    search/CURRENT           name of the live index directory
    search/index-<v>-<ts>/   one complete Whoosh index (schema version v)

``rebuild`` writes a complete new directory beside the live one and then swaps ``CURRENT``
atomically, so readers never see a half-built index.
"""

from __future__ import annotations

from portal.search.index import check, ensure_index, open_index, rebuild
from portal.search.registry import Document, register_source, sources

__all__ = ["Document", "check", "ensure_index", "open_index", "rebuild", "register_source",
           "sources", "init_app"]


def init_app(app) -> None:
    from portal.search.cli import search_cli

    app.cli.add_command(search_cli)
