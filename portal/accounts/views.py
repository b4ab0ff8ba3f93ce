import json
from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal import limits
from portal.accounts import services
from portal.accounts.cli import users_cli
from portal.accounts.forms import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    TokenForm,
)
from portal.extensions import login_manager
from portal.i18n import _, _l, current_locale, normalise
from portal.rules import RuleError
from portal.security import local_path
from portal.site import site

bp = Blueprint("accounts", __name__, template_folder="templates")

API_BLUEPRINT = "api"


def load_principal():
    """``before_request``: decide who the request acts for, before access is checked.

    In the API only a bearer token counts (cookies are ignored there); elsewhere the session.
    """
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
    # Failed sign-ins for one account from all addresses together, before it locks (one
    # address locks its own attempts at LOGIN_MAX_FAILURES).
    app.config.setdefault("LOGIN_ACCOUNT_MAX_FAILURES", 100)
    login_manager.user_loader(services.user_for_session)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    app.before_request(load_principal)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)


def _safe_next(default: str) -> str:
    return local_path(request.args.get("next")) or default


def _sign_in(user, remember: bool) -> None:
    session.clear()  # no state carried over from before sign-in
    services.start_session(user, remember)
    login_user(user, remember=remember)
    if not user.locale:
        services.set_locale(user, current_locale())


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register(form.email.data, form.display_name.data, form.password.data,
                                     consent=form.consent.data, locale=current_locale())
        except RuleError as err:
            field_errors = form.email.errors if err.code == "email_taken" else form.form_errors
            field_errors.append(err.message)
        else:
            _sign_in(user, remember=False)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.display_name),
                  "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/register.html", form=form,
                           notice_version=site().privacy_notice_version), \
        400 if form.errors or form.form_errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("accounts.account")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except RuleError as err:
            form.form_errors.append(err.message)
            status = 429 if err.code == "locked" else 401
        else:
            _sign_in(user, remember=form.remember.data)
            flash(_("You are signed in."), "success")
            return redirect(_safe_next(url_for("core.home")))
    elif form.errors:
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    services.end_session(current_user.session_token)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("core.home"))


@bp.route("/account", methods=["GET"])
def account():
    return render_template("accounts/account.html", token_form=TokenForm())


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except RuleError as err:
            form.current.errors.append(err.message)
        else:
            flash(_("Your password has been changed. Other devices have been signed out."),
                  "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form), \
        400 if form.errors else 200


@bp.route("/account/tokens", methods=["POST"])
def create_token():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = services.create_api_token(current_user, form.name.data)
        form = TokenForm(formdata=None)
    return render_template("accounts/account.html", token_form=form,
                           new_token=new_token), 400 if form.errors else 200


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    try:
        services.revoke_api_token(current_user, token_id)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("The token has been revoked."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/data")
def my_data():
    return render_template("accounts/my_data.html", data=services.export_data(current_user))


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@bp.route("/account/data.json")
def export_data():
    body = json.dumps(services.export_data(current_user), ensure_ascii=False, indent=2,
                      default=_json_default)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="green-jiaxing-my-data.json"'})


@bp.route("/account/delete", methods=["GET", "POST"])
def delete_account():
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        try:
            services.delete_account(current_user, form.password.data)
        except RuleError as err:
            form.password.errors.append(err.message)
        else:
            logout_user()
            session.clear()
            flash(_("Your account and personal data have been deleted."), "success")
            return redirect(url_for("core.home"))
    return render_template("accounts/delete.html", form=form), 400 if form.errors else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # At most RATELIMIT_RESET_MAIL mails per target address: beyond, no job, same answer.
        if limits.allow("RATELIMIT_RESET_MAIL", services.normalise_email(form.email.data)):
            services.request_password_reset(form.email.data)
        return render_template("accounts/forgot_sent.html")
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.valid_reset(token) is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except RuleError as err:
            form.password.errors.append(err.message)
        else:
            flash(_("Your password has been set. Please sign in."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), 400 if form.errors else 200


ROLE_LABELS = {"citizen": _l("Citizen"), "school": _l("School editor"),
               "organizer": _l("Organizer (city staff)"), "admin": _l("Administrator")}

# Labels for the keys of ``services.export_data``; features add theirs with ``DATA_LABELS.update``.
DATA_LABELS = {
    "account": _l("Account"), "email": _l("E-mail address"), "display_name": _l("Display name"),
    "role": _l("Role"), "locale": _l("Language"), "created_at": _l("Created"),
    "privacy_consent": _l("Consent to the privacy notice"), "notice_version": _l("Notice version"),
    "given_at": _l("Given at"), "sign_in_sessions": _l("Signed-in devices"),
    "expires_at": _l("Expires"), "remember_me": _l("Remember me"), "api_tokens": _l("API tokens"),
    "name": _l("Name"), "prefix": _l("Starts with"), "last_used_at": _l("Last used"),
}


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_global()
def data_label(key: str) -> str:
    return str(DATA_LABELS.get(key, key))
