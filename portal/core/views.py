from flask import Blueprint, abort, jsonify, redirect, render_template, url_for

from portal.core import cli, errors, services
from portal.core.content import read_page
from portal.dashboard import services as dashboard
from portal.i18n import current_locale
from portal.learn import services as learn
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


def _stored_page(slug: str):
    """A fixed page as staff published it (``portal.editorial``: kind page), or None."""
    versions = learn.versions(slug)
    shown = learn.pick(versions, current_locale()) if versions else None
    if shown is None or shown.kind != "page":
        return None
    # The privacy notice's version is the one consent is recorded with (site.yaml).
    version = site().privacy_notice_version if slug == "privacy" else None
    return render_template("core/page.html", meta={"title": shown.title, "updated": shown.updated,
                                                   "version": version},
                           body=shown.body_html(), toc_items=shown.toc or [],
                           page_lang=shown.lang, cover=learn.cover(shown))


@bp.route("/privacy")
def privacy():
    stored = _stored_page("privacy")
    if stored is not None:
        return stored
    page = read_page("privacy", current_locale())  # before the first content sync: the file
    if page is None:
        abort(404)
    return render_template("core/page.html", meta=page.meta, body=page.html,
                           toc_items=page.toc, page_lang=page.lang)


@bp.route("/pages/<slug>")
def page(slug: str):
    """Fixed pages (about, …) written by staff; the privacy notice has its own address."""
    if slug == "privacy":
        return redirect(url_for("core.privacy"), 301)
    stored = _stored_page(slug)
    if stored is None:
        abort(404)
    return stored


@bp.route("/healthz")
def healthz():
    checks = services.health()
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "error", **checks,
                   warnings=services.warnings()), 200 if ok else 503
