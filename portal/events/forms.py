from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from portal.events.services import EventInput
from portal.i18n import _l, current_locale
from portal.markup import TEXT_MAX, TITLE_MAX
from portal.media.forms import CoverField
from portal.site import site, zone

WHEN = "%Y-%m-%dT%H:%M"
DATE_MESSAGE = _l("Enter a date and time, e.g. 2027-06-05 09:00.")
TITLE_LENGTH = Length(max=TITLE_MAX, message=_l("A title has at most 200 characters."))
TEXT_LENGTH = Length(max=TEXT_MAX, message=_l("The text is too long (at most 20,000 characters)."))


def one_newline(value):
    """Browsers send a text area's line breaks as CRLF (and count them as one character
    towards ``maxlength``): keep LF only, so the length cap counts what people see."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class EventForm(FlaskForm):
    title_zh = StringField(_l("Title in Chinese"), validators=[TITLE_LENGTH])
    title_en = StringField(_l("Title in English"), validators=[TITLE_LENGTH],
                           description=_l("At least one of the two titles is needed."))
    description_zh = TextAreaField(_l("Description in Chinese"), validators=[TEXT_LENGTH],
                                   filters=[one_newline],
                                   description=_l("Markdown: **bold**, lists, links."))
    description_en = TextAreaField(_l("Description in English"), validators=[TEXT_LENGTH],
                                   filters=[one_newline])
    starts_at = DateTimeLocalField(_l("Starts"), format=WHEN, validators=[
        InputRequired(message=DATE_MESSAGE)])
    ends_at = DateTimeLocalField(_l("Ends"), format=WHEN, validators=[
        InputRequired(message=DATE_MESSAGE)])
    signup_deadline = DateTimeLocalField(_l("Sign-ups close"), format=WHEN,
                                         validators=[Optional()],
                                         description=_l("Leave empty to close at the start."))
    place = StringField(_l("Place"), validators=[
        InputRequired(message=_l("Please say where the event takes place.")),
        Length(max=200)])
    district = SelectField(_l("District"))
    capacity = IntegerField(_l("Places"), validators=[
        InputRequired(message=_l("There must be at least one place.")),
        NumberRange(min=1, message=_l("There must be at least one place."))])
    observance_slug = SelectField(_l("Observance day"), validators=[Optional()])
    min_age = IntegerField(_l("Minimum age"), validators=[Optional()])
    notes = TextAreaField(_l("Notes for volunteers"), validators=[Length(max=2000)])
    cover = CoverField(_l("Cover picture"))  # removed (del form.cover) without the library
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, observances=(), **kwargs):
        super().__init__(*args, **kwargs)
        locale = current_locale()
        self.district.choices = [("", "—")] + [(d.code, d.label(locale))
                                               for d in site().divisions]
        self.observance_slug.choices = [("", "—")] + [(o.slug, o.name(locale))
                                                      for o in observances]

    def to_input(self) -> EventInput:
        tz = zone()

        def aware(value):
            return value.replace(tzinfo=tz) if value else None

        return EventInput(
            title_zh=self.title_zh.data or "", title_en=self.title_en.data or "",
            description_zh=self.description_zh.data or "",
            description_en=self.description_en.data or "",
            starts_at=aware(self.starts_at.data), ends_at=aware(self.ends_at.data),
            signup_deadline=aware(self.signup_deadline.data), place=self.place.data or "",
            district=self.district.data or "", capacity=self.capacity.data,
            observance_slug=self.observance_slug.data or None, min_age=self.min_age.data,
            notes=self.notes.data or "",
            cover_id=self.cover.data if "cover" in self else None, set_cover="cover" in self)

    def fill_from(self, event) -> None:
        tz = zone()
        for name in ("title_zh", "title_en", "description_zh", "description_en", "place",
                     "district", "capacity", "min_age", "notes"):
            getattr(self, name).data = getattr(event, name)
        self.observance_slug.data = event.observance_slug or ""
        if "cover" in self:
            self.cover.data = event.cover_id
        self.starts_at.data = event.starts_at.astimezone(tz).replace(tzinfo=None)
        self.ends_at.data = event.ends_at.astimezone(tz).replace(tzinfo=None)
        self.signup_deadline.data = event.signup_deadline.astimezone(tz).replace(tzinfo=None)

    def add_errors(self, errors: dict) -> None:
        for name, message in errors.items():
            getattr(self, name).errors = list(getattr(self, name).errors or []) + [message]


def finite(message):
    """Refuse ``NaN``, ``sNaN`` and ``Infinity``, which ``Decimal`` parses: comparing a NaN
    raises ``InvalidOperation``, so ``NumberRange`` after this would crash (a 500)."""
    def check(form, field):
        if field.data is not None and not field.data.is_finite():
            raise StopValidation(message)
    return check


class HoursForm(FlaskForm):
    hours = DecimalField(_l("Hours"), places=1, validators=[
        InputRequired(message=_l("Hours must be between 0 and 24.")),
        finite(_l("Hours must be between 0 and 24.")),
        NumberRange(min=0, max=24, message=_l("Hours must be between 0 and 24."))])
    reason = StringField(_l("Reason"), validators=[
        InputRequired(message=_l("Please give a reason for the correction.")),
        Length(max=500)])
    submit = SubmitField(_l("Correct hours"))
