from flask import abort, current_app, g, jsonify, request

from portal.api import bp
from portal.core.errors import json_error
from portal.search import QueryError, search
from portal.search.views import ERRORS, parse_args
from portal.security import current_principal


@bp.before_request
def refuse_bad_tokens():
    # A request that sends a token which is not valid is refused even where none is needed.
    if g.get("bad_token"):
        abort(401)


@bp.get("/me")
def me():
    user = current_principal()
    return jsonify(email=user.email, display_name=user.display_name, role=user.role,
                   locale=user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])


@bp.get("/search")
def search_api():
    try:
        page = search(**parse_args(request.args, lang_key="lang"))
    except QueryError as err:
        return json_error(400, ERRORS[err.code](), code=err.code)
    return jsonify(query=page.query, total=page.total, page=page.page, pages=page.pages,
                   results=[{"kind": h.kind, "id": h.id, "title": h.title, "url": h.url,
                             "snippet": str(h.snippet), "lang": h.lang} for h in page.hits])
