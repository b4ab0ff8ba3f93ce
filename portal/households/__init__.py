"""Green households: register, pledge, report monthly, be recognised as a green family."""

from flask import Blueprint

bp = Blueprint("households", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.core.content import register_loader
    from portal.households import catalogue, services, views  # noqa: F401  (routes)

    register_loader("pledges", catalogue.check, catalogue.apply)
    services.register_personal_data()
    app.register_blueprint(bp)
