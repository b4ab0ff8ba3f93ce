"""JSON API under /api/v1: bearer tokens only, no cookies, no CSRF, JSON errors."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")


def init_app(app) -> None:
    from portal.api import views  # noqa: F401  (routes)
    from portal.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
