"""JSON API under /api/v1: bearer tokens only, no cookies, no CSRF, JSON errors.  Routes are
declared in ``views`` with ``declare.operation``; their shapes are the models in ``schemas``."""

from portal.api import declare, views  # noqa: F401  (views declares the routes on declare.bp)
from portal.extensions import csrf


def init_app(app) -> None:
    csrf.exempt(declare.bp)
    declare.init_app(app)
