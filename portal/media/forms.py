"""Forms of the media library, and ``CoverField``: the picture chooser other features add to
their forms (rendered with ``cover_choice(field)`` from ``media/_choose.html``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from portal.i18n import _, _l
from portal.media import services
from portal.media.models import ALT_MAX, CREDIT_MAX, LICENCE_MAX

_INVALID = object()  # what was sent is not a picture's id


class CoverField(Field):
    """A choice of "no picture" or one of the newest pictures (``services.CHOICES``, bounded),
    the current choice kept even if it is older.  ``data`` is a media id or None."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label if label is not None else _l("Cover picture"), validators,
                         **kwargs)
        self._pictures = None

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = (valuelist[0] or "").strip()
        if raw == "":
            self.data = None
        elif raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
            self.data = int(raw)
        else:
            self.data = _INVALID

    def _value(self):
        return "" if self.data in (None, _INVALID) else str(self.data)

    def pictures(self) -> list:
        """The pictures offered (queried once, when first rendered)."""
        if self._pictures is None:
            keep = self.data if isinstance(self.data, int) else None
            self._pictures = services.newest(services.CHOICES, keep=keep)
        return self._pictures

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data is _INVALID or services.get(self.data) is None:
            self.data = None
            raise ValidationError(_("Choose one of the pictures shown, or no picture."))


def _required(message):
    return InputRequired(message=message)


class MediaTextsForm(FlaskForm):
    alt_zh = StringField(_l("Description in Chinese (alt text)"), validators=[
        _required(_l("Describe the picture in Chinese for people who cannot see it.")),
        Length(max=ALT_MAX, message=_l("A description has at most 250 characters."))],
        description=_l("What the picture shows, for people who cannot see it."))
    alt_en = StringField(_l("Description in English (alt text)"), validators=[
        _required(_l("Describe the picture in English for people who cannot see it.")),
        Length(max=ALT_MAX, message=_l("A description has at most 250 characters."))])
    credit = StringField(_l("Credit"), validators=[
        _required(_l("Say who took the picture or where it comes from.")),
        Length(max=CREDIT_MAX, message=_l("The credit has at most 250 characters."))],
        description=_l("The photographer or the source."))
    licence = StringField(_l("Licence (optional)"), validators=[
        Length(max=LICENCE_MAX, message=_l("The licence has at most 120 characters."))],
        description=_l("For example CC BY 4.0, or “used with permission”."))
    submit = SubmitField(_l("Save"))

    def add_errors(self, errors: dict) -> None:
        for name, message in errors.items():
            field = getattr(self, name, None)
            if field is not None:
                field.errors = list(field.errors or []) + [message]


class UploadForm(MediaTextsForm):
    file = FileField(_l("Picture"), description=_l("JPEG, PNG or WebP, at most 5 MB."))
    submit = SubmitField(_l("Upload"))

    field_order = ("file", "alt_zh", "alt_en", "credit", "licence")
