"""The audit log's staff page and its CSV export (administrators)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from portal import csvexport, paging
from portal.audit import services
from portal.audit.services import Filters
from portal.i18n import _
from portal.rules import RuleError
from portal.site import zone

bp = Blueprint(__name__.split(".")[1], __name__, template_folder="templates")


def init_app(app) -> None:
    app.register_blueprint(bp)


def _filters() -> tuple[Filters, dict]:
    try:
        return services.filters(request.args), {}
    except RuleError as err:
        return Filters(person=(request.args.get("person") or "")[:80],
                       action=(request.args.get("action") or "")[:32]), err.fields


def _page(f: Filters, errors: dict, status: int = 200):
    rows = None if errors else services.page(f, paging.cursor())
    return render_template("audit/log.html", rows=rows, f=f, errors=errors,
                           raw={k: request.args.get(k, "") for k in ("from", "to")},
                           actions=services.actions()), status


@bp.route("/manage/audit")
def log():
    f, errors = _filters()
    return _page(f, errors, 400 if errors else 200)


@bp.route("/manage/audit.csv")
def export():
    f, errors = _filters()
    if errors:
        return _page(f, errors, 400)
    header = [_("Time (Beijing time)"), _("Person"), _("Action"), _("What happened"),
              _("Reason")]
    return csvexport.response("audit-log", header, _csv_rows(f))


def _csv_rows(f: Filters):
    place = zone()
    for entry in services.all_rows(f):
        yield [entry.created_at.astimezone(place).strftime("%Y-%m-%d %H:%M:%S"),
               person(entry), services.action_name(entry.action), services.sentence(entry),
               entry.reason]


@bp.app_template_global("audit_person")
def person(entry) -> str:
    if entry.actor is not None:
        return entry.actor.display_name
    return _("Automatically") if services.is_automatic(entry) else _("A deleted account")


@bp.app_template_global("audit_sentence")
def sentence(entry) -> str:
    return services.sentence(entry)
