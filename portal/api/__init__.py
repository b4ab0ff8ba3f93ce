"""JSON API under /api/v1: bearer tokens only, no cookies, no CSRF, JSON errors.  Routes are
declared in ``views`` with ``declare.operation``; their shapes are the models in ``schemas``."""

# views, articles, people and inbox declare their routes on declare.bp when imported
from portal.api import articles, declare, inbox, people, views  # noqa: F401
from portal.extensions import csrf
from portal.strictjson import StrictJSONProvider


def init_app(app) -> None:
    # Every request's JSON body is decoded strictly (too deep, lone surrogates, NaN: 400).
    app.json = StrictJSONProvider.replacing(app)
    csrf.exempt(declare.bp)
    declare.init_app(app)
