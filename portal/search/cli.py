import click
from flask import current_app
from flask.cli import AppGroup

from portal.jobs.services import work
from portal.search import indexing

search_cli = AppGroup("search", help="The site search index.")


@search_cli.command("rebuild")
def rebuild():
    """Build a fresh index from the database and put it live (the Whoosh backend writes a new
    directory beside the live one; the PostgreSQL backend replaces the rows in one
    transaction)."""
    backend = current_app.config["SEARCH_BACKEND"]
    # The number of documents is known only at the end: the bar counts them as they come.
    with click.progressbar(iter(()), label=f"search index ({backend})", show_pos=True) as bar:
        count = indexing.rebuild(progress=bar.update)
    click.echo(f"search index rebuilt: {count} documents")


@search_cli.command("sync")
def sync():
    """Run the index jobs that are due now (what the job worker does for them)."""
    done = work(burst=True, schedule=False, only={indexing.INDEX_JOB})
    click.echo(f"search index synced: {done} records updated, {indexing.pending()} waiting")
