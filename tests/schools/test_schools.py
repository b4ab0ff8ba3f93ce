"""Schools and their activity posts: applications, editors, uploads, review, reports, the
moderation log, the public pages, search and the API."""

import hashlib
import io
import os
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.jobs.models import Job
from portal.jobs.services import work as _work
from portal.rules import RuleError
from portal.schools import services as sc
from portal.schools.models import Activity, School
from tests.conftest import csrf_token, make_user, outbox, run_jobs, sign_in


def _token(app, email):
    return app.test_cli_runner().invoke(args=["users", "token", email]).output.strip()


@pytest.fixture
def people(library):
    return {"teacher": make_user(library, email="teacher@example.org", name="李老师"),
            "admin": make_user(library, email="admin@example.org", role="admin"),
            "org": make_user(library, email="org@example.org", role="organizer"),
            "citizen": make_user(library, email="citizen@example.org")}


def _user(app, uid):
    return db.session.get(User, uid)


@pytest.fixture
def school(library, people):
    with library.app_context():
        s = sc.apply_school(_user(library, people["teacher"]), sc.SchoolInput(
            "南湖实验小学", "Nanhu Experimental Primary", "nanhu", "primary", "南湖路1号",
            "李老师 0573-0000000"))
        sc.verify_school(s.id, _user(library, people["admin"]))
        return s.id


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "green")
    exif = image.getexif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 45.0, 0.0), 3: "E", 4: (120.0, 45.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _post(app, people, school_id, title="湿地观鸟", body="我们在湘家荡观察白鹭和夜鹭。",
          cover=None, publish=True):
    with app.app_context():
        teacher = _user(app, people["teacher"])
        s = db.session.get(School, school_id)
        post = sc.save_activity(teacher, s, sc.ActivityInput(title, body, date(2026, 11, 20),
                                                             ["nature"], cover))
        if publish:
            sc.submit(teacher, post.id, True)
            sc.approve(post.id, _user(app, people["org"]))
            run_due_jobs()
        return post.id


def test_apply_and_verify_makes_the_applicant_an_editor(library, people, school):
    with library.app_context():
        s = db.session.get(School, school)
        assert s.status == "verified" and s.slug == "nanhu-experimental-primary"
        assert _user(library, people["teacher"]).role == "school"
        assert sc.is_editor(_user(library, people["teacher"]), s)
        assert not sc.is_editor(_user(library, people["citizen"]), s)


def test_only_admins_verify_and_rejection_needs_a_reason(library, people):
    with library.app_context():
        s = sc.apply_school(_user(library, people["citizen"]), sc.SchoolInput(
            "某中学", "", "haining", "middle", "", "王老师"))
        with pytest.raises(RuleError):
            sc.reject_school(s.id, _user(library, people["admin"]), "")
        sc.reject_school(s.id, _user(library, people["admin"]), "无法核实")
        assert db.session.get(School, s.id).status == "rejected"
    [told] = [m for m in outbox(library) if m["To"] == "citizen@example.org"]
    assert told["Subject"] == "你的学校登记未获通过" and "无法核实" in told.get_body().get_content()
    assert "/schools/apply" in told.get_body().get_content()
    organizer = library.test_client()
    sign_in(organizer, "org@example.org")
    token = csrf_token(organizer, "/manage/schools")
    assert organizer.post(f"/manage/schools/{s.id}/verify",
                          data={"csrf_token": token}).status_code == 403
    assert organizer.get("/manage/audit").status_code == 403


def test_bad_application_gets_field_errors(library, people):
    with library.app_context(), pytest.raises(RuleError) as err:
        sc.apply_school(_user(library, people["citizen"]), sc.SchoolInput("", "", "x", "zoo"))
    assert set(err.value.fields) == {"name_zh", "district", "type", "contact"}


def test_editors_invite_accept_and_remove(library, people, school):
    with library.app_context():
        s = db.session.get(School, school)
        sc.invite_editor(s, _user(library, people["teacher"]), "citizen@example.org")
    [mail] = [m for m in outbox(library) if m["To"] == "citizen@example.org"]
    link = mail.get_body().get_content().split("http://localhost:5000")[1].split()[0]
    stranger = library.test_client()
    sign_in(stranger, "org@example.org")
    stranger.post(link, data={"csrf_token": csrf_token(stranger, link)})
    citizen = library.test_client()
    sign_in(citizen, "citizen@example.org")
    citizen.post(link, data={"csrf_token": csrf_token(citizen, link)})
    with library.app_context():
        s = db.session.get(School, school)
        editors = {e.user_id for e in s.editors}
        assert editors == {people["teacher"], people["citizen"]}  # the organizer did not join
        sc.remove_editor(s, _user(library, people["teacher"]), people["citizen"])
        with pytest.raises(RuleError):
            sc.remove_editor(db.session.get(School, school), _user(library, people["teacher"]),
                             people["teacher"])


def _invite(app, people, school_id, email="citizen@example.org"):
    """Invite ``email``, run the mail job; return the link's path and raw token."""
    with app.app_context():
        sc.invite_editor(db.session.get(School, school_id), _user(app, people["teacher"]), email)
        run_due_jobs()
    [mail] = [m for m in outbox(app) if m["To"] == email]
    link = re.search(r"https?://[^/\s]+(/schools/invites/\S+)", mail.get_body().get_content())
    return link.group(1), link.group(1).rsplit("/", 1)[1]


def test_invitations_are_stored_hashed_and_the_mailed_link_works(library, people, school):
    """Issue 12, item 7."""
    link, token = _invite(library, people, school)
    with library.app_context():
        [row] = db.session.execute(sa.text("SELECT * FROM school_editor_invites")).all()
        assert token not in {str(v) for v in row}
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        [job] = db.session.scalars(db.select(Job).where(Job.kind == "schools.invite_mail"))
        assert job.payload == {}  # the raw token left with the mail
    [mail] = [m for m in outbox(library) if m["To"] == "citizen@example.org"]
    assert "7" in mail.get_body().get_content()  # how long it is valid
    citizen = library.test_client()
    sign_in(citizen, "citizen@example.org")
    citizen.post(link, data={"csrf_token": csrf_token(citizen, link)})
    with library.app_context():
        assert {e.user_id for e in db.session.get(School, school).editors} == {
            people["teacher"], people["citizen"]}


def test_an_expired_invitation_is_refused_with_a_clear_message(library, people, school):
    link, token = _invite(library, people, school)
    with library.app_context():
        invite = db.session.scalars(db.select(sc.EditorInvite)).one()
        invite.created_at = invite.created_at - timedelta(days=7, seconds=1)
        db.session.commit()
        with pytest.raises(RuleError) as err:
            sc.accept_invite(_user(library, people["citizen"]), token)
        assert err.value.code == "invite_expired" and err.value.status == 410
        message = err.value.message  # in the site's default language, like the page
    citizen = library.test_client()
    sign_in(citizen, "citizen@example.org")
    answer = citizen.post(link, data={"csrf_token": csrf_token(citizen, link)},
                          follow_redirects=True)
    assert message in answer.get_data(as_text=True)
    with library.app_context():
        assert {e.user_id for e in db.session.get(School, school).editors} == {people["teacher"]}


def test_invitations_last_as_long_as_configured(make_library_app):
    app = make_library_app(SCHOOLS_INVITE_DAYS=1)
    assert app.config["SCHOOLS_INVITE_DAYS"] == 1
    assert make_library_app().config["SCHOOLS_INVITE_DAYS"] == 7


def test_a_user_edits_only_their_own_schools(library, people, school):
    post = _post(library, people, school, publish=False)
    other = library.test_client()
    sign_in(other, "citizen@example.org")
    assert other.get("/schools/nanhu-experimental-primary/activities/new").status_code == 403
    assert other.get(f"/activities/{post}/edit").status_code == 404
    assert other.get(f"/activities/{post}").status_code == 404  # not public yet


def test_cover_pictures_lose_exif_and_gps_and_live_outside_static(library, people, school):
    with library.app_context():
        from portal.schools import uploads

        name = uploads.store_image(_jpeg_with_gps())
        path = uploads.path_of(name)
        assert path.startswith(os.path.join(library.instance_path, "uploads"))
        assert len(name.split(".")[0]) == 32
        with Image.open(path) as stored:
            assert dict(stored.getexif()) == {}
        with pytest.raises(RuleError) as big:
            uploads.store_image(b"\xff\xd8" + b"0" * (5 * 1024 * 1024))
        assert big.value.code == "too_large"
        for fake in [b"<?php echo 1; ?>", b"GIF89a" + b"0" * 20, b"%PDF-1.4"]:
            with pytest.raises(RuleError) as bad:
                uploads.store_image(fake)
            assert bad.value.code == "bad_type"
        gif = io.BytesIO()
        Image.new("RGB", (4, 4)).save(gif, "GIF")
        with pytest.raises(RuleError):
            uploads.store_image(gif.getvalue())  # a real image, but not an allowed kind
        assert uploads.path_of("../secret_key") is None


def test_upload_through_the_form_and_who_sees_the_picture(library, people, school):
    teacher = library.test_client()
    sign_in(teacher, "teacher@example.org")
    page = "/schools/nanhu-experimental-primary/activities/new"
    response = teacher.post(page, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(teacher, page), "title": "植树", "body": "我们种了十棵树。",
        "activity_date": "2026-03-12", "topics": ["nature"],
        "cover": (io.BytesIO(_jpeg_with_gps()), "photo.jpg")})
    assert response.status_code == 302
    bad = teacher.post(page, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(teacher, page), "title": "x", "body": "y",
        "activity_date": "2026-03-12", "cover": (io.BytesIO(b"not an image"), "photo.jpg")})
    assert bad.status_code == 400 and "JPEG、PNG 或 WebP" in bad.get_data(as_text=True)
    with library.app_context():
        post = db.session.scalars(db.select(Activity)).one()
        cover = post.draft_cover
    with teacher.get(f"/media/{cover}") as picture:
        assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert library.test_client().get(f"/media/{cover}").status_code == 404  # not yet public
    with library.app_context():
        sc.submit(_user(library, people["teacher"]), post.id, True)
        sc.approve(post.id, _user(library, people["org"]))
    with library.test_client().get(f"/media/{cover}") as picture:
        assert picture.status_code == 200


def test_states_draft_submitted_published_rejected(library, people, school):
    post = _post(library, people, school, publish=False)
    with library.app_context():
        teacher, org = _user(library, people["teacher"]), _user(library, people["org"])
        with pytest.raises(RuleError) as no_consent:
            sc.submit(teacher, post, False)
        assert no_consent.value.code == "consent_required"
        assert sc.submit(teacher, post, True).status == "submitted"
        assert [a.id for a in sc.queue()] == [post]
        with pytest.raises(RuleError):
            sc.reject(post, org, "")
        assert sc.reject(post, org, "照片能看清学生的脸").status == "rejected"
    teacher_client = library.test_client()
    sign_in(teacher_client, "teacher@example.org")
    assert "照片能看清学生的脸" in teacher_client.get("/schools/mine").get_data(as_text=True)
    with library.app_context():
        sc.submit(_user(library, people["teacher"]), post, True)
        assert sc.approve(post, _user(library, people["org"])).status == "published"


def test_editing_a_published_post_keeps_the_old_version_public(library, people, school):
    post = _post(library, people, school)
    with library.app_context():
        teacher = _user(library, people["teacher"])
        s = db.session.get(School, school)
        sc.save_activity(teacher, s, sc.ActivityInput("湿地观鸟（修订）", "新的正文：看到了苍鹭。",
                                                      date(2026, 11, 20), ["nature"]), post)
        sc.submit(teacher, post, True)
    public = library.test_client().get(f"/activities/{post}").get_data(as_text=True)
    assert "湿地观鸟（修订）" not in public and "白鹭" in public
    staff = library.test_client()
    sign_in(staff, "org@example.org")
    review = staff.get(f"/manage/moderation/{post}").get_data(as_text=True)
    # issue 14: a side-by-side word diff, changed words marked (no ---/+++ lines)
    assert "<ins>" in review and "<del>" in review and "苍鹭" in review and "白鹭" in review
    assert "+新的正文" not in review
    staff.post(f"/manage/moderation/{post}", data={
        "csrf_token": csrf_token(staff, f"/manage/moderation/{post}"), "action": "approve"})
    assert "湿地观鸟（修订）" in library.test_client().get(f"/activities/{post}").get_data(
        as_text=True)


def test_the_public_finds_a_post_by_a_chinese_word_from_its_body(library, people, school):
    _post(library, people, school)
    body = library.test_client().get("/api/v1/search?q=夜鹭&kind=activity").json
    assert [r["title"] for r in body["results"]] == ["湿地观鸟"]


def test_three_reports_hide_a_post_and_it_leaves_search(library, people, school):
    post = _post(library, people, school)
    reporters = [make_user(library, email=f"r{i}@example.org") for i in range(3)]
    with library.app_context():  # accounts old enough for their reports to count (item 5)
        for uid in reporters:
            _user(library, uid).created_at -= library.config["REPORTS_MIN_ACCOUNT_AGE"]
        db.session.commit()
        assert sc.report(_user(library, reporters[0]), post, "不实") is False
        with pytest.raises(RuleError) as twice:
            sc.report(_user(library, reporters[0]), post, "再次")
        assert twice.value.code == "already_reported"
        assert sc.report(_user(library, reporters[1]), post, "不实") is False
        assert sc.report(_user(library, reporters[2]), post, "不实") is True
        run_due_jobs()
    assert library.test_client().get(f"/activities/{post}").status_code == 404
    assert library.test_client().get("/api/v1/search?q=夜鹭").json["total"] == 0
    with library.app_context():
        sc.set_hidden(post, _user(library, people["org"]), False, "核实后内容属实")
        run_due_jobs()
    assert library.test_client().get(f"/activities/{post}").status_code == 200
    assert library.test_client().get("/api/v1/search?q=夜鹭").json["total"] == 1


def test_staff_hide_with_a_reason_and_everything_is_in_the_audit_log(library, people, school):
    post = _post(library, people, school)
    with library.app_context():
        with pytest.raises(RuleError):
            sc.set_hidden(post, _user(library, people["org"]), True, "")
        sc.set_hidden(post, _user(library, people["org"]), True, "含有学生姓名")
        actions = [r.action for r in db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.target.like("school:%")
                                        | AuditEntry.target.like("activity:%"))
            .order_by(AuditEntry.id))]
    assert actions == ["school_applied", "school_verified", "submitted", "approved", "hidden"]
    admin = library.test_client()
    sign_in(admin, "admin@example.org")
    html = admin.get("/manage/audit?action=hidden").get_data(as_text=True)
    listed = html[html.index('<ol class="audit-list">'):]  # the entries, told in words
    assert "含有学生姓名" in listed and "湿地观鸟" in listed
    assert "school_verified" not in listed and "activity:" not in listed


def test_directory_school_page_and_atom_feed(library, people, school):
    _post(library, people, school)
    with library.app_context():
        sc.set_green_status(school, "provincial", 2024, _user(library, people["org"]))
    client = library.test_client()
    html = client.get("/schools?district=nanhu&type=primary").get_data(as_text=True)
    assert "南湖实验小学" in html
    assert "南湖实验小学" not in client.get("/schools?district=haining").get_data(as_text=True)
    page = client.get("/schools/nanhu-experimental-primary").get_data(as_text=True)
    assert "省级绿色学校" in page and "2024" in page and "湿地观鸟" in page
    feed = client.get("/schools/nanhu-experimental-primary/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.find("a:title", ns).text for e in root.findall("a:entry", ns)] == ["湿地观鸟"]


ATOM = "{http://www.w3.org/2005/Atom}"
ATOM_TAGS = {f"{ATOM}{t}" for t in ("feed", "title", "id", "link", "updated", "entry",
                                      "content")}


def test_every_feed_is_well_formed_xml_and_escapes_names_and_posts(library, people):
    """Issue 12, item 3: a hostile school name and HTML from a post come out as text, the
    content is escaped ``type="html"``, and every XML feed the site serves parses."""
    hostile = "<img src=x onerror=alert(1)>"
    with library.app_context():
        s = sc.apply_school(_user(library, people["teacher"]), sc.SchoolInput(
            hostile, "Hostile Primary", "nanhu", "primary", "南湖路1号", "李老师"))
        sc.verify_school(s.id, _user(library, people["admin"]))
        slug, school_id = s.slug, s.id
    _post(library, people, school_id, title="<b>观鸟</b> & 白鹭",
          body="第一行  \n第二行\n\n<script>alert(1)</script> **粗体**")
    feeds = [r for r in library.url_map.iter_rules()
             if r.rule.endswith((".atom", ".xml", ".rss"))]
    assert feeds, "no XML feed found in the URL map"
    client = library.test_client()
    for rule in feeds:
        assert rule.arguments <= {"slug"}, f"add {rule.rule} to this test"
        answer = client.get(rule.rule.replace("<slug>", slug))
        assert answer.status_code == 200, rule.rule
        root = ET.fromstring(answer.data)  # well-formed, or this raises
        assert {e.tag for e in root.iter()} <= ATOM_TAGS, rule.rule  # no element from text
        assert root.find(f"{ATOM}title").text == hostile
        [entry] = root.findall(f"{ATOM}entry")
        assert entry.find(f"{ATOM}title").text == "<b>观鸟</b> & 白鹭"
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html"
        assert "<br" in content.text and "<strong>粗体</strong>" in content.text
        assert "<script>" not in content.text  # the Markdown allow-list still applies
        assert b"<img" not in answer.data and b"<br" not in answer.data


def test_every_template_but_plain_text_mail_is_autoescaped(library):
    env = library.jinja_env
    names = env.list_templates()
    assert any(n.endswith(".atom") for n in names)
    for name in names:
        assert bool(env.autoescape(name) if callable(env.autoescape) else env.autoescape) \
            is (not name.endswith(".txt")), name


def test_csv_import_is_idempotent_and_reports_unknown_accounts(library, people, tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("name,district,type,editor_email\n"
                    "秀洲区新塍小学,秀洲区,primary,teacher@example.org\n"
                    "海盐县实验中学,haiyan,middle,nobody@example.org\n", encoding="utf-8")
    first = library.test_cli_runner().invoke(args=["schools", "import", str(path)])
    assert "created school-" in first.output and "nobody@example.org" in first.output
    second = library.test_cli_runner().invoke(args=["schools", "import", str(path)])
    assert "created" not in second.output and "exists  school-" in second.output
    with library.app_context():
        [s] = db.session.scalars(db.select(School).where(School.name_zh == "秀洲区新塍小学"))
        assert s.status == "verified" and [e.user_id for e in s.editors] == [people["teacher"]]


def test_api_activities(library, people, school):
    editor, outsider = _token(library, "teacher@example.org"), _token(library,
                                                                       "citizen@example.org")
    staff = _token(library, "org@example.org")
    client = library.test_client()
    body = {"title": "垃圾分类宣传", "body": "同学们向居民讲解易腐垃圾。",
            "activity_date": "2026-11-01", "topics": ["waste"]}
    url = "/api/v1/schools/nanhu-experimental-primary/activities"
    assert client.post(url, json=body, headers={"Authorization": f"Bearer {outsider}"}
                       ).status_code == 403
    created = client.post(url, json=body, headers={"Authorization": f"Bearer {editor}"})
    assert created.status_code == 201 and created.json["status"] == "submitted"
    post = created.json["id"]
    assert client.get(f"/api/v1/activities/{post}").status_code == 404
    assert client.get(f"/api/v1/activities/{post}",
                      headers={"Authorization": f"Bearer {editor}"}).status_code == 200
    assert client.post(f"/api/v1/activities/{post}/approve",
                       headers={"Authorization": f"Bearer {editor}"}).status_code == 403
    approved = client.post(f"/api/v1/activities/{post}/approve",
                           headers={"Authorization": f"Bearer {staff}"})
    assert approved.status_code == 200
    public = client.get(f"/api/v1/activities/{post}").json
    assert set(public) >= {"id", "school", "title", "html", "activity_date", "url"}
    assert "易腐垃圾" in public["html"] and public["school"] == "nanhu-experimental-primary"
    bad = client.post(url, json={**body, "topics": ["astrology"]},
                      headers={"Authorization": f"Bearer {editor}"})
    assert bad.status_code == 422 and "topics" in bad.json["error"]["fields"]
    run_jobs(library)  # the figures are summary rows, made by a job
    assert client.get("/api/v1/stats").json["published_activities"] == 1


@pytest.mark.parametrize("path,expected", [
    ("/manage/schools", {"citizen": 403, "teacher": 403, "org": 200, "admin": 200}),
    ("/manage/moderation", {"citizen": 403, "teacher": 403, "org": 200, "admin": 200}),
    ("/manage/audit", {"citizen": 403, "teacher": 403, "org": 403, "admin": 200}),
    ("/schools/mine", {"citizen": 200, "teacher": 200, "org": 200, "admin": 200}),
])
def test_access_for_every_role(library, people, school, path, expected):
    emails = {"citizen": "citizen@example.org", "teacher": "teacher@example.org",
              "org": "org@example.org", "admin": "admin@example.org"}
    assert library.test_client().get(path).status_code == 302  # anonymous: sign in first
    for role, status in expected.items():
        client = library.test_client()
        sign_in(client, emails[role])
        assert client.get(path).status_code == status, (path, role)


def test_verified_school_editors_run_their_own_events_only(library, people, school):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.events.conftest import make_event

    staff_event = make_event(library, people["org"])
    teacher = library.test_client()
    sign_in(teacher, "teacher@example.org")
    token = csrf_token(teacher, "/events/new")
    start = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=8)).strftime(
        "%Y-%m-%dT09:00")
    response = teacher.post("/events/new", data={
        "csrf_token": token, "title_zh": "校园植树", "starts_at": start,
        "ends_at": start.replace("T09:00", "T11:00"), "place": "学校操场", "district": "nanhu",
        "capacity": "20", "publish": "1"})
    assert response.status_code == 302
    own = int(response.headers["Location"].rsplit("/", 1)[1])
    assert teacher.get(f"/events/{own}/roster").status_code == 200
    assert teacher.get(f"/events/{own}/edit").status_code == 200
    assert teacher.get(f"/events/{staff_event}/roster").status_code == 403
    assert teacher.get(f"/events/{staff_event}/edit").status_code == 403
    assert teacher.post(f"/events/{staff_event}/cancel",
                        data={"csrf_token": token}).status_code == 403
    citizen = library.test_client()
    sign_in(citizen, "citizen@example.org")
    assert citizen.get("/events/new").status_code == 403


def test_an_editor_removed_from_every_school_is_a_citizen_again(library, people, school):
    with library.app_context():
        s = db.session.get(School, school)
        sc.invite_editor(s, _user(library, people["teacher"]), "citizen@example.org")
        token = db.session.scalars(db.select(Job)).all()[-1].payload["token"]
        sc.accept_invite(_user(library, people["citizen"]), token)
        assert _user(library, people["citizen"]).role == "school"
        sc.remove_editor(db.session.get(School, school), _user(library, people["teacher"]),
                         people["citizen"])
        assert _user(library, people["citizen"]).role == "citizen"


def run_due_jobs():
    """What the job worker does, inside the caller's app context."""
    return _work(burst=True, schedule=False)
