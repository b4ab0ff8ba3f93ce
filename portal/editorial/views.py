"""The editorial back office (``/manage/content``): the list, the editor (both languages side
by side), the preview, revisions with a readable diff, restore, unpublish and send back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from portal import diffing
from portal.core.cli import content_cli
from portal.core.content import register_loader
from portal.editorial import cli, services
from portal.editorial.forms import EntryForm, ReasonForm, RestoreForm, SendBackForm
from portal.editorial.models import LANGS, STATUSES
from portal.editorial.services import PUBLISHERS
from portal.i18n import _, _l, current_locale
from portal.inbox import services as inbox
from portal.learn import content
from portal.learn import services as learn
from portal.paging import cursor, keyset_cursor
from portal.rules import RuleError
from portal.site import zone

bp = Blueprint(__name__.split(".")[1], __name__, template_folder="templates")


def init_app(app) -> None:
    # The library's files: topics and days (learn), then articles and pages as entries.
    register_loader("learn", content.load, services.apply_content)
    app.config.setdefault("EDITORIAL_SECOND_REVIEW", False)
    content_cli.add_command(cli.content_export)  # flask content export DIR
    app.jinja_env.globals.update(kind_name=kind_name, status_name=status_name,
                                 source_name=source_name,
                                 translation_statuses=services.translation_status,
                                 entry_title=_entry_title)
    inbox.register_source("editorial.submitted", _l("Articles submitted for review"),
                          services.submitted_count, services.submitted_items,
                          "editorial.index", roles=PUBLISHERS)
    app.register_blueprint(bp)


def kind_name(kind: str) -> str:
    return str(services.KIND_LABELS.get(kind, kind))


def status_name(status: str) -> str:
    return str(services.STATUS_LABELS.get(status, status))


def source_name(source: str) -> str:
    return str(services.SOURCE_LABELS.get(source, source))


def _entry_or_404(entry_id: int):
    entry = services.get(entry_id)
    if entry is None:
        abort(404)
    return entry


def _entry_title(entry, latest) -> str:
    """What the back office calls an entry: its newest title in the reader's language (else
    the other), else its address name."""
    return services.title_of(latest, current_locale()) or entry.slug


@bp.route("/manage/content")
def index():
    kind = request.args.get("kind") or None
    status = request.args.get("status") or None
    if kind not in (None, *services.EDITABLE_KINDS) or status not in (None, *STATUSES):
        abort(400)
    page = services.entries_page(kind, status, keyset_cursor(services.LIST_ORDER))
    return render_template("editorial/index.html", page=page, kind=kind, status=status,
                           kinds=services.EDITABLE_KINDS, statuses=STATUSES)


def _form(**kwargs) -> EntryForm:
    return EntryForm(topics=learn.topics(), locale=current_locale(), **kwargs)


def _same(rev, draft) -> bool:
    """Would saving ``draft`` change nothing (same texts, topics and picture, no note)?"""
    if rev is None:
        return False
    return not draft.note and all(rev.text(lang, p) == draft.text(lang, p).strip()
                                  if p != "body" else rev.text(lang, p) == draft.text(lang, p)
                                  for lang in LANGS for p in services.PARTS) \
        and sorted(rev.topics or []) == sorted(set(draft.topics)) \
        and (rev.data or {}).get("cover") == draft.cover_id


def _act(form: EntryForm, entry, draft):
    """Save (unless nothing changed), then do what the pressed button asks; the entry."""
    action = form.action()
    user = g.principal
    rev = services.latest(entry) if entry is not None else None
    if not _same(rev, draft):
        if rev is not None and (rev.data or {}).get("version"):
            draft.extra = {"version": rev.data["version"]}  # a page's version (privacy)
        rev = services.save(user, entry, draft)
        entry = services.get(rev.entry_id)
        flash(_("Saved as revision %(n)d.", n=rev.number), "success")
    if action == "submit_review":
        services.submit(user, entry)
        flash(_("Submitted for review."), "success")
    elif action == "publish":
        services.publish(user, entry)
        flash(_("Published."), "success")
    elif action == "schedule":
        services.schedule(user, entry, form.when("publish_at"), form.when("unpublish_at"))
        flash(_("The schedule has been saved."), "success")
    return entry


def _editor(form, entry, kind, previews=None, status=200):
    rev = services.latest(entry) if entry is not None else None
    return render_template(
        "editorial/edit.html", form=form, entry=entry, kind=kind, latest=rev,
        statuses=services.translation_status(entry) if entry is not None else [],
        can_publish=services.can_publish(g.principal), previews=previews,
        observances=learn.observances() if kind == "campaign" and entry is None else [],
        public_path=services.public_path(entry) if entry is not None else None,
        send_back=SendBackForm(prefix="back") if entry is not None else None), status


def _handle(form: EntryForm, entry, kind: str, slug: str):
    # What the form does not edit (observance days, related articles, a page's version)
    # comes from the newest revision: a save in the browser must not drop it.
    draft = form.draft(kind, slug, services.latest(entry) if entry is not None else None)
    if form.action() == "preview":
        try:
            previews = services.preview(draft)
        except RuleError as err:
            form.add_errors(err.fields)
            return _editor(form, entry, kind, status=422)
        return _editor(form, entry, kind, previews=previews)
    try:
        entry = _act(form, entry, draft)
    except RuleError as err:
        if err.fields:
            form.add_errors(err.fields)
        else:
            flash(err.message, "error")
        return _editor(form, entry, kind, status=err.status if err.fields else 200)
    return redirect(url_for("editorial.edit", entry_id=entry.id))


@bp.route("/manage/content/new", methods=["GET", "POST"])
def new():
    kind = request.args.get("kind", "article")
    if kind not in services.EDITABLE_KINDS:
        abort(404)
    form = _form()
    if request.method == "POST" and form.validate_on_submit():
        return _handle(form, None, kind, (form.slug.data or "").strip())
    return _editor(form, None, kind, status=400 if form.errors else 200)


@bp.route("/manage/content/<int:entry_id>", methods=["GET", "POST"])
def edit(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = _form()
    if request.method == "GET":
        rev = services.latest(entry)
        if rev is not None:
            form.fill(services.draft_of(rev, entry))
        tz = zone()
        form.publish_at.data = entry.publish_at.astimezone(tz).replace(tzinfo=None) \
            if entry.publish_at else None
        form.unpublish_at.data = entry.unpublish_at.astimezone(tz).replace(tzinfo=None) \
            if entry.unpublish_at else None
    elif form.validate_on_submit():
        return _handle(form, entry, entry.kind, entry.slug)
    return _editor(form, entry, entry.kind, status=400 if form.errors else 200)


@bp.route("/manage/content/<int:entry_id>/send-back", methods=["POST"])
def send_back(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = SendBackForm(prefix="back")
    if form.validate_on_submit():
        services.send_back(g.principal, entry, form.reason.data or "")
        flash(_("Sent back to the author."), "success")
    return redirect(url_for("editorial.edit", entry_id=entry.id))


@bp.route("/manage/content/<int:entry_id>/revisions")
def revisions(entry_id: int):
    entry = _entry_or_404(entry_id)
    page = services.revisions_page(entry, cursor())
    return render_template("editorial/revisions.html", entry=entry, page=page,
                           latest=services.latest(entry))


def _diffs(old, new) -> list[tuple[str, str, list]]:
    """(language, part, rows) for each text of the two revisions that differs."""
    names = {"title": _("Title"), "summary": _("Summary"), "body": _("Text")}
    langs = {"zh": _("Chinese"), "en": _("English")}
    out = []
    for lang in LANGS:
        for part in services.PARTS:
            a = old.text(lang, part) if old is not None else ""
            b = new.text(lang, part)
            if diffing.changed(a, b):
                out.append((langs[lang], names[part], diffing.rows(a, b)))
    return out


@bp.route("/manage/content/<int:entry_id>/revisions/<int:number>")
def revision(entry_id: int, number: int):
    entry = _entry_or_404(entry_id)
    rev = services.revision(entry, number)
    if rev is None:
        abort(404)
    old = services.revision(entry, number - 1) if number > 1 else None
    return render_template("editorial/revision.html", entry=entry, rev=rev, old=old,
                           diffs=_diffs(old, rev), form=RestoreForm(),
                           latest=services.latest(entry))


@bp.route("/manage/content/<int:entry_id>/revisions/<int:number>/restore",
          methods=["GET", "POST"])
def restore(entry_id: int, number: int):
    entry = _entry_or_404(entry_id)
    rev = services.revision(entry, number)
    if rev is None:
        abort(404)
    form = RestoreForm()
    if request.method == "POST" and form.validate_on_submit():
        new_rev = services.restore(g.principal, entry, number)
        flash(_("Revision %(old)d was restored as revision %(new)d.", old=number,
                new=new_rev.number), "success")
        return redirect(url_for("editorial.edit", entry_id=entry.id))
    return render_template("editorial/restore.html", entry=entry, rev=rev, form=form,
                           latest=services.latest(entry))


@bp.route("/manage/content/<int:entry_id>/unpublish", methods=["GET", "POST"])
def unpublish(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = ReasonForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.unpublish(g.principal, entry, form.reason.data)
        except RuleError as err:
            if not err.fields:
                raise
            form.reason.errors = list(err.fields.values())
        else:
            flash(_("It has been taken off the site."), "success")
            return redirect(url_for("editorial.edit", entry_id=entry.id))
    return render_template("editorial/unpublish.html", entry=entry, form=form,
                           latest=services.latest(entry)), 400 if form.errors else 200
