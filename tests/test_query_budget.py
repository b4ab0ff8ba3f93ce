"""Query budgets (issue 13): every route of the application is requested and its SQL statements
are counted; a page that issues more than its budget fails, and so does one whose count grows
with the number of rows it shows (an N+1).

How it works.  Two sites are seeded directly (rows written through the ORM, like ``_fill`` in
tests/households/test_wall_pages.py): one with ``FEW`` rows of every list (events, sign-ups,
articles are the library's, schools, posts, reports, households, applications, dead jobs, audit
lines, entered figures…), one with ``MANY``.  Each route in ``ROUTES`` gives the address to ask
for (filled from the seeded rows), the person asking (anonymous, citizen, school editor,
organizer, admin; a bearer token under /api/) and the status it answers.  The page cache is off
(``PAGE_CACHE_ENABLED=False``), so what is counted is what Flask does.

What is counted: every statement the application's engine sends (``before_cursor_execute``),
the sign-in lookups, the token's "last used" bookkeeping and the transaction statements
included.  A route is asked once before it is counted: a per-process first use (a content file
read, a searcher opened, a token's "last used" written at most once a minute) is not a cost of
every request, and on SQLite ``BEGIN`` is itself a statement, so it is counted too.

Every route of ``app.url_map`` must be in ``ROUTES`` or in ``NOT_MEASURED`` (with the reason):
a new route without a budget fails ``test_every_route_has_a_budget``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import markup, search
from portal.accounts.models import ApiToken, EmailVerification, PasswordReset, User
from portal.accounts.services import token_hash
from portal.dashboard import stats
from portal.dashboard.models import EnteredFigure
from portal.db import utcnow, writing
from portal.events.models import CONFIRMED, PUBLISHED, CalendarFeed, Event, Signup
from portal.extensions import db
from portal.households.models import (
    Application,
    Household,
    HouseholdMember,
    HouseholdPledge,
    MonthlyReport,
    StatusEvent,
)
from portal.jobs.models import Job
from portal.learn.models import Article, Observance, Topic
from portal.schools.models import (
    Activity,
    ActivityReport,
    EditorInvite,
    School,
    SchoolEditor,
)
from tests.budget import FEATURES, Route
from tests.conftest import _app_factory, csrf_token, make_user, run_jobs, sign_in

FEW, MANY = 3, 30

from tests.budget import API, PUBLIC, SIGNED_IN, WRITE  # noqa: E402,F401

PLEDGES = ("sort-kitchen-waste", "reusable-shopping-bag", "standby-power-off")

# -- the seeded site ------------------------------------------------------------------------


@dataclass
class World:
    app: object
    n: int
    ids: dict
    clients: dict
    tokens: dict

    def client(self, role: str):
        return self.clients[role]


def _months_back(n: int) -> list[str]:
    today = date.today()
    out = []
    for back in range(1, n + 1):
        index = today.year * 12 + today.month - 1 - back
        out.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return out


def _seed(app, n: int) -> dict:
    """``n`` rows of every list the pages show; returns the ids the addresses need."""
    roles = {"citizen": "citizen", "editor": "school", "organizer": "organizer",
             "admin": "admin"}
    people = {name: make_user(app, email=f"{name}@example.org", role=role, name=name)
              for name, role in roles.items()}
    unverified = make_user(app, email="new@example.org", verified=False)
    now = utcnow()
    ids: dict = {"users": people}
    with app.app_context(), writing():
        others = [User(email=f"u{i}@example.org", display_name=f"u{i}", password_hash="x",
                       role="citizen", privacy_version="1", privacy_consented_at=now,
                       created_at=now) for i in range(n)]
        db.session.add_all(others)
        db.session.flush()
        # Schools: n verified ones, the first edited by "editor", with n posts of each kind.
        schools = [School(slug=f"school-{i}", name_zh=f"第{i}小学", name_en=f"School {i}",
                          district="nanhu", type="primary", status="verified",
                          green_level="city" if i % 2 == 0 else "", verified_at=now,
                          applicant_id=people["editor"] if i == 0 else None)
                   for i in range(n)]
        db.session.add_all(schools)
        db.session.flush()
        school = schools[0]
        db.session.add(SchoolEditor(school_id=school.id, user_id=people["editor"]))
        body = "我们在校园里分类垃圾。"
        published = [Activity(school_id=school.id, status="published", title=f"活动{i}",
                              body=body, body_html=f"<p>{body}</p>",
                              html_version=markup.VERSION, activity_date=date.today(),
                              topics=[], published_at=now - timedelta(hours=i),
                              author_id=people["editor"],
                              cover="cover0.png" if i == 0 else None)
                     for i in range(n)]
        submitted = [Activity(school_id=school.id, status="draft", review="submitted",
                              draft_title=f"草稿{i}", draft_body=body,
                              draft_body_html=f"<p>{body}</p>", html_version=markup.VERSION,
                              draft_date=date.today(), draft_topics=[], submitted_at=now,
                              consent_confirmed=True, author_id=people["editor"])
                     for i in range(n)]
        db.session.add_all(published + submitted)
        db.session.flush()
        db.session.add_all(ActivityReport(activity_id=published[0].id, user_id=u.id,
                                          reason="不合适", counted=False) for u in others)
        invite = "invite-token-for-the-citizen"
        db.session.add(EditorInvite(school_id=schools[-1].id, email="citizen@example.org",
                                    token_hash=token_hash(invite)))
        # Events: n upcoming (the first with n sign-ups), n past ones the citizen attended.
        start = (now + timedelta(days=3)).replace(microsecond=0)

        def event(i: int, at: datetime) -> Event:
            return Event(title_zh=f"河道清洁{i}", title_en=f"Clean-up {i}",
                         description_zh="一起清理河道。",
                         description_zh_html="<p>一起清理河道。</p>",
                         html_version=markup.VERSION, starts_at=at,
                         ends_at=at + timedelta(hours=3), signup_deadline=at, place="南湖北门",
                         district="nanhu", capacity=1000, status=PUBLISHED,
                         organizer_id=people["organizer"])

        upcoming = [event(i, start + timedelta(hours=i)) for i in range(n)]
        past = [event(100 + i, now - timedelta(days=10 + i)) for i in range(n)]
        db.session.add_all(upcoming + past)
        db.session.flush()
        db.session.add_all(Signup(event_id=upcoming[0].id, user_id=u.id, status=CONFIRMED)
                           for u in others)
        db.session.add_all(Signup(event_id=e.id, user_id=people["citizen"], status=CONFIRMED)
                           for e in upcoming)
        db.session.add_all(Signup(event_id=e.id, user_id=people["citizen"], status=CONFIRMED,
                                  checked_in_at=e.starts_at, checked_out_at=e.ends_at,
                                  hours=Decimal("3.0")) for e in past)
        feed = "feed-token-of-the-citizen"
        db.session.add(CalendarFeed(user_id=people["citizen"], token_hash=token_hash(feed)))
        # Households: n on the wall (each with pledges and an application waiting), and the
        # citizen's, named, with n members' worth of history and n months reported.
        homes = [Household(owner_id=u.id, name=f"户{i:03d}家", district="nanhu",
                           show_on_wall=True, wall_consent_at=now, invite_code=f"W{i:09d}",
                           phone="13800000000", staff_contact=True, contact_consent_at=now,
                           created_at=now) for i, u in enumerate(others)]
        mine = Household(owner_id=people["citizen"], name="绿色之家", district="nanhu",
                         show_on_wall=True, wall_consent_at=now, invite_code="MINE000001",
                         status="named", named_on=date.today(), certificate_code="CERT000001",
                         created_at=now)
        db.session.add_all([*homes, mine])
        db.session.flush()
        db.session.add_all(HouseholdMember(household_id=h.id, user_id=h.owner_id)
                           for h in [*homes, mine])
        db.session.add_all(HouseholdPledge(household_id=h.id, code=code, created_at=now)
                           for h in [*homes, mine] for code in PLEDGES)
        db.session.add_all(Application(household_id=h.id, story="我们一直在做。")
                           for h in homes)
        db.session.add_all(MonthlyReport(household_id=mine.id, month=month,
                                         pledged=list(PLEDGES), kept=list(PLEDGES[:2]))
                           for month in _months_back(n))
        db.session.add_all(StatusEvent(household_id=mine.id, action="confirm",
                                       by_id=people["admin"]) for _ in range(n))
        # Library: n more articles (the real ones are there too), each under the first topic.
        topic = db.session.scalar(sa.select(Topic).order_by(Topic.position, Topic.slug))
        db.session.add_all(Article(slug=f"extra-{i}", lang="zh", title=f"文章{i} zephyrine",
                                   summary="垃圾分类。", body="垃圾分类。",
                                   html="<p>垃圾分类。</p>", html_version=markup.VERSION,
                                   updated=date.today(), related=[], observances=[],
                                   content_hash=f"{i:064d}", topics=[topic])
                           for i in range(n))
        # Staff records: dead jobs, entered figures.
        db.session.add_all(Job(kind="events.mail", payload={"signup": 0}, state="dead",
                               attempts=5, last_error="down") for _ in range(n))
        db.session.add_all(EnteredFigure(target_key="provincial-green-enterprises",
                                         value=Decimal(i), as_of=date.today() - timedelta(i),
                                         source="统计局", entered_by_id=people["admin"])
                           for i in range(n))
        # Secrets in links, made the way the services store them (hashed).
        later = now + timedelta(days=1)
        reset, verify = "reset-token-of-the-citizen", "verify-token-of-the-new-account"
        db.session.add(PasswordReset(user_id=people["citizen"], token_hash=token_hash(reset),
                                     expires_at=later))
        db.session.add(EmailVerification(user_id=unverified, token_hash=token_hash(verify),
                                         expires_at=later))
        for feature in FEATURES:  # the features' own rows (tests/budget/<feature>.py)
            feature.seed(n, ids, people, others)
        tokens = {}
        for name in ("citizen", "editor", "organizer", "admin"):
            raw = f"gj_budget_{name}"
            db.session.add(ApiToken(user_id=people[name], name="budget",
                                    token_hash=token_hash(raw), prefix=raw[:10]))
            tokens[name] = raw
        db.session.flush()
        ids.update(event=upcoming[0].id, signup=upcoming[0].signups[0].id
                   if upcoming[0].signups else None, school=school.slug, school_id=school.id,
                   activity=published[0].id, submitted=submitted[0].id,
                   household=homes[0].id, application=homes[0].id, invite=invite,
                   feed=feed, reset=reset, verify=verify, tokens=tokens,
                   certificate=mine.certificate_code)
    with app.app_context():
        ids["application"] = db.session.scalar(sa.select(sa.func.min(Application.id)))
        ids["signup"] = db.session.scalar(sa.select(sa.func.min(Signup.id)).where(
            Signup.event_id == ids["event"]))
        ids["article"] = db.session.scalar(sa.select(Article.slug).order_by(Article.id))
        ids["topic"] = db.session.scalar(sa.select(Topic.slug).order_by(Topic.position,
                                                                         Topic.slug))
        ids["observance"] = db.session.scalar(sa.select(Observance.slug)
                                              .order_by(Observance.slug))
        folder = os.path.join(app.instance_path, "uploads")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "cover0.png"), "wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\n")
        stats.rebuild()
    run_jobs(app)  # the summary figures' refresh and anything else the seeding queued
    with app.app_context():
        search.rebuild()  # the seeded articles are found too ("zephyrine": n hits)
    return ids


def _world(tmp_path_factory, library_template, n: int):
    factory, cleanup = _app_factory(tmp_path_factory.mktemp(f"budget{n}"), library_template)
    app = factory(PAGE_CACHE_ENABLED=False)
    ids = _seed(app, n)
    clients = {"anonymous": app.test_client()}
    for name in ("citizen", "editor", "organizer", "admin"):
        client = app.test_client()
        response = sign_in(client, email=f"{name}@example.org")
        assert response.status_code == 302, name
        clients[name] = client
    return World(app, n, ids, clients, ids["tokens"]), cleanup


@pytest.fixture(scope="module")
def worlds(tmp_path_factory, library_template):
    few, clean_few = _world(tmp_path_factory, library_template, FEW)
    many, clean_many = _world(tmp_path_factory, library_template, MANY)
    yield {FEW: few, MANY: many}
    clean_few()
    clean_many()


# -- the routes ----------------------------------------------------------------------------


# endpoint (and method) → how to ask for it.
ROUTES: dict[str, Route] = {
    # core
    "core.home": Route("/"),
    "core.privacy": Route("/privacy"),
    "core.healthz": Route("/healthz"),
    "static": Route("/static/css/site.css"),
    # accounts
    "accounts.register": Route("/register"),
    "accounts.register_sent": Route("/register/sent"),
    "accounts.verify_email": Route(lambda i: f"/verify/{i['verify']}"),
    "accounts.login": Route("/login"),
    "accounts.forgot_password": Route("/password/forgot"),
    "accounts.reset_password": Route(lambda i: f"/password/reset/{i['reset']}"),
    "accounts.account": Route("/account", "citizen"),
    "accounts.change_password": Route("/account/password", "citizen"),
    # The complete export reads every table that holds the person's data, each once (about
    # twenty, see portal/personal.py), whatever the number of rows in them.
    "accounts.my_data": Route("/account/data", "citizen", budget=25),
    "accounts.export_data": Route("/account/data.json", "citizen", budget=25),
    "accounts.delete_account": Route("/account/delete", "citizen"),
    # learn
    "learn.index": Route("/learn"),
    "learn.article": Route(lambda i: f"/learn/{i['article']}"),
    "learn.topic": Route(lambda i: f"/learn/topics/{i['topic']}"),
    "learn.observances": Route("/observances"),
    "learn.observance": Route(lambda i: f"/observances/{i['observance']}"),
    # search
    "search.results": Route("/search?q=zephyrine"),
    "search.results library": Route("/search?q=垃圾分类"),
    # events
    "events.upcoming": Route("/events"),
    "events.month": Route("/events/calendar"),
    "events.detail": Route(lambda i: f"/events/{i['event']}"),
    "events.event_ics": Route(lambda i: f"/events/{i['event']}.ics"),
    "events.public_feed": Route("/calendar.ics"),
    "events.personal_feed": Route(lambda i: f"/calendar/{i['feed']}.ics"),
    "events.my_events": Route("/my/events", "citizen"),
    "events.my_hours": Route("/my/hours", "citizen"),
    "events.service_record": Route("/my/hours/record", "citizen"),
    "events.create": Route("/events/new", "organizer"),
    "events.edit": Route(lambda i: f"/events/{i['event']}/edit", "organizer"),
    "events.roster": Route(lambda i: f"/events/{i['event']}/roster", "organizer"),
    "events.roster_csv": Route(lambda i: f"/events/{i['event']}/roster.csv", "organizer"),
    "events.attendance": Route(lambda i: f"/events/{i['event']}/attendance", "organizer"),
    # households
    "households.mine": Route("/household", "citizen"),
    "households.certificate": Route("/household/certificate", "citizen"),
    "households.wall": Route("/households"),
    "households.verify": Route(lambda i: f"/verify?code={i['certificate']}"),
    "households.manage_list": Route("/manage/households", "organizer"),
    "households.manage_detail": Route(lambda i: f"/manage/households/{i['household']}",
                                      "organizer"),
    "households.decide": Route(lambda i: f"/manage/applications/{i['application']}",
                               "organizer"),
    # schools
    "schools.directory": Route("/schools"),
    "schools.school": Route(lambda i: f"/schools/{i['school']}"),
    "schools.feed": Route(lambda i: f"/schools/{i['school']}/feed.atom"),
    "schools.activity": Route(lambda i: f"/activities/{i['activity']}"),
    "schools.media": Route("/media/cover0.png"),
    "schools.apply": Route("/schools/apply", "citizen"),
    "schools.mine": Route("/schools/mine", "editor"),
    "schools.accept_invite": Route(lambda i: f"/schools/invites/{i['invite']}", "citizen"),
    "schools.new_activity": Route(lambda i: f"/schools/{i['school']}/activities/new",
                                  "editor"),
    "schools.edit_activity": Route(lambda i: f"/activities/{i['submitted']}/edit", "editor"),
    "schools.editors": Route(lambda i: f"/schools/{i['school']}/editors", "editor"),
    "schools.manage_schools": Route("/manage/schools", "organizer"),
    "schools.moderation": Route("/manage/moderation", "organizer"),
    "schools.moderate": Route(lambda i: f"/manage/moderation/{i['submitted']}", "organizer"),
    # jobs
    "jobs.dead_jobs": Route("/manage/jobs", "admin"),
    # dashboard and open data
    # entered figures, the city's rows by month, the districts' rows, this month's ended
    # events (and BEGIN on SQLite): portal/dashboard/services.py overview()
    "dashboard.overview": Route("/dashboard", budget=5),
    "dashboard.table_csv": Route("/dashboard/districts.csv"),
    "dashboard.table_csv targets": Route("/dashboard/targets.csv"),
    "dashboard.staff": Route("/dashboard/staff", "organizer"),
    "dashboard.staff_csv": Route("/dashboard/staff/schools.csv", "organizer"),
    "dashboard.open_data": Route("/open-data"),
    "dashboard.dataset": Route("/open-data/events.csv"),
    "dashboard.dataset json": Route("/open-data/district-monthly.json"),
    "dashboard.dataset schools": Route("/open-data/schools.csv"),
    "dashboard.dataset green-families": Route("/open-data/green-families.csv"),
    # api (a bearer token for the signed-in ones)
    "api.docs": Route("/api/v1/docs"),
    "api.openapi": Route("/api/v1/openapi.json"),
    "api.me": Route("/api/v1/me", "citizen"),
    "api.search_api": Route("/api/v1/search?q=zephyrine"),
    "api.observances": Route("/api/v1/observances"),
    "api.list_events": Route("/api/v1/events"),
    "api.event": Route(lambda i: f"/api/v1/events/{i['event']}"),
    "api.stats": Route("/api/v1/stats"),
    "api.household": Route("/api/v1/household", "citizen"),
    "api.get_activity": Route(lambda i: f"/api/v1/activities/{i['activity']}"),
    # writes that can be repeated (each is sent twice: the second is counted)
    "api.household_pledges": Route("/api/v1/household/pledges", "citizen", method="PUT",
                                   json={"codes": list(PLEDGES)}),
    "api.household_report": Route("/api/v1/household/reports", "citizen", 201, "POST",
                                  json={"month": date.today().strftime("%Y-%m"),
                                        "kept": list(PLEDGES[:1])}),
    "api.signup": Route(lambda i: f"/api/v1/events/{i['event']}/signup", "citizen",
                        method="POST"),  # already signed up: answered 200, unchanged
    "households.pledges": Route("/household/pledges", "citizen", 302, "POST",
                                form={"codes": list(PLEDGES)}),
    "dashboard.enter_figure": Route("/dashboard/figures", "organizer", 302, "POST", form={
        "key": "provincial-green-enterprises", "value": "12", "source": "统计局",
        "as_of": date.today().isoformat()}),
}
for _feature in FEATURES:  # each feature's routes (tests/budget/<feature>.py)
    ROUTES.update(_feature.ROUTES)

# Routes (endpoint, method) not counted here, each with its reason.
ONCE = ("a write whose repetition does something else (already done, refused or gone): the "
        "counted request would not be the real one")
SIGN_IN = "signs the client in or out, or ends its other sessions (the clients here must stay)"
NOT_MEASURED: dict[tuple[str, str], str] = {
    ("accounts.change_password", "POST"): SIGN_IN,
    ("accounts.create_token", "POST"): ONCE,
    ("accounts.delete_account", "POST"): ONCE,
    ("accounts.forgot_password", "POST"): ONCE,
    ("accounts.login", "POST"): SIGN_IN,
    ("accounts.logout", "POST"): SIGN_IN,
    ("accounts.register", "POST"): ONCE,
    ("accounts.resend_verification", "POST"): ONCE,
    ("accounts.reset_password", "POST"): ONCE,
    ("accounts.revoke_token", "POST"): ONCE,
    ("accounts.verify_email", "POST"): ONCE,
    ("api.approve_activity", "POST"): ONCE,
    ("api.cancel_signup", "DELETE"): ONCE,
    ("api.create_activity", "POST"): ONCE,
    ("api.create_event", "POST"): ONCE,
    ("api.create_household", "POST"): ONCE,
    ("api.reject_activity", "POST"): ONCE,
    ("events.cancel", "POST"): ONCE,
    ("events.cancel_signup", "POST"): ONCE,
    ("events.correct_hours", "POST"): ONCE,
    ("events.create", "POST"): ONCE,
    ("events.edit", "POST"): ONCE,
    ("events.mark_attendance", "POST"): ONCE,
    ("events.publish", "POST"): ONCE,
    ("events.reset_feed", "POST"): ONCE,
    ("events.sign_up", "POST"): ONCE,
    ("households.apply", "POST"): ONCE,
    ("households.consents", "POST"): ONCE,
    ("households.create", "POST"): ONCE,
    ("households.decide", "POST"): ONCE,
    ("households.join", "POST"): ONCE,
    ("households.remove_member", "POST"): ONCE,
    ("households.report", "POST"): ONCE,
    ("households.reset_invite", "POST"): ONCE,
    ("households.review", "POST"): ONCE,
    ("households.unmask", "POST"): ONCE,
    ("jobs.retry_dead", "POST"): ONCE,
    ("schools.accept_invite", "POST"): ONCE,
    ("schools.apply", "POST"): ONCE,
    ("schools.decide_school", "POST"): ONCE,
    ("schools.edit_activity", "POST"): ONCE,
    ("schools.editors", "POST"): ONCE,
    ("schools.green_status", "POST"): ONCE,
    ("schools.moderate", "POST"): ONCE,
    ("schools.new_activity", "POST"): ONCE,
    ("schools.remove_editor", "POST"): ONCE,
    ("schools.report", "POST"): ONCE,
    ("schools.submit_activity", "POST"): ONCE,
}

# Routes over budget, or growing with their rows, for a reason being fixed elsewhere: a
# temporary entry (strict xfail), to be removed with the fix.  Empty is the normal state.
OVER_BUDGET: dict[str, str] = {}
GROWING: dict[str, str] = {}


def _endpoint(key: str) -> str:
    return key.split(" ")[0]


# -- counting --------------------------------------------------------------------------------

_counted: dict = {}
_bodies: dict = {}


def _count(world: World, key: str) -> tuple[int, str, list[str]]:
    """Statements of one request of ``key`` in ``world`` (asked once before), cached."""
    if (world.n, key) in _counted:
        return _counted[world.n, key]
    route = ROUTES[key]
    path = route.address(world.ids)
    client = world.client("anonymous" if path.startswith("/api/") else route.who)
    headers = {}
    if path.startswith("/api/") and route.who != "anonymous":
        headers["Authorization"] = f"Bearer {world.tokens[route.who]}"
    statements: list[str] = []

    def counter(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split())[:160])

    with world.app.app_context():
        engine = db.engine

    data = None
    if route.form is not None:
        data = {**route.form, "csrf_token": csrf_token(client, "/account")}

    def ask():
        response = client.open(path, method=route.method, headers=headers, json=route.json,
                               data=data)
        response.get_data()  # a streamed body runs its queries as it is read
        response.close()
        return response

    first = ask()
    assert first.status_code == route.status, (key, path, first.status_code)
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        response = ask()
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == route.status, (key, path, response.status_code)
    _counted[world.n, key] = (len(statements), path, statements)
    _bodies[world.n, key] = response.get_data().decode("utf-8", "replace")
    if os.environ.get("PORTAL_BUDGET_REPORT"):  # the table of counts, for a report
        print(f"COUNT {world.n} {key} {path} {len(statements)}")
    return _counted[world.n, key]


def _marks(key: str, table: dict[str, str]):
    reason = table.get(key)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


# -- tests -----------------------------------------------------------------------------------


def test_every_route_has_a_budget(worlds):
    app = worlds[FEW].app
    measured = {(_endpoint(k), r.method) for k, r in ROUTES.items()}
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in measured | set(NOT_MEASURED):
                missing.append(f"route {method} {rule.rule} ({rule.endpoint}) has no budget")
    assert missing == []
    routes = {(r.endpoint, m) for r in app.url_map.iter_rules() for m in r.methods}
    assert measured | set(NOT_MEASURED) <= routes  # no stale entries


@pytest.mark.parametrize("key", [pytest.param(k, marks=_marks(k, OVER_BUDGET))
                                 for k in ROUTES])
def test_route_keeps_its_statement_budget(worlds, key):
    _count(worlds[FEW], key)  # both sites see the same requests in the same order
    count, path, statements = _count(worlds[MANY], key)
    limit = ROUTES[key].limit(path)
    assert count <= limit, f"{path}: {count} statements > {limit}:\n" + "\n".join(statements)


@pytest.mark.parametrize("key", [pytest.param(k, marks=_marks(k, GROWING)) for k in ROUTES])
def test_statements_do_not_grow_with_the_rows_shown(worlds, key):
    few, path, _s = _count(worlds[FEW], key)
    many, _path, statements = _count(worlds[MANY], key)
    assert many == few, (f"{path}: {few} statements with {FEW} rows, {many} with {MANY}:\n"
                         + "\n".join(statements))


# A text each row of a list shows: the site with more rows shows it more often, so the
# comparison above is between pages that really show more rows.
SHOWN = {
    "events.upcoming": "河道清洁", "events.my_events": "河道清洁", "events.my_hours": "河道清洁",
    "events.roster": "u1", "events.attendance": "u1", "api.list_events": "河道清洁",
    "learn.index": "文章", "learn.topic": "文章", "search.results": "zephyrine",
    "api.search_api": "zephyrine", "schools.directory": "小学", "schools.school": "活动",
    "schools.feed": "活动", "schools.mine": "草稿", "schools.moderation": "草稿",
    "households.wall": "<li><strong>",
    "households.manage_list": "/manage/households/", "jobs.dead_jobs": "down",
    "dashboard.staff": "统计局", "dashboard.staff_csv": "school-", "accounts.my_data": "河道清洁",
}
for _feature in FEATURES:
    SHOWN.update(_feature.SHOWN)


@pytest.mark.parametrize("key", list(SHOWN))
def test_the_larger_site_shows_more_rows(worlds, key):
    for world in worlds.values():
        _count(world, key)
    few, many = (_bodies[n, key].count(SHOWN[key]) for n in (FEW, MANY))
    assert 0 < few < many, (key, few, many)
