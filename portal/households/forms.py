from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.households.services import HouseholdInput
from portal.i18n import _l
from portal.site import site

WALL = _l("Show our household on the public wall (masked name, district, pledge count).")
CONTACT = _l("Staff may contact us about green-family activities.")


class HouseholdForm(FlaskForm):
    name = StringField(_l("Household name"), validators=[
        InputRequired(message=_l("Give the household a name, e.g. 王家.")), Length(max=40)],
        description=_l("As you would like to be called, e.g. 王家. On the wall it appears "
                       "masked (王** 家)."))
    district = SelectField(_l("District"))
    town = StringField(_l("Town or street (optional)"), validators=[Length(max=80)])
    members = IntegerField(_l("Number of members"), default=1, validators=[
        InputRequired(message=_l("A household has between 1 and 30 members.")),
        NumberRange(min=1, max=30, message=_l("A household has between 1 and 30 members."))])
    phone = StringField(_l("Mobile number (optional)"), validators=[Optional(), Length(max=20)],
                        description=_l("Only for staff to contact you; staff see it masked."))
    show_on_wall = BooleanField(WALL)
    staff_contact = BooleanField(CONTACT)
    submit = SubmitField(_l("Register our household"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [("", "—")] + [(d.code, d.label()) for d in site().divisions]

    def to_input(self) -> HouseholdInput:
        return HouseholdInput(name=self.name.data or "", district=self.district.data or "",
                              town=self.town.data or "", members=self.members.data,
                              phone=self.phone.data, show_on_wall=self.show_on_wall.data,
                              staff_contact=self.staff_contact.data)


class JoinForm(FlaskForm):
    code = StringField(_l("Invite code"), validators=[
        InputRequired(message=_l("Enter the code the household's owner gave you.")),
        Length(max=16)])
    submit = SubmitField(_l("Join the household"))


class ConsentForm(FlaskForm):
    show_on_wall = BooleanField(WALL)
    staff_contact = BooleanField(CONTACT)
    submit = SubmitField(_l("Save choices"))


class ApplyForm(FlaskForm):
    story = TextAreaField(_l("Your story (at most 300 characters)"), validators=[
        Length(max=300, message=_l("The story has at most 300 characters."))])
    submit = SubmitField(_l("Apply to be recognised as a green family"))


class DecideForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")),
                                                   SelectChoice("reject", _l("Reject"))],
                          validators=[InputRequired(message=_l("Choose a decision."))])
    reason = StringField(_l("Reason (required to reject)"), validators=[Length(max=500)])
    submit = SubmitField(_l("Decide"))


class ReviewForm(FlaskForm):
    action = RadioField(_l("Review"), choices=[SelectChoice("confirm", _l("Confirm")),
                                               SelectChoice("rectify", _l("Ask for rectification")),
                                               SelectChoice("revoke", _l("Revoke"))],
                        validators=[InputRequired(message=_l("Choose an action."))])
    reason = StringField(_l("Reason"), validators=[Length(max=500)])
    rectify_by = DateField(_l("Put right by"), validators=[Optional()])
    submit = SubmitField(_l("Record the review"))
