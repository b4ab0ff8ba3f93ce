"""Accounts: registration, sign-in, sessions, passwords, API tokens, "my data"."""

from flask import Blueprint, g, request
from flask_login import current_user

bp = Blueprint("accounts", __name__, template_folder="templates")

API_BLUEPRINT = "api"


def load_principal():
    """``before_request``: decide who the request acts for, before access is checked.

    In the API only a bearer token counts (cookies are ignored there); elsewhere the session.
    """
    from portal.accounts import services
    from portal.i18n import normalise

    g.principal = None
    if request.endpoint == "static":
        return
    if request.blueprint == API_BLUEPRINT or request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _sep, raw = header.partition(" ")
            user = services.user_for_api_token(raw.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                g.bad_token = True
            g.principal = user
        return
    if current_user.is_authenticated:
        g.principal = current_user._get_current_object()
        chosen = normalise(request.args.get("lang"))
        if chosen and g.principal.locale != chosen:  # remember the choice on the account
            services.set_locale(g.principal, chosen)


def init_app(app) -> None:
    from portal.accounts import services, views  # noqa: F401  (routes)
    from portal.accounts.cli import users_cli
    from portal.extensions import login_manager

    login_manager.user_loader(services.user_for_session)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    app.before_request(load_principal)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
