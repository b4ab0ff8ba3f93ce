from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from portal import charts, paging
from portal.core.content import register_loader
from portal.extensions import db
from portal.households import catalogue as pledge_catalogue
from portal.households import services
from portal.households.catalogue import catalogue
from portal.households.forms import (
    ApplyForm,
    ConsentForm,
    DecideForm,
    HouseholdForm,
    JoinForm,
    ReviewForm,
)
from portal.households.models import Application, Household
from portal.i18n import _
from portal.rules import RuleError
from portal.site import site

bp = Blueprint("households", __name__, template_folder="templates")


def init_app(app) -> None:
    register_loader("pledges", pledge_catalogue.check, pledge_catalogue.apply)
    services.register_personal_data()
    app.register_blueprint(bp)


def _mine() -> Household:
    household = services.household_of(g.principal)
    if household is None:
        abort(404)
    return household


def _owner() -> Household:
    household = _mine()
    if not services.is_owner(g.principal, household):
        abort(403)
    return household


def _flash(err: RuleError) -> None:
    flash(err.message, "error")


@bp.route("/household")
def mine():
    g.personal_data = True
    household = services.household_of(g.principal)
    if household is None:
        return render_template("households/start.html", form=HouseholdForm(),
                               join_form=JoinForm())
    progress = services.progress(household)
    return render_template(
        "households/dashboard.html", household=household, progress=progress,
        chart=charts.bars([(r.month[2:], r.rate) for r in progress.months[-12:]],
                          _("Share of pledges kept per month"), top=1.0,
                          reference=float(site().green_family.min_kept_rate),
                          percent_axis=True),
        eligibility=services.eligibility(household), catalogue=catalogue(),
        pledged={p.code for p in household.pledges}, months=services.reportable_months(),
        reported={r.month: set(r.kept) for r in household.reports},
        owner=services.is_owner(g.principal, household),
        consent_form=ConsentForm(show_on_wall=household.show_on_wall,
                                 staff_contact=household.staff_contact),
        apply_form=ApplyForm(), pending=services.pending_application(household))


@bp.route("/household/new", methods=["POST"])
def create():
    form = HouseholdForm()
    if form.validate_on_submit():
        try:
            services.register(g.principal, form.to_input())
        except RuleError as err:
            for name, message in err.fields.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
            if not err.fields:
                _flash(err)
        else:
            flash(_("Your household is registered. Now choose your pledges."), "success")
            return redirect(url_for("households.mine"))
    return render_template("households/start.html", form=form, join_form=JoinForm()), 400


@bp.route("/household/join", methods=["POST"])
def join():
    form = JoinForm()
    if form.validate_on_submit():
        try:
            services.join(g.principal, form.code.data)
        except RuleError as err:
            form.code.errors = [err.message]
        else:
            flash(_("You have joined the household."), "success")
            return redirect(url_for("households.mine"))
    return render_template("households/start.html", form=HouseholdForm(), join_form=form), 400


@bp.route("/household/consents", methods=["POST"])
def consents():
    household = _owner()
    form = ConsentForm()
    if form.validate_on_submit():
        services.set_consents(household, form.show_on_wall.data, form.staff_contact.data)
        flash(_("Your choices are saved and apply from now on."), "success")
    return redirect(url_for("households.mine"))


@bp.route("/household/invite", methods=["POST"])
def reset_invite():
    household = _owner()
    services.reset_invite(household)
    flash(_("There is a new invite code; the old one no longer works."), "success")
    return redirect(url_for("households.mine"))


@bp.route("/household/members/<int:user_id>/remove", methods=["POST"])
def remove_member(user_id: int):
    household = _owner()
    try:
        services.remove_member(household, user_id)
    except RuleError as err:
        _flash(err)
    else:
        flash(_("The member has been removed."), "success")
    return redirect(url_for("households.mine"))


@bp.route("/household/pledges", methods=["POST"])
def pledges():
    household = _mine()
    try:
        services.set_pledges(household, request.form.getlist("codes"))
    except RuleError as err:
        _flash(err)
    else:
        flash(_("Your pledges are saved."), "success")
    return redirect(url_for("households.mine") + "#pledges")


@bp.route("/household/report", methods=["POST"])
def report():
    household = _mine()
    try:
        services.report(household, request.form.get("month", ""),
                        request.form.getlist("kept"))
    except RuleError as err:
        _flash(err)
    else:
        flash(_("Your report is saved."), "success")
    return redirect(url_for("households.mine") + "#report")


@bp.route("/household/apply", methods=["POST"])
def apply():
    household = _mine()
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            services.apply(household, form.story.data, g.principal)
        except RuleError as err:
            _flash(err)
        else:
            flash(_("Your application has been sent; staff will review it."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("households.mine") + "#recognition")


@bp.route("/household/certificate")
def certificate():
    household = _mine()
    if household.status not in ("named", "rectification") or not household.certificate_code:
        abort(404)
    return render_template("households/certificate.html", household=household)


# -- public ------------------------------------------------------------------------------------

@bp.route("/households")
def wall():
    return render_template("households/wall.html", page=services.wall(paging.cursor()),
                           totals=services.district_totals())


@bp.route("/verify")
def verify():
    code = request.args.get("code", "")
    household = services.verify(code) if code else None
    status = 404 if code and household is None else 200
    return render_template("households/verify.html", code=code[:20], household=household,
                           checked=bool(code)), status


# -- staff -------------------------------------------------------------------------------------

@bp.route("/manage/households")
def manage_list():
    g.personal_data = True
    district = request.args.get("district") or None
    status = request.args.get("status") or None
    district = district if district and site().division(district) else None
    status = status if status in services.STATUSES else None
    return render_template("households/manage_list.html",
                           households=services.staff_list(paging.cursor(), district, status),
                           applications=services.applications_page(
                               paging.keyset_cursor(services.APPLICATION_ORDER)),
                           district=district, status=status, statuses=services.STATUSES)


@bp.route("/manage/households/<int:household_id>", methods=["GET"])
def manage_detail(household_id: int):
    g.personal_data = True
    household = db.get_or_404(Household, household_id)
    return render_template("households/manage_detail.html", household=household,
                           phone=None, review_form=ReviewForm(),
                           progress=services.progress(household))


@bp.route("/manage/households/<int:household_id>/unmask", methods=["POST"])
def unmask(household_id: int):
    g.personal_data = True
    household = db.get_or_404(Household, household_id)
    phone = services.unmask_phone(household, g.principal)
    return render_template("households/manage_detail.html", household=household, phone=phone,
                           review_form=ReviewForm(),
                           progress=services.progress(household))


@bp.route("/manage/households/<int:household_id>/review", methods=["POST"])
def review(household_id: int):
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.review(household_id, form.action.data, g.principal, form.reason.data,
                            form.rectify_by.data)
        except RuleError as err:
            _flash(err)
        else:
            flash(_("The review is recorded."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("households.manage_detail", household_id=household_id))


@bp.route("/manage/applications/<int:application_id>", methods=["GET", "POST"])
def decide(application_id: int):
    g.personal_data = True
    application = db.get_or_404(Application, application_id)
    form = DecideForm()
    if form.validate_on_submit():
        try:
            services.decide(application_id, form.decision.data == "approve", g.principal,
                            form.reason.data)
        except RuleError as err:
            _flash(err)
        else:
            flash(_("The decision is recorded and the household can see it."), "success")
            return redirect(url_for("households.manage_list"))
    return render_template("households/decide.html", application=application, form=form,
                           eligibility=services.eligibility(application.household))


@bp.app_template_global()
def household_status_label(status: str) -> str:
    return {"none": _("not yet recognised"), "named": _("green family"),
            "rectification": _("green family, asked to put things right"),
            "revoked": _("recognition revoked"), "pending": _("being reviewed"),
            "approved": _("approved"), "rejected": _("not approved"),
            "applied": _("applied"), "confirm": _("confirmed on review"),
            "rectify": _("asked to put things right"), "revoke": _("recognition revoked")
            }.get(status, status)


@bp.app_template_global()
def masked_name(name: str) -> str:
    return services.mask_name(name)


@bp.app_template_global()
def masked_phone(phone: str | None) -> str:
    return services.mask_phone(phone)
