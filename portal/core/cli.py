"""``flask setup`` and ``flask content sync``: safe to run again and again."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade

from portal import search, stored_html
from portal.core import content
from portal.dashboard import stats
from portal.jobs import services as jobs

content_cli = AppGroup("content", help="Content files (content/).")


def _sync_or_fail() -> None:
    try:
        counts = content.sync()
    except content.ContentProblems as err:
        for problem in err.problems:
            click.echo(f"error: {problem}", err=True)
        raise click.ClickException(
            f"{len(err.problems)} problem(s) in {current_app.config['CONTENT_DIR']}; "
            "nothing was imported") from None
    for name, c in counts.items():
        conflicts = f", {c['conflicts']} conflict(s)" if c.get("conflicts") else ""
        click.echo(f"{name}: {c.get('new', 0)} new, {c.get('changed', 0)} changed, "
                   f"{c.get('removed', 0)} removed, {c.get('unchanged', 0)} unchanged"
                   f"{conflicts}")
    for line in content.notes():  # conflicts with staff edits, files removed
        click.echo(line)


@content_cli.command("sync")
def sync():
    """Load the content folder (PORTAL_CONTENT_DIR) into the database."""
    _sync_or_fail()


@click.command("setup")
@click.option("--no-jobs", is_flag=True, help="Leave the jobs that are due to the worker.")
@with_appcontext
def setup(no_jobs):
    """Migrate the database, load content, queue the rendering of stored texts that an older
    renderer made (after a change of ``markup.VERSION``), build the search index if it is
    missing, queue the summary figures that need computing and run the jobs that are due (the
    index updates of what the sync changed)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("database: migrated to the latest revision")
    _sync_or_fail()
    stale = stored_html.queue_if_stale()
    if stale:
        click.echo(f"stored HTML: {stale} row(s) to render again (job {stored_html.RERENDER_JOB})")
    built = search.ensure_index()
    click.echo("search index: built" if built else "search index: present")
    marked = stats.queue_if_pending()
    if marked:
        click.echo(f"summary figures: {marked} metric(s) to compute (job stats.refresh)")
    if not no_jobs:
        click.echo(f"jobs run: {jobs.work(burst=True, schedule=False, log=click.echo)}")
