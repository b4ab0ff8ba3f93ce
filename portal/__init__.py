"""Green Jiaxing portal.  ``create_app`` wires configuration, extensions, blueprints and
commands, and returns: it opens no database connection, builds nothing and calls no network
(the secret key file is read, and created once if missing)."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from portal.config import ROOT, instance_path_from_env, load_config


class DatabaseId(IntegerConverter):
    """At most 9 digits: always within a 32-bit database integer (PostgreSQL's ``integer``),
    so a longer number matches no route and is simply not found (404)."""

    regex = r"\d{1,9}"


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=(overrides or {}).get("INSTANCE_PATH") or instance_path_from_env(),
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    load_config(app, overrides)
    # Route ids are database integers: a larger number in an address is simply not found
    # (the default converter accepts any length, and the database would overflow).
    app.url_map.converters["int"] = DatabaseId

    from portal import i18n, security
    from portal.db import init_app as init_db
    from portal.extensions import csrf, db, login_manager, migrate
    from portal.site import load_site

    app.config["BABEL_DEFAULT_TIMEZONE"] = load_site(app.config["CONTENT_DIR"]).timezone
    app.json.ensure_ascii = False  # Chinese as text, not \u escapes
    app.json.sort_keys = False

    db.init_app(app)
    init_db(app)  # bookkeeping written at the end of a request
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    with app.app_context():
        from portal.db import configure_sqlite

        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    from portal import (
        accounts,
        api,
        core,
        dashboard,
        events,
        households,
        jobs,
        learn,
        schools,
        search,
    )

    core.init_app(app)
    accounts.init_app(app)  # registers load_principal: must come before access checks
    jobs.init_app(app)
    search.init_app(app)
    learn.init_app(app)
    events.init_app(app)
    households.init_app(app)
    schools.init_app(app)
    dashboard.init_app(app)
    api.init_app(app)
    security.init_app(app)

    os.makedirs(app.instance_path, exist_ok=True)
    return app
