import click
from flask.cli import AppGroup

from portal.search import index

search_cli = AppGroup("search", help="The site search index.")


@search_cli.command("rebuild")
def rebuild():
    """Build a fresh index from the database beside the live one and swap it in."""
    count = index.rebuild()
    click.echo(f"search index rebuilt: {count} documents")
