"""Core pages: home, privacy notice, health check, error pages, the setup command."""

from flask import Blueprint

bp = Blueprint("core", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.core import cli, errors, views  # noqa: F401  (routes)
    from portal.site import site

    errors.init_app(app)
    app.jinja_env.globals.update(site=site)
    app.register_blueprint(bp)
    app.cli.add_command(cli.setup)
    app.cli.add_command(cli.content_cli)
