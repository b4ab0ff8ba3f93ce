"""The editor's forms: one entry in both languages, an unpublishing reason, a restore."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.editorial.services import LANGS, NOTE_MAX, PARTS, REASON_MAX, Draft
from portal.i18n import _l
from portal.markup import TEXT_MAX, TITLE_MAX
from portal.media.forms import CoverField
from portal.site import zone

WHEN = "%Y-%m-%dT%H:%M"
TITLE_LENGTH = Length(max=TITLE_MAX, message=_l("A title has at most 200 characters."))
TEXT_LENGTH = Length(max=TEXT_MAX, message=_l("The text is too long (at most 20,000 characters)."))
MARKDOWN = _l("Markdown: ## for a section heading, **bold**, - for a list, [text](address) "
              "for a link.")


def one_newline(value):
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):  # unknown topics are the service's rule (one message)
        pass


class EntryForm(FlaskForm):
    slug = StringField(_l("Address name"), validators=[Length(max=120)],
                       description=_l("Lower-case letters, digits and hyphens; it becomes "
                                      "the page's address and cannot be changed later."))
    zh_title = StringField(_l("Title"), validators=[TITLE_LENGTH])
    zh_summary = TextAreaField(_l("Summary"), validators=[TEXT_LENGTH], filters=[one_newline],
                               render_kw={"rows": 3})
    zh_body = TextAreaField(_l("Text"), validators=[TEXT_LENGTH], filters=[one_newline],
                            description=MARKDOWN, render_kw={"rows": 18})
    en_title = StringField(_l("Title"), validators=[TITLE_LENGTH])
    en_summary = TextAreaField(_l("Summary"), validators=[TEXT_LENGTH], filters=[one_newline],
                               render_kw={"rows": 3})
    en_body = TextAreaField(_l("Text"), validators=[TEXT_LENGTH], filters=[one_newline],
                            description=MARKDOWN, render_kw={"rows": 18})
    topics = Checkboxes(_l("Topics"), choices=[])
    cover = CoverField()
    publish_at = DateTimeLocalField(_l("Publish at (Beijing time)"), format=WHEN,
                                    validators=[Optional()],
                                    description=_l("Only for “Schedule”. Leave empty to "
                                                   "publish by hand."))
    unpublish_at = DateTimeLocalField(_l("Unpublish at (Beijing time)"), format=WHEN,
                                      validators=[Optional()],
                                      description=_l("Optional: when it leaves the site."))
    note = StringField(_l("Note about this change"), validators=[Length(max=NOTE_MAX)],
                       description=_l("What you changed and why (shown in the revisions)."))
    save = SubmitField(_l("Save draft"))
    preview = SubmitField(_l("Preview"))
    submit_review = SubmitField(_l("Submit for review"))
    publish = SubmitField(_l("Publish"))
    schedule = SubmitField(_l("Schedule"))

    def __init__(self, *args, topics=(), locale="zh", **kwargs):
        super().__init__(*args, **kwargs)
        self.topics.choices = [(t.slug, t.label(locale)) for t in topics]
        # The two languages' fields say which language they are for (one label each).
        for lang, name in (("zh", _l("Chinese")), ("en", _l("English"))):
            for part in PARTS:
                getattr(self, f"{lang}_{part}").language = (lang, name)

    def action(self) -> str:
        for name in ("preview", "submit_review", "publish", "schedule"):
            if getattr(self, name).data:
                return name
        return "save"

    def draft(self, kind: str, slug: str, previous=None) -> Draft:
        """The form's texts, topics and picture; the rest (observance days, related articles,
        a page's version) as in ``previous``, the newest revision."""
        data = (previous.data or {}) if previous is not None else {}
        topics = list(self.topics.data or [])
        if previous is not None and sorted(previous.topics or []) == sorted(set(topics)):
            topics = list(previous.topics)  # the same topics keep their order (the first leads)
        return Draft(kind=kind, slug=slug,
                     zh={p: getattr(self, f"zh_{p}").data or "" for p in PARTS},
                     en={p: getattr(self, f"en_{p}").data or "" for p in PARTS},
                     topics=topics,
                     observances=list(data.get("observances") or []),
                     related=list(data.get("related") or []),
                     cover_id=self.cover.data if isinstance(self.cover.data, int) else None,
                     note=self.note.data or "",
                     extra={"version": data["version"]} if data.get("version") else {})

    def fill(self, draft: Draft) -> None:
        for lang in LANGS:
            for p in PARTS:
                getattr(self, f"{lang}_{p}").data = draft.text(lang, p)
        self.topics.data = list(draft.topics)
        self.cover.data = draft.cover_id

    def when(self, name: str) -> datetime | None:
        value = getattr(self, name).data
        return value.replace(tzinfo=zone()) if value else None

    def add_errors(self, errors: dict) -> None:
        for name, message in errors.items():
            target = getattr(self, "cover" if name == "cover" else name, None)
            if target is not None and hasattr(target, "errors"):
                target.errors = list(target.errors or []) + [message]
            else:
                self.form_errors.append(message)


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(message=_l("Say why it is unpublished.")), Length(max=REASON_MAX)],
        description=_l("Kept with the article and in the audit log."), render_kw={"rows": 3})
    submit = SubmitField(_l("Unpublish"))


class SendBackForm(FlaskForm):
    reason = TextAreaField(_l("What needs changing"), validators=[Length(max=REASON_MAX)],
                           render_kw={"rows": 3})
    submit = SubmitField(_l("Send back to the author"))


class RestoreForm(FlaskForm):
    confirm = HiddenField(default="1")
    submit = SubmitField(_l("Restore this revision"))

