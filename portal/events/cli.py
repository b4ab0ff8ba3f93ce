import click
from flask.cli import AppGroup

from portal.events import services

events_cli = AppGroup("events", help="Events and sign-ups.")


@events_cli.command("remind")
def remind():
    """Queue reminders for tomorrow's events now (the worker does this daily)."""
    click.echo(f"reminders queued: {services.remind()} (the job worker sends them)")
