from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from portal import diffing, paging
from portal.db import utcnow
from portal.events.models import Event
from portal.events.services import published_between
from portal.extensions import db
from portal.i18n import _, current_locale
from portal.learn import services as learn
from portal.rules import RuleError
from portal.schools import cli, reports, search, services, uploads
from portal.schools.forms import (
    LEVEL_LABELS,
    TYPE_LABELS,
    ActivityForm,
    GreenStatusForm,
    InviteForm,
    ReasonForm,
    SchoolForm,
    SubmitForm,
)
from portal.schools.models import SCHOOL_TYPES, VERIFIED, Activity, School
from portal.schools.services import ActivityInput, SchoolInput
from portal.site import site

bp = Blueprint("schools", __name__, template_folder="templates")


def init_app(app) -> None:
    app.config.setdefault("SCHOOLS_REPORTS_TO_HIDE", 3)
    app.config.setdefault("SCHOOLS_INVITE_DAYS", 7)  # an editor invitation is valid this long
    search.register()
    services.register_personal_data()
    app.register_blueprint(bp)
    app.cli.add_command(cli.schools_cli)


def _school(slug: str, verified: bool = True) -> School:
    school = db.one_or_404(db.select(School).where(School.slug == slug))
    if verified and school.status != VERIFIED and not services.is_staff(g.principal):
        abort(404)
    return school


def _editor_school(slug: str) -> School:
    school = _school(slug)
    if not services.is_editor(g.principal, school):
        abort(403)
    return school


# -- public ------------------------------------------------------------------------------------

@bp.route("/schools")
def directory():
    district = request.args.get("district") or None
    kind = request.args.get("type") or None
    district = district if district and site().division(district) else None
    kind = kind if kind in SCHOOL_TYPES else None
    return render_template("schools/directory.html",
                           schools=services.directory(paging.keyset_cursor(services.DIRECTORY_ORDER),
                                                      district, kind),
                           district=district, kind=kind, types=TYPE_LABELS)


@bp.route("/schools/<slug>")
def school(slug: str):
    found = _school(slug)
    return render_template("schools/school.html", school=found,
                           activities=services.published_page(
                               found, paging.keyset_cursor(services.PUBLISHED_ORDER)),
                           types=TYPE_LABELS,
                           levels=LEVEL_LABELS, editor=services.is_editor(g.principal, found))


@bp.route("/schools/<slug>/feed.atom")
def feed(slug: str):
    found = _school(slug)
    body = render_template("schools/feed.atom", school=found,
                           activities=services.published_for(found, 30))
    return Response(body, mimetype="application/atom+xml")


@bp.route("/activities/<int:activity_id>")
def activity(activity_id: int):
    post = db.get_or_404(Activity, activity_id)
    if not services.can_view(g.principal, post):
        abort(404)
    preview = not post.public
    title = post.title if post.public else post.draft_title
    return render_template("schools/activity.html", post=post, title=title,
                           html=post.shown_html(), preview=preview, report_form=ReasonForm())


@bp.route("/activities/<int:activity_id>/report", methods=["POST"])
def report(activity_id: int):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.report(g.principal, activity_id, form.reason.data)
        except RuleError as err:
            flash(err.message, "error")
        else:
            flash(_("Thank you. Staff will look at the post."), "success")
    return redirect(url_for("schools.activity", activity_id=activity_id))


@bp.route("/media/<name>")
def media(name: str):
    path = uploads.path_of(name)
    if path is None:
        abort(404)
    post = db.session.scalar(db.select(Activity).where(
        (Activity.cover == name) | (Activity.draft_cover == name)))
    if post is None:
        abort(404)
    public_cover = post.public and post.cover == name
    if not (public_cover or services.is_staff(g.principal)
            or services.is_editor(g.principal, post.school)):
        abort(404)
    return send_file(path, max_age=3600)


# -- applying and editing ------------------------------------------------------------------------

@bp.route("/schools/apply", methods=["GET", "POST"])
def apply():
    form = SchoolForm()
    if form.validate_on_submit():
        try:
            services.apply_school(g.principal, SchoolInput(
                form.name_zh.data, form.name_en.data or "", form.district.data, form.type.data,
                form.address.data or "", form.contact.data))
        except RuleError as err:
            for name, message in err.fields.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        else:
            flash(_("Thank you. Staff will check the application."), "success")
            return redirect(url_for("schools.mine"))
    return render_template("schools/apply.html", form=form), 400 if form.errors else 200


@bp.route("/schools/mine")
def mine():
    return render_template("schools/mine.html", schools=services.schools_of(g.principal),
                           posts=services.posts_of_editor(g.principal, paging.cursor()))


#: The events a post can be linked to: those of the half year before and the year after today,
#: at most this many (the list is a drop-down, not every event ever held).
LINKABLE_EVENTS = 200


def _linkable_events(post: Activity | None) -> list:
    now = utcnow()
    events = published_between(now - timedelta(days=183), now + timedelta(days=366),
                               limit=LINKABLE_EVENTS, listed=True)
    if post is not None and post.event_id and all(e.id != post.event_id for e in events):
        linked = db.session.get(Event, post.event_id)  # an older link stays choosable
        if linked is not None:
            events.insert(0, linked)
    return events


def _activity_form(post: Activity | None = None) -> ActivityForm:
    form = ActivityForm(topics=learn.topics(), events=_linkable_events(post),
                        locale=current_locale())
    if post is not None and request.method == "GET":
        form.title.data, form.body.data = post.draft_title, post.draft_body
        form.activity_date.data, form.topics.data = post.draft_date, post.draft_topics
        form.event_id.data = str(post.event_id) if post.event_id else ""
    return form


def _save(school: School, form: ActivityForm, post: Activity | None):
    cover = None
    upload = form.cover.data
    if upload and getattr(upload, "filename", ""):
        try:
            cover = uploads.store_image(upload.read(uploads.MAX_BYTES + 1))
        except RuleError as err:
            form.cover.errors = [err.message]
            return None
    try:
        return services.save_activity(g.principal, school, ActivityInput(
            form.title.data, form.body.data, form.activity_date.data, form.topics.data or [],
            cover, int(form.event_id.data) if form.event_id.data else None),
            post.id if post else None)
    except RuleError as err:
        for name, message in err.fields.items():
            getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        return None


@bp.route("/schools/<slug>/activities/new", methods=["GET", "POST"])
def new_activity(slug: str):
    found = _editor_school(slug)
    form = _activity_form()
    if form.validate_on_submit():
        post = _save(found, form, None)
        if post is not None:
            flash(_("The draft is saved. Send it for review when it is ready."), "success")
            return redirect(url_for("schools.edit_activity", activity_id=post.id))
    return render_template("schools/edit.html", form=form, school=found, post=None,
                           submit_form=SubmitForm()), 400 if form.errors else 200


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
def edit_activity(activity_id: int):
    try:
        post = services.editable(g.principal, activity_id)
    except RuleError:
        abort(404)
    form = _activity_form(post)
    if form.validate_on_submit():
        if _save(post.school, form, post) is not None:
            flash(_("The draft is saved. Send it for review when it is ready."), "success")
            return redirect(url_for("schools.edit_activity", activity_id=post.id))
    return render_template("schools/edit.html", form=form, school=post.school, post=post,
                           submit_form=SubmitForm()), 400 if form.errors else 200


@bp.route("/activities/<int:activity_id>/submit", methods=["POST"])
def submit_activity(activity_id: int):
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            services.submit(g.principal, activity_id, form.consent.data)
        except RuleError as err:
            if err.status == 404:
                abort(404)
            flash(err.message, "error")
        else:
            flash(_("Sent for review."), "success")
    return redirect(url_for("schools.edit_activity", activity_id=activity_id))


@bp.route("/schools/<slug>/editors", methods=["GET", "POST"])
def editors(slug: str):
    found = _editor_school(slug)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite_editor(found, g.principal, form.email.data)
        except RuleError as err:
            form.email.errors = [err.message]
        else:
            flash(_("The invitation has been sent."), "success")
            return redirect(url_for("schools.editors", slug=slug))
    return render_template("schools/editors.html", school=found,
                           form=form), 400 if form.errors else 200


@bp.route("/schools/<slug>/editors/<int:user_id>/remove", methods=["POST"])
def remove_editor(slug: str, user_id: int):
    found = _editor_school(slug)
    try:
        services.remove_editor(found, g.principal, user_id)
    except RuleError as err:
        flash(err.message, "error")
    return redirect(url_for("schools.editors", slug=slug))


@bp.route("/schools/invites/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    if request.method == "POST":
        try:
            found = services.accept_invite(g.principal, token)
        except RuleError as err:
            flash(err.message, "error")
            return redirect(url_for("schools.mine"))
        flash(_("You are now an editor of %(name)s.", name=found.name(current_locale())),
              "success")
        return redirect(url_for("schools.mine"))
    try:  # an expired or someone else's invitation: say so, and offer no button
        invite = services.check_invite(g.principal, token)
    except RuleError as err:
        return render_template("schools/accept.html", token=token, invite=None,
                               problem=err.message, expired=err.code == "invite_expired"), \
            err.status
    return render_template("schools/accept.html", token=token, invite=invite, problem=None)


# -- staff -------------------------------------------------------------------------------------

@bp.route("/manage/schools")
def manage_schools():
    return render_template("schools/manage.html",
                           pending=services.pending_page(
                               paging.keyset_cursor(services.PENDING_ORDER)),
                           schools=services.directory(
                               paging.keyset_cursor(services.DIRECTORY_ORDER, "school_after"),
                               param="school_after"),
                           types=TYPE_LABELS,
                           levels=LEVEL_LABELS,
                           reason_form=ReasonForm(), green_form=GreenStatusForm())


@bp.route("/manage/schools/<int:school_id>/<decision>", methods=["POST"])
def decide_school(school_id: int, decision: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if decision == "verify":
            services.verify_school(school_id, g.principal)
        elif decision == "reject":
            services.reject_school(school_id, g.principal, form.reason.data)
        else:
            abort(404)
    except RuleError as err:
        flash(err.message, "error")
    else:
        flash(_("The decision is recorded."), "success")
    return redirect(url_for("schools.manage_schools"))


@bp.route("/manage/schools/<int:school_id>/green", methods=["POST"])
def green_status(school_id: int):
    db.get_or_404(School, school_id)  # no such school: 404, not a crash in the service
    form = GreenStatusForm()
    if form.validate_on_submit():
        try:
            services.set_green_status(school_id, form.level.data or "", form.year.data,
                                      g.principal)
        except RuleError as err:
            flash(err.message, "error")
        else:
            flash(_("The green-school status is saved."), "success")
    return redirect(url_for("schools.manage_schools"))


@bp.route("/manage/moderation")
def moderation():
    return render_template("schools/moderation.html",
                           queue=services.queue_page(paging.keyset_cursor(services.QUEUE_ORDER)),
                           hidden=reports.hidden_by_reports(
                               paging.keyset_cursor(reports.HIDDEN_ORDER, "hidden_after")),
                           reported=reports.reported_visible(
                               paging.keyset_cursor(reports.REPORTED_ORDER, "reported_after")))


@bp.route("/manage/moderation/<int:activity_id>", methods=["GET", "POST"])
def moderate(activity_id: int):
    post = db.get_or_404(Activity, activity_id)
    form = ReasonForm()
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action")
        try:
            if action == "approve":
                services.approve(activity_id, g.principal)
            elif action == "reject":
                services.reject(activity_id, g.principal, form.reason.data)
            elif action in ("hide", "restore"):
                services.set_hidden(activity_id, g.principal, action == "hide", form.reason.data)
            else:
                abort(400)
        except RuleError as err:
            flash(err.message, "error")
        else:
            flash(_("The decision is recorded."), "success")
            return redirect(url_for("schools.moderation"))
    return render_template("schools/moderate.html", post=post, form=form,
                           reports=reports.reports_of(post.id, paging.cursor()),
                           preview=post.html(draft=bool(post.draft_body)),
                           diff=diffing.rows(post.body, post.draft_body)
                           if post.published_at and post.review == "submitted" else None)


@bp.app_template_global()
def post_state(post: Activity) -> str:
    if post.hidden:
        return _("hidden")
    if post.review == "submitted":
        return _("waiting for review")
    if post.review == "rejected":
        return _("not approved")
    return {"draft": _("draft"), "published": _("published")}.get(post.status, post.status)
