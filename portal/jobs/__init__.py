"""Jobs: side effects (mail, index updates, periodic work) written in the same transaction as
the change that causes them and carried out by ``flask jobs work``."""

from flask import Blueprint

from portal.jobs.services import enqueue, register, register_periodic

__all__ = ["bp", "enqueue", "init_app", "register", "register_periodic"]

bp = Blueprint("jobs", __name__, template_folder="templates")


def init_app(app) -> None:
    from portal.jobs import views  # noqa: F401  (routes)
    from portal.jobs.cli import jobs_cli

    app.cli.add_command(jobs_cli)
    app.register_blueprint(bp)
