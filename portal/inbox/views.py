"""The staff inbox (everything waiting for a staff decision, from every feature) and the
notifications people get on the site and by mail."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from portal import paging
from portal.db import utcnow
from portal.i18n import _, format_age
from portal.inbox import services, sources

bp = Blueprint(__name__.split(".")[1], __name__, template_folder="templates")


def init_app(app) -> None:
    sources.register()
    services.register_personal_data()
    app.register_blueprint(bp)


@bp.app_context_processor
def header_counts() -> dict:
    """The header's unread count and, for staff, the inbox's total: one statement for both,
    asked only when a page's header shows them (signed-in pages)."""
    def counts() -> tuple[int, int | None]:
        if "header_counts" not in g:
            g.header_counts = services.header_counts(g.get("principal"))
        return g.header_counts

    return {"unread_notifications": lambda: counts()[0], "inbox_total": lambda: counts()[1],
            "unread_shown": services.UNREAD_SHOWN}


@bp.app_template_filter("age")
def age(value: datetime | None) -> str:
    """How long ago (``3 天前``, "3 days ago")."""
    return format_age(utcnow() - value) if value is not None else ""


@bp.app_template_global()
def notification_sentence(row) -> str:
    return services.sentence(row)


# -- notifications -------------------------------------------------------------------------

@bp.route("/notifications")
def notifications():
    return render_template("inbox/notifications.html",
                           rows=services.page(g.principal, paging.cursor()))


@bp.route("/notifications/read", methods=["POST"])
def mark_read():
    services.mark_all_read(g.principal)
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("inbox.notifications"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
def settings():
    if request.method == "POST":
        services.save_settings(g.principal, set(request.form.getlist("mail")))
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("inbox.settings"))
    return render_template("inbox/settings.html", kinds=services.kinds(g.principal),
                           chosen=services.mail_settings(g.principal))


# -- the staff inbox -------------------------------------------------------------------------

@bp.route("/manage/inbox")
def inbox():
    sections = services.overview(g.principal)
    if not sections:
        abort(403)
    return render_template("inbox/inbox.html", sections=sections, more_url=more_url)


def more_url(source) -> str:
    return source.more if source.more.startswith("/") else url_for(source.more)
