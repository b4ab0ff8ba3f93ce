import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

import click
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.cli import AppGroup

from portal import charts, csvexport
from portal.dashboard import opendata, services, stats
from portal.i18n import _, current_locale, format_number
from portal.rules import RuleError
from portal.site import zone

bp = Blueprint("dashboard", __name__, template_folder="templates")


stats_cli = AppGroup("stats", help="The summary figures (derived from the records).")


@stats_cli.command("rebuild")
def rebuild_stats():
    """Recompute every summary figure from the records."""
    with click.progressbar(length=len(stats.METRICS), label="Summary figures",
                           show_pos=True) as bar:
        def each(metrics):
            for metric in metrics:
                yield metric
                bar.update(1)

        rows = stats.rebuild(each)
    click.echo(f"summary figures: {len(stats.METRICS)} metrics, {rows} rows")


def init_app(app) -> None:
    app.register_blueprint(bp)
    stats.init_app(app)
    app.cli.add_command(stats_cli)


def _csv(name: str, header: list[str], rows) -> Response:
    return csvexport.response(name, header, rows)


def _target_rows(locale: str) -> list[list]:
    return [[p.target.key, p.target.text(locale), p.target.target, p.target.year,
             "" if p.value is None else p.value,
             "" if p.share is None else f"{p.share * 100:.1f}",
             p.as_of.isoformat() if p.as_of else "", p.note] for p in services.progress()]


def _district_rows() -> list[list]:
    return [[d.code, d.label(), *[v[m] for m in services.HEADLINES]]
            for d, v in services.by_district()]


@bp.route("/dashboard")
def overview():
    locale = current_locale()
    figures = services.overview()
    return render_template(
        "dashboard/overview.html", progress=figures.progress, districts=figures.districts,
        headlines=figures.headlines, labels=services.headline_labels(),
        metrics=services.HEADLINES, charts=charts,
        now=datetime.now(zone()), locale=locale)


@bp.route("/dashboard/<table>.csv")
def table_csv(table: str):
    locale = current_locale()
    if table == "targets":
        return _csv("targets", ["key", "label", "target", "year", "value", "share_percent",
                                "as_of", "source"], _target_rows(locale))
    if table == "districts":
        return _csv("districts", ["district", "name", *services.HEADLINES], _district_rows())
    abort(404)


@bp.route("/dashboard/staff")
def staff():
    g.personal_data = True
    figures = services.overview(with_districts=False)
    return render_template("dashboard/staff.html", progress=figures.progress,
                           schools=services.by_school(), labels=services.headline_labels(),
                           metrics=services.HEADLINES, history=figures.entered)


@bp.route("/dashboard/staff/<table>.csv")
def staff_csv(table: str):
    if table == "schools":
        return _csv("schools", ["slug", "name", "district", "published_activities"],
                    [[s.slug, s.name_zh, s.district, v["published_activities"]]
                     for s, v in services.by_school()])
    abort(404)


@bp.route("/dashboard/figures", methods=["POST"])
def enter_figure():
    try:
        value = Decimal(request.form.get("value", "").strip())
    except InvalidOperation:
        value = None
    try:
        as_of = datetime.strptime(request.form.get("as_of", ""), "%Y-%m-%d").date()
    except ValueError:
        as_of = None
    try:
        services.enter_figure(request.form.get("key", ""), value, as_of,
                              request.form.get("source", ""), g.principal)
    except RuleError as err:
        for message in err.fields.values():
            flash(message, "error")
    else:
        flash(_("The figure is saved; the previous ones stay in its history."), "success")
    return redirect(url_for("dashboard.staff"))


@bp.route("/open-data")
def open_data():
    return render_template("dashboard/open_data.html", datasets=opendata.DATASETS,
                           licence=opendata.LICENCE, now=datetime.now(zone()))


@bp.route("/open-data/<name>.<fmt>")
def dataset(name: str, fmt: str):
    found = opendata.dataset(name)
    if found is None or fmt not in ("csv", "json"):
        abort(404)
    fields = [f for f, _d in found.fields]
    if fmt == "json":
        return Response(stream_with_context(csvexport.in_chunks(_json_lines(found, fields))),
                        mimetype="application/json")
    return _csv(found.name, fields,
                ([r[f] if r[f] is not None else "" for f in fields] for r in found.rows()))


def _json_lines(found, fields: list[str]):
    """The dataset as one JSON document, written a row at a time (constant memory)."""
    head = json.dumps({"dataset": found.name, "generated_at": datetime.now(zone()).isoformat(),
                       "licence": str(opendata.LICENCE), "fields": fields},
                      ensure_ascii=False, indent=1)
    yield head[:-2] + ',\n "rows": ['
    for i, row in enumerate(found.rows()):
        yield ("," if i else "") + "\n  " + json.dumps(row, ensure_ascii=False)
    yield "\n ]\n}"


@bp.app_template_global()
def district_points(districts, metric: str) -> list[tuple[str, float]]:
    return [(d.label()[:2], float(values[metric])) for d, values in districts]


@bp.app_template_global()
def trend_points(trend) -> list[tuple[str, float]]:
    return [(month[2:], float(value)) for month, value in trend]


@bp.app_template_global()
def target_value(value, unit: str) -> str:
    if value is None:
        return "—"
    return f"{format_number(value)}%" if unit == "percent" else format_number(value)


