"""The eco-civilisation library: articles, topics and observance days, from content/."""

from flask import Blueprint

bp = Blueprint("learn", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.core.content import register_loader
    from portal.learn import content, search, services, views  # noqa: F401  (routes)

    register_loader("learn", content.load, services.apply)
    search.register()
    app.register_blueprint(bp)
