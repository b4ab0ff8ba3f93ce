from flask import Blueprint, render_template, request

from portal.i18n import _, current_locale
from portal.search import QueryError, search, sources
from portal.search.backends import check_config
from portal.search.cli import search_cli

bp = Blueprint("search", __name__, template_folder="templates")


def init_app(app) -> None:
    check_config(app)  # a backend this database cannot hold is refused at start-up
    app.cli.add_command(search_cli)
    app.register_blueprint(bp)


ERRORS = {  # QueryError code → translated message
    "too_long": lambda: _("Your search is too long. Please use at most %(n)d characters.",
                          n=200),
    "bad_page": lambda: _("There is no such page of results."),
    "bad_kind": lambda: _("Unknown kind of result."),
    "bad_lang": lambda: _("Unknown language."),
}


def parse_args(args, lang_key: str = "lang_filter") -> dict:
    """Check the search parameters; raise QueryError naming what is wrong.

    On HTML pages ``?lang=`` switches the interface, so the language filter is
    ``lang_filter`` there; the API takes ``lang``.
    """
    kind = args.get("kind") or None
    if kind is not None and kind not in {s.kind for s in sources()}:
        raise QueryError("bad_kind")
    lang = args.get(lang_key) or None
    if lang is not None and lang not in ("zh", "en"):
        raise QueryError("bad_lang")
    try:
        page = int(args.get("page", 1))
    except ValueError:
        raise QueryError("bad_page") from None
    return {"text": args.get("q", ""), "kind": kind, "lang": lang, "page": page}


@bp.route("/search")
def results():
    kinds = [(s.kind, s.label()) for s in sources()]
    try:
        params = parse_args(request.args)
        page = search(**params)
    except QueryError as err:
        return render_template("search/results.html", error=ERRORS[err.code](), page=None,
                               kinds=kinds, params={"text": request.args.get("q", "")[:200]}
                               ), 400
    return render_template("search/results.html", page=page, params=params, kinds=kinds,
                           error=None, locale=current_locale())
