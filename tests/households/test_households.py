"""Green households: registration, members, consents, pledges, the month rules, progress,
recognition and reviews, the wall, privacy and the API."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.extensions import db
from portal.households import services as hh
from portal.households.models import Household, PhoneUnmask
from portal.rules import RuleError
from tests.conftest import PASSWORD, csrf_token, make_user, outbox, run_jobs, sign_in

SIX = ["sort-kitchen-waste", "reusable-shopping-bag", "standby-power-off",
       "walk-cycle-transit-short-trips", "led-lighting", "short-showers"]


def _token(app, email):
    return app.test_cli_runner().invoke(args=["users", "token", email]).output.strip()


def _api(app, method, path, token, json=None):
    return app.test_client().open(path, method=method, json=json,
                                  headers={"Authorization": f"Bearer {token}"})


def _household(app, email="owner@example.org", **extra):
    uid = make_user(app, email=email, name="王")
    with app.app_context():
        data = hh.HouseholdInput(name=extra.pop("name", "王家"), district="南湖区", members=3,
                                 **extra)
        return uid, hh.register(db.session.get(User, uid), data).id


def _get(app, household_id):
    return db.session.get(Household, household_id)


def test_register_validates_and_accepts_district_names(app):
    uid = make_user(app)
    with app.app_context():
        user = db.session.get(User, uid)
        with pytest.raises(RuleError) as err:
            hh.register(user, hh.HouseholdInput(name="", district="atlantis", members=0,
                                                phone="12345"))
        assert set(err.value.fields) == {"name", "district", "members", "phone"}
        created = hh.register(user, hh.HouseholdInput(name="王家", district="Nanhu District",
                                                      members=2, phone="+86 138-1234-5678"))
        assert (created.district, created.phone) == ("nanhu", "13812345678")
        assert created.show_on_wall is False and created.staff_contact is False
        with pytest.raises(RuleError) as again:
            hh.register(user, hh.HouseholdInput(name="又一家", district="nanhu"))
        assert again.value.code == "exists"


def test_consent_boxes_are_never_pre_ticked(app):
    make_user(app)
    client = app.test_client()
    sign_in(client)
    html = client.get("/household").get_data(as_text=True)
    for name in ("show_on_wall", "staff_contact"):
        box = html[html.index(f'id="{name}"') - 120:html.index(f'id="{name}"') + 60]
        assert "checked" not in box


def test_members_join_with_a_code_that_the_owner_can_reset(app):
    owner, household = _household(app)
    member = make_user(app, email="kid@example.org", name="小王")
    with app.app_context():
        code = _get(app, household).invite_code
        hh.join(db.session.get(User, member), code)
        new = hh.reset_invite(_get(app, household))
        assert new != code
        other = make_user(app, email="late@example.org")
        with pytest.raises(RuleError):
            hh.join(db.session.get(User, other), code)
        with pytest.raises(RuleError):
            hh.remove_member(_get(app, household), owner)
        hh.remove_member(_get(app, household), member)
        assert [m.user_id for m in _get(app, household).members] == [owner]


def test_only_the_owner_manages_members_and_consents(app):
    _owner, household = _household(app)
    member = make_user(app, email="kid@example.org")
    with app.app_context():
        hh.join(db.session.get(User, member), _get(app, household).invite_code)
    client = app.test_client()
    sign_in(client, "kid@example.org")
    token = csrf_token(client, "/household")
    assert client.post("/household/invite", data={"csrf_token": token}).status_code == 403
    assert client.post("/household/consents", data={"csrf_token": token}).status_code == 403


def test_month_rules(app):
    _uid, household = _household(app)
    today = date(2026, 11, 28)
    with app.app_context():
        h = _get(app, household)
        with pytest.raises(RuleError) as none_yet:
            hh.report(h, "2026-11", [], today=today)
        assert none_yet.value.code == "no_pledges"
        hh.set_pledges(h, SIX[:2])
        assert hh.report(h, "2026-11", SIX[:1], today=today).rate == 0.5
        assert hh.report(h, "2026-10", SIX[:2], today=today).rate == 1.0
        assert hh.report(h, "2026-11", SIX[:2], today=today).rate == 1.0  # a correction
        for month, code in [("2026-12", "month_not_open"), ("2026-09", "month_not_open"),
                            ("2026-13", "bad_month"), ("Nov", "bad_month")]:
            with pytest.raises(RuleError) as err:
                hh.report(h, month, [], today=today)
            assert err.value.code == code, month
        with pytest.raises(RuleError) as stray:
            hh.report(h, "2026-11", ["led-lighting"], today=today)
        assert stray.value.code == "not_pledged"
        with pytest.raises(RuleError) as unknown:
            hh.set_pledges(h, ["fly-less", "sort-kitchen-waste"])
        assert unknown.value.code == "unknown_pledge" and "fly-less" in unknown.value.message


def _qualify(app, household, months=3, kept=6, pledges=SIX):
    """Report ``months`` consecutive months ending this November (each while it was open)."""
    with app.app_context():
        h = _get(app, household)
        hh.set_pledges(h, pledges)
        for i in range(months):
            day = date(2026, 11 - (months - 1 - i), 15)
            hh.report(h, f"{day:%Y-%m}", pledges[:kept], today=day)


def test_progress_streak_and_estimated_savings(app):
    _uid, household = _household(app)
    _qualify(app, household, months=3, kept=6)
    with app.app_context():
        progress = hh.progress(_get(app, household))
        assert progress.streak == 3
        # standby 3 + LED 2.5 + showers 6 + short trips 6 = 17.5 kg a month, estimated
        assert progress.savings_kg == 3 * 17.5


def test_criteria_for_recognition(app):
    _uid, household = _household(app)
    _qualify(app, household, months=3, kept=4)  # 4 of 6 kept: below 80 %
    with app.app_context():
        assert not hh.eligibility(_get(app, household)).ok
    _qualify(app, household, months=2, kept=6)  # only two good months in a row
    with app.app_context():
        assert hh.eligibility(_get(app, household)).streak == 2
        assert not hh.eligibility(_get(app, household)).ok
    _qualify(app, household, months=3, kept=5, pledges=SIX[:5])  # only five pledges
    with app.app_context():
        assert not hh.eligibility(_get(app, household)).ok
    _qualify(app, household, months=3, kept=5)  # 5 of 6 = 83 %, 6 pledges, 4 headings
    with app.app_context():
        e = hh.eligibility(_get(app, household))
        assert (e.ok, e.pledges, e.headings, e.streak) == (True, 6, 4, 3)


def test_apply_approve_certificate_and_public_verification(app):
    owner, household = _household(app)
    staff = make_user(app, email="org@example.org", role="organizer")
    _qualify(app, household)
    with app.app_context():
        h = _get(app, household)
        application = hh.apply(h, "我们全家坚持垃圾分类。", db.session.get(User, owner))
        with pytest.raises(RuleError):
            hh.apply(h, "again", db.session.get(User, owner))
        assert [a.id for a in hh.queue()] == [application.id]
        hh.decide(application.id, True, db.session.get(User, staff))
        h = _get(app, household)
        assert h.status == "named" and h.certificate_code
        assert h.review_due == h.named_on + timedelta(days=365)
        code = h.certificate_code
    page = app.test_client().get(f"/verify?code={code}").get_data(as_text=True)
    assert "王家" in page and "南湖区" in page and "绿色家庭" in page
    assert "13" not in page.split("<main")[1].split("</main>")[0]  # no phone, no members
    assert app.test_client().get("/verify?code=NOPE1234").status_code == 404
    client = app.test_client()
    sign_in(client, "owner@example.org")
    assert code in client.get("/household/certificate").get_data(as_text=True)


def test_rejection_reason_is_shown_to_the_household(app):
    owner, household = _household(app)
    staff = make_user(app, email="org@example.org", role="organizer")
    _qualify(app, household)
    with app.app_context():
        app_id = hh.apply(_get(app, household), "", db.session.get(User, owner)).id
        with pytest.raises(RuleError):
            hh.decide(app_id, False, db.session.get(User, staff), "")
        hh.decide(app_id, False, db.session.get(User, staff), "请补充三个月的照片")
    client = app.test_client()
    sign_in(client, "owner@example.org")
    assert "请补充三个月的照片" in client.get("/household").get_data(as_text=True)


def test_reviews_confirm_rectify_revoke_with_history(app):
    owner, household = _household(app)
    staff = make_user(app, email="org@example.org", role="organizer")
    _qualify(app, household)
    with app.app_context():
        by = db.session.get(User, staff)
        hh.decide(hh.apply(_get(app, household), "", db.session.get(User, owner)).id, True, by)
        with pytest.raises(RuleError):
            hh.review(household, "rectify", by, "", None)
        later = date.today() + timedelta(days=30)
        assert hh.review(household, "rectify", by, "垃圾分类不规范", later).status == \
            "rectification"
        assert hh.review(household, "confirm", by).status == "named"
        assert hh.review(household, "revoke", by, "连续三个月未报告").status == "revoked"
        actions = [e.action for e in _get(app, household).history]
    assert actions == ["applied", "approved", "rectify", "confirm", "revoke"]
    staff_client = app.test_client()
    sign_in(staff_client, "org@example.org")
    assert "连续三个月未报告" in staff_client.get(
        f"/manage/households/{household}").get_data(as_text=True)


def test_wall_shows_only_consenting_households_masked(app):
    _a, shown = _household(app, email="a@example.org", name="王家", show_on_wall=True)
    _b, hidden = _household(app, email="b@example.org", name="李小明家")
    html = app.test_client().get("/households").get_data(as_text=True)
    assert "王** 家" in html and "王家" not in html.split("<main")[1]
    assert "李" not in html.split("<main")[1].split("</main>")[0].split("<h2")[0]
    with app.app_context():
        hh.set_consents(_get(app, shown), False, False)
    assert "王** 家" not in app.test_client().get("/households").get_data(as_text=True)
    run_jobs(app)
    with app.app_context():
        assert hh.district_totals() == {"nanhu": 2}
    assert hh.mask_name("王家") == "王** 家" and hh.mask_name("Green") == "G**"


def test_other_people_and_citizens_cannot_see_a_household(app):
    _uid, household = _household(app, name="钱塘赵家", phone="13812345678", staff_contact=True)
    make_user(app, email="stranger@example.org")
    stranger = app.test_client()
    sign_in(stranger, "stranger@example.org")
    assert "钱塘赵家" not in stranger.get("/household").get_data(as_text=True)
    for path in ["/manage/households", f"/manage/households/{household}"]:
        assert stranger.get(path).status_code == 403
    assert stranger.get("/household/certificate").status_code == 404
    token = _token(app, "stranger@example.org")
    assert _api(app, "GET", "/api/v1/household", token).status_code == 404


def test_staff_see_the_phone_masked_and_every_unmask_is_recorded(app):
    _uid, household = _household(app, phone="13812345678", staff_contact=True)
    make_user(app, email="org@example.org", role="organizer")
    staff = app.test_client()
    sign_in(staff, "org@example.org")
    html = staff.get(f"/manage/households/{household}").get_data(as_text=True)
    assert "138****5678" in html and "13812345678" not in html
    response = staff.post(f"/manage/households/{household}/unmask",
                          data={"csrf_token": csrf_token(staff, f"/manage/households/{household}")})
    assert "13812345678" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PhoneUnmask)) == 1


def test_deleting_the_owner_removes_personal_data_but_keeps_aggregates(app):
    from portal.accounts import services as accounts

    owner, household = _household(app, phone="13812345678", show_on_wall=True)
    _qualify(app, household, months=1)
    with app.app_context():
        exported = accounts.export_data(db.session.get(User, owner))["household"]
        assert exported["phone"] == "13812345678" and exported["role"] == "owner"
        before = hh.stats()
        accounts.delete_account(db.session.get(User, owner), PASSWORD)
        h = _get(app, household)
        assert (h.name, h.phone, h.owner_id, h.show_on_wall, h.members) == ("", None, None,
                                                                           False, [])
        after = hh.stats()
    assert (after["households"], after["pledges"]) == (before["households"], before["pledges"])
    assert "王" not in app.test_client().get("/households").get_data(as_text=True).split(
        "<main")[1].split("<h2")[0]


def test_api_household_flow(app):
    make_user(app, email="api@example.org")
    token = _token(app, "api@example.org")
    created = _api(app, "POST", "/api/v1/household", token,
                   {"name": "张家", "district": "海宁市", "members": 4})
    assert created.status_code == 201 and created.json["district"] == "haining"
    again = _api(app, "POST", "/api/v1/household", token, {"name": "x", "district": "nanhu"})
    assert again.status_code == 409
    bad = _api(app, "PUT", "/api/v1/household/pledges", token, {"codes": ["no-such-thing"]})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unknown_pledge"
    ok = _api(app, "PUT", "/api/v1/household/pledges", token, {"codes": SIX[:3]})
    assert ok.status_code == 200 and ok.json["pledges"] == sorted(SIX[:3])
    with app.app_context():
        month = hh.reportable_months()[0]
    report = _api(app, "POST", "/api/v1/household/reports", token,
                  {"month": month, "kept": SIX[:2]})
    assert report.status_code == 201 and report.json["kept_rate"] == round(2 / 3, 3)
    future = _api(app, "POST", "/api/v1/household/reports", token,
                  {"month": "2999-01", "kept": []})
    assert future.status_code == 422 and future.json["error"]["code"] == "month_not_open"
    body = _api(app, "GET", "/api/v1/household", token).json
    assert body["name"] == "张家" and body["reports"][0]["month"] == month
    invalid = _api(app, "POST", "/api/v1/household", _token(app, "api@example.org"), "x")
    assert invalid.status_code in (400, 409)


def test_stats_api(app):
    _uid, household = _household(app)
    with app.app_context():
        hh.set_pledges(_get(app, household), SIX[:3])
    run_jobs(app)  # the figures follow the records by a job
    body = app.test_client().get("/api/v1/stats").json
    assert set(body) == {"households", "pledging_households", "pledges", "green_families",
                         "volunteers", "service_hours", "events", "published_activities"}
    assert (body["households"], body["pledging_households"], body["pledges"]) == (1, 1, 3)
    assert body["published_activities"] == 0 and body["green_families"] == 0


def _named_household(app):
    """A household that applied and was named by staff: (owner, household, staff) ids."""
    owner, household = _household(app)
    staff = make_user(app, email="org@example.org", role="organizer")
    _qualify(app, household)
    with app.app_context():
        application = hh.apply(_get(app, household), "", db.session.get(User, owner))
        hh.decide(application.id, True, db.session.get(User, staff))
    return owner, household, staff


def test_the_family_is_told_every_decision_and_once_when_a_review_falls_due(app):
    _owner, household, staff = _named_household(app)
    [named] = outbox(app)
    assert named["To"] == "owner@example.org" and named["Subject"] == "你家已被认定为绿色家庭"
    assert "/household" in named.get_body().get_content()
    with app.app_context():
        due = _get(app, household).review_due
        assert hh.notify_reviews_due(today=due - timedelta(days=31)) == 0  # not yet
        assert hh.notify_reviews_due(today=due - timedelta(days=30)) == 1
        assert hh.notify_reviews_due(today=due - timedelta(days=29)) == 0  # told once
    [_first, review] = outbox(app)
    assert review["Subject"] == "你家的绿色家庭称号即将复查"
    with app.app_context():
        hh.review(household, "rectify", db.session.get(User, staff), "三月未报告",
                  due + timedelta(days=60))
    rectify = outbox(app)[-1]
    assert rectify["Subject"] == "你家的绿色家庭需要整改" and "三月未报告" in rectify.get_body(
        ).get_content()


def test_decision_mails_for_a_family_whose_owner_left_go_nowhere(app):
    owner, _household_id, _staff = _named_household(app)
    with app.app_context():
        from portal.accounts import services as accounts
        from tests.conftest import PASSWORD

        accounts.delete_account(db.session.get(User, owner), PASSWORD)
    assert outbox(app) == []  # the job found nobody to write to
