from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from portal import paging
from portal.i18n import _n
from portal.jobs import services
from portal.jobs.cli import jobs_cli

bp = Blueprint("jobs", __name__, template_folder="templates")


def init_app(app) -> None:
    app.cli.add_command(jobs_cli)
    app.register_blueprint(bp)



@bp.app_template_global()
def job_kind_label(kind: str) -> str:
    return services.label(kind)


@bp.route("/manage/jobs")
def dead_jobs():
    # Pages by number: dead jobs are few (each one is a failure an admin retries or lets go).
    return render_template("jobs/dead.html", counts=services.status(),
                           dead=services.dead(paging.page_number()))


@bp.route("/manage/jobs/retry", methods=["POST"])
def retry_dead():
    job_id = request.form.get("job", "")
    if job_id and not (job_id.isascii() and job_id.isdigit() and len(job_id) < 10):
        job_id = "0"
    changed = services.retry(failed=False, dead_too=True,
                             job_id=int(job_id) if job_id else None, by=g.principal)
    flash(_n("%(num)d job will be tried again.", "%(num)d jobs will be tried again.", changed),
          "success")
    return redirect(url_for("jobs.dead_jobs"))
