"""The media library: pictures staff upload once (checked, re-encoded, in responsive sizes),
with alt text in both languages and a credit, picked for articles and events."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from werkzeug.routing import BaseConverter

from portal import paging
from portal.i18n import _
from portal.media import services
from portal.media.forms import MediaTextsForm, UploadForm
from portal.rules import RuleError

bp = Blueprint(__name__.split(".")[1], __name__, template_folder="templates")

#: A year: a variant's name never names other pixels (a new upload gets a new random stem).
IMMUTABLE = "public, max-age=31536000, immutable"


class MediaFileConverter(BaseConverter):
    """``<stem>-<width>.<webp|jpg>``, strictly; tried before ``/media/<name>`` of the school
    posts' covers (lower weight), whose names have no hyphen."""

    regex = r"[a-z0-9]{16,64}-\d{2,4}\.(?:webp|jpg)"
    weight = 10


def init_app(app) -> None:
    app.url_map.converters["media_file"] = MediaFileConverter
    app.register_blueprint(bp)


@bp.route("/media/<media_file:file>")
def file(file: str):
    path = services.path_of(file)
    if path is None:
        abort(404)
    answer = send_file(path, mimetype=services.content_type(file), conditional=True,
                       max_age=31536000)
    answer.headers["Cache-Control"] = IMMUTABLE
    return answer


@bp.route("/manage/media")
def library():
    query = " ".join(request.args.get("q", "").split())[:100]
    page = services.library_page(paging.cursor(), query)
    return render_template("media/library.html", page=page, query=query)


@bp.route("/manage/media/new", methods=["GET", "POST"])
def new():
    form = UploadForm()
    if request.method == "POST":
        form.validate()  # field messages; the service checks everything again
        try:
            media = services.upload(g.principal, form.file.data, form.alt_zh.data,
                                    form.alt_en.data, form.credit.data, form.licence.data)
        except RuleError as err:
            for name, message in err.fields.items():
                field = getattr(form, name, None)
                if field is not None and message not in field.errors:
                    field.errors = list(field.errors or []) + [message]
            if not err.fields:
                flash(err.message, "error")
        else:
            flash(_("The picture has been added to the library."), "success")
            return redirect(url_for("media.edit", media_id=media.id))
    return render_template("media/new.html", form=form), 400 if form.errors else 200


@bp.route("/manage/media/<int:media_id>", methods=["GET", "POST"])
def edit(media_id: int):
    media = services.get(media_id)
    if media is None:
        abort(404)
    form = MediaTextsForm(obj=media)
    if form.validate_on_submit():
        try:
            services.update(g.principal, media.id, form.alt_zh.data, form.alt_en.data,
                            form.credit.data, form.licence.data)
        except RuleError as err:
            form.add_errors(err.fields)
            if not err.fields:
                flash(err.message, "error")
        else:
            flash(_("The picture's description has been saved."), "success")
            return redirect(url_for("media.edit", media_id=media.id))
    return render_template("media/edit.html", form=form, media=media,
                           uses=services.uses(media.id),
                           html=render_template("media/_html.html", media=media).strip()), \
        400 if form.errors else 200


@bp.route("/manage/media/<int:media_id>/delete", methods=["GET", "POST"])
def delete(media_id: int):
    media = services.get(media_id)
    if media is None:
        abort(404)
    uses = services.uses(media.id)
    if request.method == "POST":
        try:
            services.delete(g.principal, media.id)
        except RuleError as err:
            flash(err.message, "error")
            return redirect(url_for("media.edit", media_id=media_id))
        flash(_("The picture has been deleted."), "success")
        return redirect(url_for("media.library"))
    return render_template("media/delete.html", media=media, uses=uses)
