from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from portal.accounts.services import REASON_MAX, ROLE_LABELS, password_problem
from portal.i18n import _l


def _strip(value):
    return value.strip() if isinstance(value, str) else value


EMAIL_FILTERS = [_strip]
EMAIL = [DataRequired(message=_l("Please enter your e-mail address.")),
         Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
         Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False)]


def _strong_password(form, field):
    problem = password_problem(field.data or "", form.email.data if hasattr(form, "email") else "")
    if problem:
        raise ValidationError(problem)


class RegisterForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=EMAIL, filters=EMAIL_FILTERS)
    display_name = StringField(_l("Display name"), filters=[_strip], validators=[
        DataRequired(message=_l("Please enter a display name.")),
        Length(max=40, message=_l("A display name has at most 40 characters."))],
        description=_l("Shown next to what you do on the portal. It need not be your real name."))
    password = PasswordField(_l("Password"), validators=[
        InputRequired(message=_l("Please choose a password.")), _strong_password],
        description=_l("At least 12 characters. A few unrelated words make a good password."))
    consent = BooleanField(_l("I have read the privacy notice and agree that the portal keeps "
                              "the data it describes."),
                           validators=[DataRequired(message=_l(
                               "Please read and accept the privacy notice to register."))])
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=EMAIL, filters=EMAIL_FILTERS)
    password = PasswordField(_l("Password"), validators=[
        InputRequired(message=_l("Please enter your password.")),
        Length(max=1024, message=_l("The e-mail address or password is not correct."))])
    remember = BooleanField(_l("Keep me signed in on this device for 14 days"))
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[
        InputRequired(message=_l("Please enter your current password."))])
    password = PasswordField(_l("New password"), validators=[
        InputRequired(message=_l("Please choose a password.")), _strong_password],
        description=_l("At least 12 characters. Other devices will be signed out."))
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=EMAIL, filters=EMAIL_FILTERS)
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[
        InputRequired(message=_l("Please choose a password.")), _strong_password],
        description=_l("At least 12 characters."))
    submit = SubmitField(_l("Set new password"))


class VerifyForm(FlaskForm):
    """Confirming the address: the password (asked for unless that account is signed in)."""

    password = PasswordField(_l("Password"), validators=[
        Optional(), Length(max=1024, message=_l("Your password is not correct."))])
    submit = SubmitField(_l("Confirm my address"))


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[
        DataRequired(message=_l("Please name the token, e.g. after the program that uses it.")),
        Length(max=80, message=_l("A name has at most 80 characters."))])
    submit = SubmitField(_l("Create token"))


class ConfirmPasswordForm(FlaskForm):
    """Deleting the account asks for the password again."""

    password = PasswordField(_l("Password"), validators=[
        InputRequired(message=_l("Please enter your password."))])
    submit = SubmitField(_l("Delete my account and data"))


# -- people (administrators) -------------------------------------------------------------------

REASON_LENGTH = Length(max=REASON_MAX, message=_l("Use at most %(max)d characters."))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(code, label)
                                            for code, label in ROLE_LABELS.items()],
                       validators=[DataRequired(message=_l("Please choose a role."))])
    reason = StringField(_l("Reason (optional)"), filters=[_strip], validators=[
        Optional(), REASON_LENGTH], description=_l("Recorded in the audit log."))
    submit = SubmitField(_l("Change role"))


class SuspendForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the suspension"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give a reason. It is recorded in the audit log.")),
        REASON_LENGTH],
        description=_l("Recorded in the audit log. The person is signed out everywhere and "
                       "cannot sign in or use API tokens until the account is restored."))
    confirm = HiddenField()
    submit = SubmitField(_l("Suspend…"))


class RestoreForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), filters=[_strip], validators=[
        Optional(), REASON_LENGTH], description=_l("Recorded in the audit log."))
    submit = SubmitField(_l("Restore the account"))
