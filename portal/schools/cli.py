import click
from flask.cli import AppGroup

from portal.schools import services

schools_cli = AppGroup("schools", help="Schools.")


@schools_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_schools(path):
    """Create verified schools from a CSV file (name,district,type,editor_email)."""
    result = services.import_csv(path)
    for slug in result.created:
        click.echo(f"created {slug}")
    for slug in result.existing:
        click.echo(f"exists  {slug}")
    for problem in result.skipped:
        click.echo(f"skipped {problem}", err=True)
