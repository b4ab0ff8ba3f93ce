from __future__ import annotations

from flask import Blueprint

bp = Blueprint(__name__.split(".")[1], __name__, template_folder="templates")


def init_app(app) -> None:
    app.register_blueprint(bp)
