"""The plan's targets, entered figures with history, per-district figures, open data."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest

from portal.accounts.models import User
from portal.dashboard import services as dash
from portal.extensions import db
from tests.conftest import csrf_token, make_user, run_jobs, sign_in


def _named_household(app, email, district, show=True):
    from portal.households import services as hh
    from portal.households.models import Household

    uid = make_user(app, email=email, name="王")
    with app.app_context():
        h = hh.register(db.session.get(User, uid), hh.HouseholdInput(
            name="王家", district=district, members=3, show_on_wall=show))
        row = db.session.get(Household, h.id)
        row.status, row.named_on, row.certificate_code = "named", date.today(), email[:8].upper()
        db.session.commit()
    run_jobs(app)  # the summary figures follow the records by a job


def test_targets_come_from_site_yaml_with_their_sources(app):
    with app.app_context():
        targets = {t.key: t for t in dash.targets()}
    assert targets["provincial-green-schools"].target == 130
    assert targets["provincial-green-schools"].live == "green_schools_provincial"
    assert targets["eco-education-coverage"].unit == "percent"
    assert targets["eco-education-coverage"].live is None
    assert len(targets) == 12


def test_live_targets_count_the_portal(app):
    _named_household(app, "a@example.org", "nanhu")
    _named_household(app, "b@example.org", "haining")
    with app.app_context():
        families = next(p for p in dash.progress()
                        if p.target.key == "provincial-green-families")
        assert families.value == 2 and families.share == pytest.approx(0.02)
        assert families.trend[-1][1] == 2
        districts = {d.code: v for d, v in dash.by_district()}
        assert districts["nanhu"]["green_families"] == 1
        assert districts["pinghu"]["green_families"] == 0


def test_staff_enter_figures_and_every_update_is_kept(app):
    make_user(app, email="org@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org@example.org")
    token = csrf_token(staff, "/dashboard/staff")
    for value, day, source in [("72.5", "2026-06-30", "教育局上半年通报"),
                               ("81", "2026-11-01", "教育局十月通报")]:
        staff.post("/dashboard/figures", data={"csrf_token": token,
                                               "key": "eco-education-coverage",
                                               "value": value, "as_of": day, "source": source})
    with app.app_context():
        coverage = next(p for p in dash.progress() if p.target.key == "eco-education-coverage")
        assert coverage.value == Decimal("81") and coverage.note == "教育局十月通报"
        assert [v for _m, v in coverage.trend] == [Decimal("72.5"), Decimal("81")]
        assert len(dash.history_of("eco-education-coverage")) == 2
    html = app.test_client().get("/dashboard").get_data(as_text=True)
    assert "生态文明教育普及率" in html and "目前 81%" in html and "<svg" in html


@pytest.mark.parametrize("form,problem", [
    ({"value": "-1"}, "不小于 0"), ({"value": "120"}, "最大为 100"),
    ({"as_of": "2999-01-01"}, "不能在未来"), ({"source": ""}, "数据来源"),
    ({"key": "provincial-green-families"}, "不接受人工录入"), ({"value": "abc"}, "不小于 0"),
    ({"value": "1e30"}, "不小于 0"), ({"value": "NaN"}, "不小于 0"),
])
def test_bad_figures_are_refused_with_a_message(app, form, problem):
    make_user(app, email="org@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org@example.org")
    data = {"csrf_token": csrf_token(staff, "/dashboard/staff"), "key": "eco-education-coverage",
            "value": "80", "as_of": "2026-01-01", "source": "通报", **form}
    staff.post("/dashboard/figures", data=data)
    page = staff.get("/dashboard/staff").get_data(as_text=True)
    assert problem in page
    with app.app_context():
        assert dash.history_of("eco-education-coverage") == []


def test_only_staff_enter_figures(app):
    make_user(app)
    citizen = app.test_client()
    sign_in(citizen)
    assert citizen.get("/dashboard/staff").status_code == 403
    assert citizen.post("/dashboard/figures", data={
        "csrf_token": csrf_token(citizen, "/account")}).status_code == 403


def test_dashboard_reads_in_both_languages_without_javascript(app):
    for lang, text in [("zh", "行动方案进展"), ("en", "Progress toward the plan")]:
        html = app.test_client().get(f"/dashboard?lang={lang}").get_data(as_text=True)
        assert f"<h1>{text}</h1>" in html and "<script" not in html
        assert "<table" in html  # the per-district table is there for screen readers
    home = app.test_client().get("/").get_data(as_text=True)
    assert 'href="/dashboard"' in home and "数说绿色创建" in home


def test_tables_download_as_csv(app):
    _named_household(app, "a@example.org", "nanhu")
    rows = list(csv.reader(io.StringIO(app.test_client().get(
        "/dashboard/districts.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["district", "name"] and len(rows) == 8
    nanhu = next(r for r in rows if r[0] == "nanhu")
    assert nanhu[2] == "1"
    targets = app.test_client().get("/dashboard/targets.csv").get_data(as_text=True)
    assert "provincial-green-schools" in targets


def test_open_datasets_download_and_parse(library):
    from tests.events.conftest import make_event

    organizer = make_user(library, email="org@example.org", role="organizer")
    make_event(library, organizer)
    _named_household(library, "shown@example.org", "nanhu", show=True)
    _named_household(library, "private@example.org", "haining", show=False)
    client = library.test_client()
    page = client.get("/open-data").get_data(as_text=True)
    assert "CC BY 4.0" in page
    for name in ["events", "observances", "green-families", "schools", "district-monthly"]:
        data = json.loads(client.get(f"/open-data/{name}.json").get_data(as_text=True))
        assert data["dataset"] == name and isinstance(data["rows"], list)
        assert all(set(r) == set(data["fields"]) for r in data["rows"])
        text = client.get(f"/open-data/{name}.csv").get_data(as_text=True).lstrip("\ufeff")
        header = next(csv.reader(io.StringIO(text)))
        assert header == data["fields"], name
        assert f'href="/open-data/{name}.csv"' in page
    families = json.loads(client.get("/open-data/green-families.json").data)["rows"]
    assert sorted(r["name"] for r in families) == ["", "王** 家"]  # private one: no name
    everything = client.get("/open-data/green-families.csv").get_data(as_text=True)
    assert "@example.org" not in everything and "王家" not in everything
    events = json.loads(client.get("/open-data/events.json").data)["rows"]
    assert events[0]["district"] == "nanhu" and "+08:00" in events[0]["starts_at"]
    assert client.get("/open-data/users.json").status_code == 404
    assert client.get("/open-data/events.xml").status_code == 404


def test_monthly_aggregates_per_district(app):
    from portal.households import services as hh

    uid = make_user(app, email="f@example.org")
    with app.app_context():
        h = hh.register(db.session.get(User, uid), hh.HouseholdInput(name="赵家",
                                                                    district="pinghu"))
        hh.set_pledges(h, ["sort-kitchen-waste", "standby-power-off"])
        month = hh.reportable_months()[0]
        hh.report(h, month, ["sort-kitchen-waste"])
    run_jobs(app)
    rows = json.loads(app.test_client().get("/open-data/district-monthly.json").data)["rows"]
    row = next(r for r in rows if r["district"] == "pinghu" and r["month"] == month)
    assert row["households_registered"] == 1 and row["pledges_kept"] == 1


@pytest.mark.parametrize("today", [date(2027, 3, 1), date(2026, 12, 31), date(2027, 1, 15)])
def test_trends_cover_twelve_consecutive_calendar_months(app, today):
    with app.app_context():
        months = [m for m, _end in dash.month_ends(today=today)]
    assert len(months) == 12 == len(set(months)) and months[-1] == f"{today:%Y-%m}"
    for earlier, later in zip(months, months[1:], strict=False):
        year, month = map(int, earlier.split("-"))
        assert later == (f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}")
