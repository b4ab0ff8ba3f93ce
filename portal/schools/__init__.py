"""Green schools: applications, editors, activity posts, moderation and reports."""

from flask import Blueprint

bp = Blueprint("schools", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.schools import cli, search, services, views  # noqa: F401  (routes)

    app.config.setdefault("SCHOOLS_REPORTS_TO_HIDE", 3)
    search.register()
    services.register_personal_data()
    app.register_blueprint(bp)
    app.cli.add_command(cli.schools_cli)
