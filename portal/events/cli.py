import click
from flask.cli import AppGroup

from portal.events import services

events_cli = AppGroup("events", help="Events and sign-ups.")


@events_cli.command("remind")
def remind():
    """Mail everyone confirmed for tomorrow's events (run daily from cron)."""
    click.echo(f"reminders sent: {services.remind()}")
