"""Summary figures (issue 13): derived rows that follow the records by one coalesced job, that
``flask stats rebuild`` restores from the records, and that pages read with one statement."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.accounts.models import User
from portal.dashboard import services as dash
from portal.dashboard import stats
from portal.dashboard.models import StatDirty, StatSlice
from portal.db import writing
from portal.events import services as events
from portal.events.models import Event
from portal.extensions import db
from portal.households import services as hh
from portal.households.models import Household
from portal.jobs.models import PENDING, Job
from tests.conftest import count_request, make_user, run_jobs
from tests.events.conftest import make_event


def _household(app, email: str, district: str, pledges=("sort-kitchen-waste",)) -> int:
    uid = make_user(app, email=email)
    with app.app_context():
        home = hh.register(db.session.get(User, uid), hh.HouseholdInput(
            name="王家", district=district, members=2))
        hh.set_pledges(home, list(pledges))
        return home.id


def _waiting(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == "stats.refresh", Job.state == PENDING))


def _figures(app) -> dict:
    with app.app_context():
        return {"stats": hh.stats(), "headlines": dash.headlines(),
                "districts": {d.code: v for d, v in dash.by_district()},
                "totals": hh.district_totals()}


def test_figures_follow_the_records_by_one_coalesced_job(app):
    run_jobs(app)
    _household(app, "a@example.org", "nanhu")
    _household(app, "b@example.org", "nanhu", pledges=("sort-kitchen-waste", "standby-power-off"))
    _household(app, "c@example.org", "pinghu", pledges=())
    assert _waiting(app) == 1  # three changes, one refresh waiting
    before = _figures(app)["stats"]
    assert before["households"] == 0  # derived data: it follows by the job
    run_jobs(app)
    figures = _figures(app)
    assert figures["stats"]["households"] == 3
    assert figures["stats"]["pledges"] == 3 and figures["stats"]["pledging_households"] == 2
    assert figures["totals"] == {"nanhu": 2, "pinghu": 1}
    assert _waiting(app) == 0
    _household(app, "d@example.org", "haining")  # a change after the refresh queues the next
    assert _waiting(app) == 1
    run_jobs(app)
    assert _figures(app)["totals"]["haining"] == 1


def test_volunteers_are_people_counted_once_city_wide(app):
    organizer = make_user(app, email="org@example.org", role="organizer")
    nanhu = make_event(app, organizer, capacity=5)
    pinghu = make_event(app, organizer, capacity=5, days=12)
    with app.app_context(), writing():
        db.session.execute(sa.update(Event).where(Event.id == pinghu).values(district="pinghu"))
    volunteer = make_user(app, email="v@example.org")
    with app.app_context():
        person = db.session.get(User, volunteer)
        events.sign_up(person, nanhu)
        events.sign_up(person, pinghu)
    run_jobs(app)
    figures = _figures(app)
    assert figures["stats"]["volunteers"] == 1 and figures["headlines"]["volunteers"] == 1
    assert figures["districts"]["nanhu"]["volunteers"] == 1
    assert figures["districts"]["pinghu"]["volunteers"] == 1


def test_bulk_statements_and_rollbacks(app):
    home = _household(app, "a@example.org", "nanhu")
    run_jobs(app)
    with app.app_context(), writing():  # a bulk statement, not an ORM object
        db.session.execute(sa.update(Household).where(Household.id == home)
                           .values(status="named", named_on=date.today()))
    assert _waiting(app) == 1
    run_jobs(app)
    assert _figures(app)["headlines"]["green_families"] == 1
    try:
        with app.app_context(), writing():
            db.session.execute(sa.update(Household).values(district="pinghu"))
            raise RuntimeError("changed my mind")
    except RuntimeError:
        pass
    assert _waiting(app) == 0  # nothing committed, nothing marked
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatDirty)) == 0


def test_rebuild_restores_the_figures_after_the_rows_are_deleted(app):
    _household(app, "a@example.org", "nanhu", pledges=("sort-kitchen-waste",
                                                       "standby-power-off"))
    _household(app, "b@example.org", "pinghu")
    organizer = make_user(app, email="org@example.org", role="organizer")
    event = make_event(app, organizer, capacity=5)
    with app.app_context():
        events.sign_up(db.session.get(User, make_user(app, email="v@example.org")), event)
    run_jobs(app)
    expected = _figures(app)
    assert expected["stats"]["households"] == 2 and expected["stats"]["volunteers"] == 1
    with app.app_context(), writing():
        db.session.execute(sa.delete(StatSlice))
    assert _figures(app)["stats"]["households"] == 0  # the rows are gone
    result = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"{len(stats.METRICS)} metrics" in result.output
    assert _figures(app) == expected


def test_pages_read_the_figures_with_a_bounded_number_of_statements(make_app):
    app = make_app(PAGE_CACHE_ENABLED=False)

    def statements(path: str) -> int:
        return count_request(app, app.test_client(), path)[0]

    empty = {p: statements(p) for p in ("/", "/dashboard", "/api/v1/stats")}
    for i in range(6):
        _household(app, f"h{i}@example.org", ("nanhu", "pinghu", "haining")[i % 3])
    run_jobs(app)
    full = {p: statements(p) for p in ("/", "/dashboard", "/api/v1/stats")}
    assert full == empty  # the records shown do not add statements
    assert full["/api/v1/stats"] <= 2


def test_setup_computes_the_figures_after_an_upgrade(app):
    """Migration 0013 marks every metric and makes no job: ``flask setup`` queues the refresh
    (and runs it), so an existing site's figures are right after the release."""
    _household(app, "a@example.org", "nanhu")
    run_jobs(app)
    expected = _figures(app)
    with app.app_context(), writing():
        db.session.execute(sa.delete(StatSlice))
        db.session.execute(sa.insert(StatDirty), [{"metric": n} for n in stats.METRICS])
        db.session.execute(sa.delete(Job).where(Job.kind == "stats.refresh"))
    result = app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert f"summary figures: {len(stats.METRICS)} metric(s) to compute" in result.output
    assert _figures(app) == expected


def test_a_failed_refresh_keeps_its_marks_for_the_next_attempt(app, monkeypatch):
    _household(app, "a@example.org", "nanhu")

    def broken(_metric):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(stats, "compute", broken)
    with app.app_context():
        try:
            stats.refresh()
        except RuntimeError:
            pass
        assert "households" in set(db.session.scalars(sa.select(StatDirty.metric)))
    monkeypatch.undo()
    run_jobs(app)
    assert _figures(app)["stats"]["households"] == 1
