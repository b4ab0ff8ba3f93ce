from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from portal.events.forms import TEXT_LENGTH, TITLE_LENGTH, one_newline
from portal.i18n import _l
from portal.schools.models import SCHOOL_TYPES
from portal.site import site

TYPE_LABELS = {"kindergarten": _l("Kindergarten"), "primary": _l("Primary school"),
               "middle": _l("Middle school"), "high": _l("High school"),
               "vocational": _l("Vocational school"), "university": _l("University")}
LEVEL_LABELS = {"city": _l("City-level green school"),
                "provincial": _l("Provincial green school"),
                "national": _l("National green school")}


class SchoolForm(FlaskForm):
    name_zh = StringField(_l("Name in Chinese"), validators=[
        InputRequired(message=_l("Give the school's name in Chinese.")), Length(max=120)])
    name_en = StringField(_l("Name in English (optional)"), validators=[Length(max=160)])
    district = SelectField(_l("District"))
    type = SelectField(_l("Kind of school"))
    address = StringField(_l("Address"), validators=[Length(max=200)])
    contact = StringField(_l("Contact"), validators=[
        InputRequired(message=_l("Give a contact (name and phone or e-mail).")),
        Length(max=200)], description=_l("Who staff can reach about the application."))
    submit = SubmitField(_l("Apply"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [("", "—")] + [(d.code, d.label()) for d in site().divisions]
        self.type.choices = [("", "—")] + [(t, str(TYPE_LABELS[t])) for t in SCHOOL_TYPES]


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"), validators=[
        InputRequired(message=_l("Give the post a title.")), TITLE_LENGTH])
    body = TextAreaField(_l("What happened"), validators=[
        InputRequired(message=_l("Write what happened.")), TEXT_LENGTH], filters=[one_newline],
        description=_l("Markdown: **bold**, lists, links."))
    activity_date = DateField(_l("Date of the activity"), validators=[
        InputRequired(message=_l("Give the date of the activity."))])
    topics = SelectMultipleField(_l("Topics"), validators=[Optional()])
    event_id = SelectField(_l("Linked event (optional)"), validators=[Optional()])
    cover = FileField(_l("Cover picture (JPEG, PNG or WebP, at most 5 MB)"),
                      description=_l("Location and camera data are removed from the picture."))
    submit = SubmitField(_l("Save draft"))

    def __init__(self, *args, topics=(), events=(), **kwargs):
        locale = kwargs.pop("locale", "zh")
        super().__init__(*args, **kwargs)
        self.topics.choices = [(t.slug, t.label(locale)) for t in topics]
        self.event_id.choices = [("", "—")] + [(str(e.id), e.title(locale)) for e in events]


class SubmitForm(FlaskForm):
    consent = BooleanField(_l("No pupil can be identified in the text or picture without a "
                              "guardian's consent."))
    submit = SubmitField(_l("Send for review"))


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=500)])
    submit = SubmitField(_l("Confirm"))


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address of the new editor"), validators=[
        InputRequired(message=_l("Please enter your e-mail address.")), Length(max=254)])
    submit = SubmitField(_l("Send invitation"))


class GreenStatusForm(FlaskForm):
    level = SelectField(_l("Green-school title"), validators=[Optional()])
    year = IntegerField(_l("Year"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = [("", "—")] + [(k, str(v)) for k, v in LEVEL_LABELS.items()]
