"""Issue 12, item 6: deletion and export cover every table and column that can hold personal
data (declared in ``portal.personal``), and no personal-looking column slips past the list."""

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.dashboard import services as dashboard
from portal.db import writing
from portal.events import services as ev
from portal.extensions import db
from portal.households import services as hh
from portal.personal import NOT_PERSONAL, PERSONAL
from portal.rules import RuleError
from portal.schools import services as sc
from tests.conftest import PASSWORD, make_user

EMAIL, NAME, PHONE = "zhang.sanfeng@example.org", "张三丰", "13812345678"
TOWN, ADDRESS, CONTACT = "七星街道", "南湖路88号", "张三丰 0573-88888888"
STORY, REASON = "张三丰一家坚持垃圾分类", "张三丰迟到半小时"
NEEDLES = [EMAIL, NAME, PHONE, TOWN, ADDRESS, CONTACT, STORY, REASON, "0573-88888888"]
SIX = ["sort-kitchen-waste", "reusable-shopping-bag", "standby-power-off",
       "walk-cycle-transit-short-trips", "led-lighting", "short-showers"]


def _u(uid):
    return db.session.get(User, uid)


@pytest.fixture
def person(library):
    """Someone (an admin, so that staff records can name them too) with data everywhere."""
    uid = make_user(library, email=EMAIL, name=NAME, role="admin", verified=False)
    other = make_user(library, email="other@example.org", name="李四", role="admin")
    with library.app_context():
        accounts.send_verify_mail({"user": uid, "kind": "link"})  # a verification link row
        with writing():
            accounts.mark_verified(_u(uid))
        me = _u(uid)
        accounts.start_session(me, True)
        accounts.create_api_token(me, f"{NAME}的脚本")
        accounts.send_reset_mail({"email": EMAIL})  # a reset link row
        accounts.request_password_reset(EMAIL)  # and a waiting job naming the address
        with pytest.raises(RuleError):
            accounts.authenticate(EMAIL, "not the password at all")
        # household: details, consents, pledges, reports, an application and its decision
        h = hh.register(_u(uid), hh.HouseholdInput(name="张家", district="南湖区", town=TOWN,
                                                    members=3, phone=PHONE, show_on_wall=True,
                                                    staff_contact=True))
        hh.set_pledges(h, SIX)
        for i in range(3):
            day = date(2026, 11 - (2 - i), 15)
            hh.report(h, f"{day:%Y-%m}", SIX, today=day)
        application = hh.apply(h, STORY, _u(uid))
        hh.decide(application.id, False, _u(uid), f"{REASON}（补充材料）")
        hh.unmask_phone(h, _u(uid))
        # schools: an application with address and contact, editing, a post, a report
        mine = sc.apply_school(_u(uid), sc.SchoolInput("张三丰学校", "Zhang Sanfeng School",
                                                        "nanhu", "primary", ADDRESS, CONTACT))
        sc.verify_school(mine.id, _u(uid))
        refused = sc.apply_school(_u(uid), sc.SchoolInput("张三丰书院", "", "nanhu", "primary",
                                                           ADDRESS, CONTACT))
        sc.reject_school(refused.id, _u(other), f"{CONTACT}无法联系")
        post = sc.save_activity(_u(uid), db.session.get(sc.School, mine.id), sc.ActivityInput(
            "湿地观鸟", "我们观察白鹭。", date(2026, 11, 20), ["nature"]))
        sc.submit(_u(uid), post.id, True)
        sc.approve(post.id, _u(other))
        sc.save_activity(_u(uid), db.session.get(sc.School, mine.id), sc.ActivityInput(
            "草稿", "草稿正文", date(2026, 11, 21), ["nature"]), post.id)
        theirs = sc.apply_school(_u(other), sc.SchoolInput("李四学校", "Li Si School", "nanhu",
                                                            "primary", "别处1号", "李四"))
        sc.verify_school(theirs.id, _u(other))
        their_post = sc.save_activity(_u(other), db.session.get(sc.School, theirs.id),
                                      sc.ActivityInput("植树", "种了十棵树。", date(2026, 11, 20),
                                                       ["nature"]))
        sc.submit(_u(other), their_post.id, True)
        sc.approve(their_post.id, _u(other))
        sc.report(_u(uid), their_post.id, f"{NAME}举报：不实")
        sc.invite_editor(db.session.get(sc.School, theirs.id), _u(other), EMAIL)
        # events: a sign-up with hours and corrections, an event organised, a feed
        start = (datetime.now(ev.zone()) + timedelta(days=10)).replace(
            hour=9, minute=0, second=0, microsecond=0)
        data = ev.EventInput(title_zh="河道清洁", description_zh="清理", starts_at=start,
                             ends_at=start + timedelta(hours=3), place="南湖北门",
                             district="nanhu", capacity=5)
        event = ev.create_event(_u(other), data, publish=True)
        ev.create_event(_u(uid), data, publish=True)
        signup = ev.sign_up(_u(uid), event.id).signup
        ev.check_in(event.id, signup.id, start)
        ev.check_out(event.id, signup.id, start + timedelta(hours=3))
        ev.correct_hours(event.id, signup.id, Decimal("2"), REASON, _u(other))
        ev.correct_hours(event.id, signup.id, Decimal("2.5"), "复核", _u(uid))
        ev.new_feed_token(_u(uid))
        key = next(t.key for t in dashboard.targets() if not t.live)
        dashboard.enter_figure(key, Decimal("1"), date.today(), "统计局", _u(uid))
    return uid


def _values(data, path):
    head, _, rest = path.partition(".")
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if isinstance(item, dict) and head in item:
            value = item[head]
            if rest:
                out.extend(_values(value, rest))
            elif isinstance(value, list):
                out.extend(value)
            else:
                out.append(value)
    return out


def test_export_has_a_value_for_every_declared_column(library, person):
    with library.app_context():
        data = accounts.export_data(_u(person))
    missing = [f"{p.table}.{p.column} → {p.export}" for p in PERSONAL if p.export and not [
        v for v in _values(data, p.export) if v not in (None, "", [], {})]]
    assert missing == []
    for p in PERSONAL:
        assert p.export or p.why_not_exported, p


def _user_fk(column) -> bool:
    return any(f.column.table.name == "users" for f in column.foreign_keys)


def test_nothing_of_the_person_remains_after_deletion(library, person):
    with library.app_context():
        throttle = accounts._throttle_key(EMAIL)
        accounts.delete_account(_u(person), PASSWORD)
        tables = db.metadata.tables
        left = []
        for p in PERSONAL:
            column = tables[p.table].c[p.column]
            for (value,) in db.session.execute(sa.select(column)):
                if _user_fk(column):
                    if value == person:
                        left.append((p.table, p.column, value))
                    continue
                text = json.dumps(value, ensure_ascii=False, default=str)
                if any(n in text for n in NEEDLES) or (
                        p.table == "login_throttle" and value == throttle) or (
                        p.table == "jobs" and re.search(rf'"user": {person}\b', text)):
                    left.append((p.table, p.column, value))
        assert left == []
        assert db.session.get(User, person) is None


PERSONAL_LOOKING = re.compile(r"email|name|phone|address|contact|story|reason|notes|token|key$|"
                              r"payload|user_id|_by_id$|^by_id$|owner_id")


def test_every_personal_looking_column_is_declared_or_explained(ctx):
    declared = {(p.table, p.column) for p in PERSONAL}
    tables = db.metadata.tables
    for table, column in declared | set(NOT_PERSONAL):
        assert table in tables and column in tables[table].c, (table, column)
    assert not declared & set(NOT_PERSONAL)
    assert all(NOT_PERSONAL.values())
    undeclared = [(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns
                  if (PERSONAL_LOOKING.search(c.name) or _user_fk(c))
                  and (t.name, c.name) not in declared | set(NOT_PERSONAL)]
    assert undeclared == []
