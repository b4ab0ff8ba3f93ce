from flask import abort, current_app, g, jsonify

from portal.api import bp
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
