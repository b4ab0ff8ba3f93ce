from flask import Blueprint, abort, jsonify, render_template

from portal.core import cli, errors, services
from portal.core.content import read_page
from portal.dashboard import services as dashboard
from portal.i18n import current_locale
from portal.site import site

bp = Blueprint("core", __name__, template_folder="templates")


def init_app(app) -> None:
    errors.init_app(app)
    app.jinja_env.globals.update(site=site)
    app.register_blueprint(bp)
    app.cli.add_command(cli.setup)
    app.cli.add_command(cli.content_cli)


@bp.route("/")
def home():
    return render_template("core/home.html", code=site().citizen_code,
                           headlines=dashboard.headlines(), labels=dashboard.headline_labels())


@bp.route("/privacy")
def privacy():
    page = read_page("privacy", current_locale())  # rendered once per version of the file
    if page is None:
        abort(404)
    return render_template("core/page.html", meta=page.meta, body=page.html,
                           toc_items=page.toc, page_lang=page.lang)


@bp.route("/healthz")
def healthz():
    checks = services.health()
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "error", **checks,
                   warnings=services.warnings()), 200 if ok else 503
