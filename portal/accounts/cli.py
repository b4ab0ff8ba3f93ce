import sys

import click
from flask.cli import AppGroup

from portal.accounts import services
from portal.rules import RuleError
from portal.security import ROLES

users_cli = AppGroup("users", help="Manage accounts.")


def _user_or_fail(email: str):
    user = services.get_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with the address {email}")
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="citizen", show_default=True)
@click.option("--name", "display_name", help="Display name (default: the part before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(email, role, display_name, password_stdin):
    """Create an account (the password is asked for, or read from stdin).  Staff create it
    on purpose, so its address counts as confirmed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.register(email, display_name or email.split("@")[0], password,
                                 consent=True, role=role, verified=True)
    except RuleError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"created {user.email} ({user.role})")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email, role):
    """Give an account another role."""
    user = _user_or_fail(email)
    try:
        services.change_role(None, user, role)  # None: the command line (in the audit log)
    except RuleError as err:  # e.g. the last administrator
        raise click.ClickException(err.message) from None
    click.echo(f"{user.email} is now {role}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A name to recognise it by.")
def token(email, name):
    """Create an API token and print it (only its hash is kept: it is shown once)."""
    user = _user_or_fail(email)
    try:
        _row, raw = services.create_api_token(user, name)
    except RuleError as err:  # the account holds the most tokens it may
        raise click.ClickException(err.message) from None
    click.echo(raw)
