"""Events around observance days, volunteer sign-ups that never overbook, attendance and
service hours."""

from flask import Blueprint

bp = Blueprint("events", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.events import cli, search, services, views  # noqa: F401  (routes)

    app.config.setdefault("EVENTS_SIGNUP_LOCKING", True)
    search.register()
    services.register_personal_data()
    app.register_blueprint(bp)
    app.cli.add_command(cli.events_cli)
