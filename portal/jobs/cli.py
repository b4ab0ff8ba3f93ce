import click
from flask.cli import AppGroup

from portal.jobs import services
from portal.jobs.models import STATES

jobs_cli = AppGroup("jobs", help="The job queue (mail, index updates, periodic work).")


def _echo(line: str) -> None:
    click.echo(line, nl=True)


@jobs_cli.command("work")
@click.option("--burst", is_flag=True, help="Run everything due now, then exit.")
@click.option("--no-schedule", is_flag=True, help="Do not schedule the periodic jobs.")
def work(burst, no_schedule):
    """Run jobs: the long-running worker (stop it with SIGTERM or Ctrl-C)."""
    done = services.work(burst=burst, schedule=not no_schedule, log=_echo,
                         handle_signals=not burst)
    click.echo(f"jobs run: {done}", err=True)


@jobs_cli.command("status")
def status():
    """Counts by kind and state."""
    rows = services.status()
    width = max([len("kind"), *map(len, rows)])
    click.echo(f"{'kind':<{width}}  " + "  ".join(f"{s:>7}" for s in STATES))
    totals = dict.fromkeys(STATES, 0)
    for kind, counts in rows.items():
        click.echo(f"{kind:<{width}}  " + "  ".join(f"{counts[s]:>7}" for s in STATES))
        for s in STATES:
            totals[s] += counts[s]
    click.echo(f"{'total':<{width}}  " + "  ".join(f"{totals[s]:>7}" for s in STATES))


@jobs_cli.command("retry")
@click.option("--dead", "dead", is_flag=True, help="Retry dead jobs (attempts start afresh).")
@click.option("--all", "everything", is_flag=True, help="Failed and dead jobs.")
def retry(dead, everything):
    """Make failed jobs (waiting for their next attempt) due now."""
    changed = services.retry(failed=everything or not dead, dead_too=dead or everything)
    click.echo(f"jobs due now: {changed}")
