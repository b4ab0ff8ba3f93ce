"""``flask setup``: everything a fresh or updated installation needs, safe to run again."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

# Features add their content loaders here (``register_content_sync``); setup runs them all.
_CONTENT_SYNCS: list[tuple[str, Callable[[], str]]] = []


def register_content_sync(name: str, sync: Callable[[], str]) -> None:
    if all(n != name for n, _ in _CONTENT_SYNCS):
        _CONTENT_SYNCS.append((name, sync))


def run_content_syncs() -> list[str]:
    return [f"{name}: {sync()}" for name, sync in _CONTENT_SYNCS]


@click.command("setup")
@with_appcontext
def setup():
    """Migrate the database, load content and build the search index if it is missing."""
    from flask_migrate import upgrade

    from portal import search

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("database: migrated to the latest revision")
    for line in run_content_syncs():
        click.echo(f"content {line}")
    built = search.ensure_index()
    click.echo("search index: built" if built else "search index: present")
