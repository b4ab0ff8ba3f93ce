"""Progress toward the plan's targets, and open data."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.dashboard import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
