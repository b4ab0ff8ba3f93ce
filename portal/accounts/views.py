import json
from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from portal import limits, paging
from portal.accounts import services
from portal.accounts.cli import users_cli
from portal.accounts.forms import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    RestoreForm,
    RoleForm,
    SuspendForm,
    TokenForm,
    VerifyForm,
)
from portal.accounts.models import User
from portal.extensions import db, login_manager
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
    """The answer to a valid form is the same whether or not the address has an account (a
    job decides what to mail); nobody is signed in by registering."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data)
        try:
            # At most RATELIMIT_RESET_MAIL mails per target address: beyond, no job, same
            # answer (registration cannot be used to flood someone's mailbox).
            if limits.allow("RATELIMIT_RESET_MAIL", "register:" + email):
                services.request_registration(email, form.display_name.data,
                                              form.password.data, consent=form.consent.data,
                                              locale=current_locale())
        except RuleError as err:
            form.form_errors.append(err.message)
        else:
            flash(_("We have sent a message to %(email)s. Open the link in it to finish "
                    "creating your account.", email=email), "success")
            return redirect(url_for("accounts.register_sent"))
    return render_template("accounts/register.html", form=form,
                           notice_version=site().privacy_notice_version), \
        400 if form.errors or form.form_errors else 200


@bp.route("/register/sent")
def register_sent():
    days, hours = services.verify_link_lifetime()
    return render_template("accounts/register_sent.html", days=days, hours=hours)


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """The mailed link shows a page with a button (mail scanners that fetch links do not
    confirm anything); confirming asks for the password unless the account is signed in."""
    row = services.valid_verification(token)
    if row is None:
        return render_template("accounts/verify_invalid.html"), 404
    owner = services.get_user(row.user_id)
    signed_in = g.principal if current_user.is_authenticated else None
    needs_password = signed_in is None or signed_in.id != owner.id
    form = VerifyForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.verify_email(token, form.password.data, signed_in)
        except services.LockedOut as err:
            form.password.errors.append(err.message)
            response = make_response(render_template(
                "accounts/verify.html", form=form, email=owner.email,
                needs_password=needs_password), 429)
            response.headers["Retry-After"] = str(err.retry_after)
            return response
        except RuleError as err:
            if err.code == "invalid_link":
                return render_template("accounts/verify_invalid.html"), 404
            form.password.errors.append(_("Your password is not correct."))
            status = 401
        else:
            if needs_password:
                if signed_in is not None:  # someone else was signed in in this browser
                    services.end_session(current_user.session_token)
                    logout_user()
                _sign_in(user, remember=False)
            flash(_("Thank you: your e-mail address is confirmed."), "success")
            return redirect(url_for("accounts.account"))
    elif form.errors:
        status = 400
    return render_template("accounts/verify.html", form=form, email=owner.email,
                           needs_password=needs_password), status


@bp.route("/account/verify", methods=["POST"])
def resend_verification():
    user = g.principal
    if user.email_verified_at is not None:
        flash(_("Your e-mail address is already confirmed."), "success")
    elif not limits.allow("RATELIMIT_RESET_MAIL", "verify:" + user.email):
        flash(_("You have asked for several links in a short time. Please use the latest "
                "one, or try again in an hour."), "error")
    else:
        services.request_verification_mail(user)
        flash(_("We have sent a new link to %(email)s. It replaces the earlier ones.",
                email=user.email), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("accounts.account")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.LockedOut as err:
            form.form_errors.append(err.message)
            response = make_response(render_template("accounts/login.html", form=form), 429)
            response.headers["Retry-After"] = str(err.retry_after)
            return response
        except RuleError as err:
            form.form_errors.append(err.message)
            status = 401
        else:
            _sign_in(user, remember=form.remember.data)
            flash(_("You are signed in."), "success")
            if user.email_verified_at is None:
                flash(_("Your e-mail address is not confirmed yet: open the link we mailed "
                        "you, or ask for a new one on your account page."), "info")
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
        try:
            _token, new_token = services.create_api_token(current_user, form.name.data)
        except RuleError as err:
            form.name.errors = [*form.name.errors, err.message]
        else:
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


ROLE_LABELS = services.ROLE_LABELS

# Labels for the keys of ``services.export_data`` (every feature's share: sections and
# fields), so that "My data" shows no raw key; tests/accounts/test_data_labels.py checks that
# every key of a full export is here.
DATA_LABELS = {
    # sections
    "account": _l("Account"), "events": _l("Event sign-ups"),
    "calendar_feed": _l("Calendar feed"), "household": _l("Green household"),
    "schools": _l("Schools"),
    # account
    "email": _l("E-mail address"), "display_name": _l("Display name"),
    "role": _l("Role"), "locale": _l("Language"), "created_at": _l("Created"),
    "email_verified_at": _l("E-mail address confirmed"),
    "last_sign_in_at": _l("Last sign-in"), "suspension": _l("Suspension"),
    "suspended_at": _l("Suspended"),
    "privacy_consent": _l("Consent to the privacy notice"), "notice_version": _l("Notice version"),
    "given_at": _l("Given at"), "sign_in_sessions": _l("Signed-in devices"),
    "expires_at": _l("Expires"), "remember_me": _l("Remember me"), "api_tokens": _l("API tokens"),
    "name": _l("Name"), "prefix": _l("Starts with"), "last_used_at": _l("Last used"),
    "password_reset_links": _l("Password reset links"), "used_at": _l("Used"),
    "email_verification_links": _l("E-mail verification links"),
    "sign_in_failures": _l("Failed sign-ins"), "failures": _l("Failures"),
    "locked_until": _l("Locked until"), "waiting_jobs": _l("Waiting jobs"),
    "kind": _l("Kind"),
    # events
    "event": _l("Event"), "event_id": _l("Event number"), "status": _l("Status"),
    "signed_up_at": _l("Signed up"), "checked_in_at": _l("Checked in"),
    "checked_out_at": _l("Checked out"), "hours": _l("Hours"),
    "hours_corrections": _l("Hours corrections"), "previous": _l("Before"),
    "reason": _l("Reason"),
    # household
    "district": _l("District"), "members": _l("Members"), "pledges": _l("Pledges"),
    "code": _l("Code"), "reports": _l("Monthly reports"), "month": _l("Month"),
    "pledged": _l("Pledged"), "kept": _l("Kept"), "updated_at": _l("Updated"),
    "town": _l("Town or street"), "phone": _l("Phone"),
    "show_on_wall": _l("Shown on the green family wall"),
    "wall_consent_at": _l("Consent to the wall given at"),
    "staff_contact": _l("Staff may contact us"),
    "contact_consent_at": _l("Consent to contact given at"),
    "applications": _l("Applications"), "story": _l("Story"), "decided_at": _l("Decided"),
    "history": _l("History"), "action": _l("Action"),
    # schools
    "schools_edited": _l("Schools I edit"), "name_zh": _l("Name in Chinese"),
    "name_en": _l("Name in English"), "address": _l("Address"), "contact": _l("Contact"),
    "invitations": _l("Invitations"), "school": _l("School"),
    "posts_authored": _l("Posts written"), "title": _l("Title"), "body": _l("Text"),
    "draft_title": _l("Title of the draft"), "draft_body": _l("Text of the draft"),
    "reports_made": _l("Reports made"), "activity_id": _l("Post number"),
    "notifications": _l("Notifications"), "items": _l("Notifications received"),
    "sentence": _l("Message"), "link": _l("Link"), "read_at": _l("Read"),
    "params": _l("Details"),
    "mail_settings": _l("Mail notifications"), "mail": _l("By mail"),
}


# -- people (administrators) -------------------------------------------------------------------

def _person_or_404(user_id: int) -> User:
    g.personal_data = True
    return db.get_or_404(User, user_id)


def _person_page(user: User, role_form=None, suspend_form=None, restore_form=None,
                 status: int = 200):
    return render_template(
        "accounts/person.html", person=user,
        role_form=role_form or RoleForm(prefix="role", formdata=None, role=user.role),
        suspend_form=suspend_form or SuspendForm(prefix="suspend", formdata=None),
        restore_form=restore_form or RestoreForm(prefix="restore", formdata=None)), status


@bp.route("/manage/people")
def people():
    """Find accounts by e-mail address or name; without a search, the newest accounts."""
    g.personal_data = True
    q = services.plain_text(request.args.get("q", ""))[:services.QUERY_MAX]
    after = paging.keyset_cursor(services.people_order(q))
    return render_template("accounts/people.html", q=q, page=services.find_people(q, after))


@bp.route("/manage/people/<int:user_id>")
def person(user_id: int):
    return _person_page(_person_or_404(user_id))


@bp.route("/manage/people/<int:user_id>/role", methods=["POST"])
def person_role(user_id: int):
    user = _person_or_404(user_id)
    form = RoleForm(prefix="role")
    if not form.validate_on_submit():
        return _person_page(user, role_form=form, status=400)
    old = user.role
    try:
        services.change_role(g.principal, user, form.role.data, form.reason.data)
    except RuleError as err:
        form.role.errors = [*form.role.errors, err.message]
        return _person_page(user, role_form=form, status=err.status)
    if old != form.role.data:
        flash(_("%(name)s is now: %(role)s.", name=user.display_name,
                role=role_label(form.role.data)), "success")
    return redirect(url_for("accounts.person", user_id=user_id))


@bp.route("/manage/people/<int:user_id>/suspend", methods=["POST"])
def person_suspend(user_id: int):
    """The reason first, then a page that asks to confirm; only the confirmed form acts."""
    user = _person_or_404(user_id)
    form = SuspendForm(prefix="suspend")
    if not form.validate_on_submit():
        return _person_page(user, suspend_form=form, status=400)
    if form.confirm.data != "yes":
        return render_template("accounts/person_suspend.html", person=user, form=form)
    try:
        services.suspend(g.principal, user, form.reason.data)
    except RuleError as err:
        form.reason.errors = [*form.reason.errors, err.message]
        return _person_page(user, suspend_form=form, status=err.status)
    flash(_("The account of %(name)s is suspended: signed out everywhere, sign-in and API "
            "tokens refused.", name=user.display_name), "success")
    return redirect(url_for("accounts.person", user_id=user_id))


@bp.route("/manage/people/<int:user_id>/restore", methods=["POST"])
def person_restore(user_id: int):
    user = _person_or_404(user_id)
    form = RestoreForm(prefix="restore")
    if not form.validate_on_submit():
        return _person_page(user, restore_form=form, status=400)
    try:
        services.restore(g.principal, user, form.reason.data)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("The account of %(name)s is restored: they can sign in again.",
                name=user.display_name), "success")
    return redirect(url_for("accounts.person", user_id=user_id))


@bp.route("/manage/people/<int:user_id>/reset", methods=["POST"])
def person_reset(user_id: int):
    """A reset link mailed to the person (the administrator never sees it); capped per
    address like "forgot password"."""
    user = _person_or_404(user_id)
    if not limits.allow("RATELIMIT_RESET_MAIL", user.email):
        flash(_("Several reset links were sent to this address in a short time. Please try "
                "again in an hour."), "error")
        return redirect(url_for("accounts.person", user_id=user_id))
    try:
        services.send_password_reset(g.principal, user)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("A password reset link is being mailed to %(email)s.", email=user.email),
              "success")
    return redirect(url_for("accounts.person", user_id=user_id))


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_global()
def data_label(key: str) -> str:
    return str(DATA_LABELS.get(key, key))
