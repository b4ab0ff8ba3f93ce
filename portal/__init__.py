"""Green Jiaxing portal.  ``create_app`` wires configuration, extensions, blueprints and
commands, and returns: it opens no database connection, builds nothing and calls no network
(the secret key file is read, and created once if missing)."""

from __future__ import annotations

import os

from flask import Flask
from flask_openapi3 import OpenAPI
from werkzeug.routing import IntegerConverter

from portal import api, i18n, limits, links, pagecache, security
from portal.accounts.views import init_app as init_accounts
from portal.audit.views import init_app as init_audit
from portal.config import ROOT, instance_path_from_env, load_config
from portal.core.views import init_app as init_core
from portal.dashboard.views import init_app as init_dashboard
from portal.db import configure_sqlite
from portal.db import init_app as init_db
from portal.editorial.views import init_app as init_editorial
from portal.events.views import init_app as init_events
from portal.extensions import csrf, login_manager, migrate
from portal.extensions import db as database  # not `db`: that is the name of portal.db
from portal.households.views import init_app as init_households
from portal.inbox.views import init_app as init_inbox
from portal.jobs.views import init_app as init_jobs
from portal.learn.views import init_app as init_learn
from portal.media.views import init_app as init_media
from portal.schools.views import init_app as init_schools
from portal.search.views import init_app as init_search
from portal.site import load_site

#: Templates that are XML or HTML and so are autoescaped: Flask's list (``.html``, ``.htm``,
#: ``.xml``, ``.xhtml``, ``.svg``) plus feeds. Only plain-text mail (``.txt``) is not.
AUTOESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg", ".atom", ".rss")


def autoescape(template_name: str | None) -> bool:
    return template_name is None or template_name.endswith(AUTOESCAPED)


class DatabaseId(IntegerConverter):
    """At most 9 digits: always within a 32-bit database integer (PostgreSQL's ``integer``),
    so a longer number matches no route and is simply not found (404)."""

    regex = r"\d{1,9}"


def create_app(overrides: dict | None = None) -> Flask:
    # flask-openapi3's Flask: it generates the API's OpenAPI document (portal.api.declare);
    # its own documentation pages are off (we serve our own, without a CDN).
    app = OpenAPI(
        __name__,
        doc_ui=False,
        instance_path=(overrides or {}).get("INSTANCE_PATH") or instance_path_from_env(),
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    load_config(app, overrides)
    # Route ids are database integers: a larger number in an address is simply not found
    # (the default converter accepts any length, and the database would overflow).
    app.url_map.converters["int"] = DatabaseId

    app.config["BABEL_DEFAULT_TIMEZONE"] = load_site(app.config["CONTENT_DIR"]).timezone
    app.json.ensure_ascii = False  # Chinese as text, not \u escapes
    app.json.sort_keys = False

    database.init_app(app)
    init_db(app)  # bookkeeping written at the end of a request
    migrate.init_app(app, database, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    links.init_app(app)  # absolute_url() for templates; ProxyFix when PORTAL_PROXY_FIX is set
    app.jinja_env.autoescape = autoescape  # Flask's own choice leaves out .atom feeds
    with app.app_context():
        for engine in database.engines.values():
            if engine.dialect.name == "sqlite":
                configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    # Each feature's blueprint, commands and hooks (its views.py); the order is kept.
    init_core(app)
    pagecache.init_app(app)  # stored pages answered in front of Flask (inside ProxyFix)
    init_accounts(app)  # registers load_principal: must come before access checks
    init_jobs(app)
    init_media(app)
    init_search(app)
    init_learn(app)
    init_editorial(app)
    init_events(app)
    init_households(app)
    init_schools(app)
    init_dashboard(app)
    init_inbox(app)  # after the features: they register their inbox sources
    init_audit(app)
    api.init_app(app)
    security.init_app(app)
    limits.init_app(app)  # last: it wraps the limited views (portal/limits.py)

    os.makedirs(app.instance_path, exist_ok=True)
    return app
