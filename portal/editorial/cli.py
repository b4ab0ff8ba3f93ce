"""``flask content export DIR``: the published content written back as content files."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.editorial import services


@click.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@with_appcontext
def content_export(folder):
    """Write the published articles and pages to FOLDER (learn/ and pages/, one file per
    language, front matter and Markdown); a content sync from a copy of the content folder
    holding them reproduces the site."""
    written = services.export(folder)
    click.echo(f"exported: {written} file(s) to {folder}")
