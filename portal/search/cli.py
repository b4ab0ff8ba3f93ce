import click
from flask.cli import AppGroup

from portal.jobs.services import work
from portal.search import index

search_cli = AppGroup("search", help="The site search index.")


@search_cli.command("rebuild")
def rebuild():
    """Build a fresh index from the database beside the live one and swap it in."""
    count = index.rebuild()
    click.echo(f"search index rebuilt: {count} documents")


@search_cli.command("sync")
def sync():
    """Run the index jobs that are due now (what the job worker does for them)."""
    done = work(burst=True, schedule=False, only={index.INDEX_JOB})
    click.echo(f"search index synced: {done} records updated, {index.pending()} waiting")
