"""The media library (issue 14): uploads checked by content, re-encoded without metadata in
responsive sizes (WebP and JPEG, never upscaled), alt text in both languages and a credit
required, files served strictly by name, staff pages for writers only, event covers."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.db import utcnow, writing
from portal.events.models import PUBLISHED, Event
from portal.extensions import db
from portal.media import services
from portal.media.models import Media
from portal.rules import RuleError
from tests.conftest import csrf_token, make_user, sign_in

TEXTS = {"alt_zh": "南湖边的志愿者", "alt_en": "Volunteers by South Lake", "credit": "王敏",
         "licence": "CC BY 4.0"}


def _jpeg_with_gps(size=(1600, 900)) -> bytes:
    image = Image.new("RGB", size, "green")
    exif = image.getexif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 1  # orientation
    exif[0x8825] = {1: "N", 2: (30.0, 45.0, 0.0), 3: "E", 4: (120.0, 45.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret-comment")
    return out.getvalue()


def _png_alpha(size=(300, 200)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))  # fully transparent black
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _file(data: bytes, name="photo.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


@pytest.fixture
def staff(app):
    return {"organizer": make_user(app, email="organizer@example.org", role="organizer"),
            "editor": make_user(app, email="editor@example.org", role="editor"),
            "citizen": make_user(app, email="citizen@example.org", role="citizen")}


def _user(app, user_id):
    return db.session.get(User, user_id)


def _stored(app) -> tuple[int, list[str]]:
    folder = os.path.join(app.instance_path, "media")
    files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return db.session.scalar(sa.select(sa.func.count()).select_from(Media)), files


def test_a_jpeg_with_gps_is_stored_in_sizes_without_metadata(app, staff):
    with app.test_request_context():
        media = services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps()),
                                **TEXTS)
        assert media.widths == [480, 1200] and (media.width, media.height) == (1200, 675)
        assert len(media.stem) == 32
        for width in (480, 1200):
            for ext, kind in (("webp", "WEBP"), ("jpg", "JPEG")):
                path = services.path_of(media.filename(width, ext))
                assert path and path.startswith(os.path.join(app.instance_path, "media"))
                with open(path, "rb") as fh:
                    raw = fh.read()
                assert b"SecretCam" not in raw and b"secret-comment" not in raw
                with Image.open(io.BytesIO(raw)) as stored:
                    assert stored.format == kind and stored.width == width
                    assert not stored.getexif() and "exif" not in stored.info
                    assert "icc_profile" not in stored.info and "xmp" not in stored.info
        assert "1200w" in services.url(media) or services.url(media).endswith("-1200.jpg")


def test_small_pictures_are_never_upscaled(app, staff):
    with app.test_request_context():
        small = services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps((300, 100))),
                                **TEXTS)
        middle = services.upload(_user(app, staff["organizer"]),
                                 _file(_jpeg_with_gps((800, 400))), **TEXTS)
        assert small.widths == [300] and (small.width, small.height) == (300, 100)
        assert middle.widths == [480] and middle.width == 480
        assert sorted(os.listdir(services.folder())) == sorted(small.files() + middle.files())


def test_a_png_with_transparency_is_flattened_on_white_for_jpeg(app, staff):
    with app.test_request_context():
        media = services.upload(_user(app, staff["organizer"]), _file(_png_alpha(), "a.png"),
                                **TEXTS)
        with Image.open(services.path_of(media.filename(300, "jpg"))) as jpeg:
            assert jpeg.mode == "RGB" and jpeg.getpixel((10, 10)) >= (250, 250, 250)
        with Image.open(services.path_of(media.filename(300, "webp"))) as webp:
            assert webp.mode == "RGBA" and webp.getpixel((10, 10))[3] == 0


def test_a_text_file_named_jpg_is_refused_and_nothing_is_stored(app, staff):
    with app.test_request_context():
        with pytest.raises(RuleError) as err:
            services.upload(_user(app, staff["organizer"]), _file(b"hello, not a picture"),
                            **TEXTS)
        assert err.value.status == 422 and list(err.value.fields) == ["file"]
        assert _stored(app) == (0, [])
    client = app.test_client()
    sign_in(client, "organizer@example.org")
    answer = client.post("/manage/media/new?lang=en", data=dict(
        TEXTS, file=(io.BytesIO(b"hello"), "x.jpg"),
        csrf_token=csrf_token(client, "/manage/media/new?lang=en")),
        content_type="multipart/form-data")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "The picture must be a JPEG, PNG or WebP image." in html
    assert 'class="form-errors error-summary"' in html and "aria-invalid" in html
    with app.app_context():
        assert _stored(app) == (0, [])


def test_too_many_pixels_are_refused_from_the_header(make_app, monkeypatch):
    app = make_app(SCHOOLS_UPLOAD_MAX_PIXELS=1_000_000)
    user = make_user(app, email="organizer@example.org", role="organizer")
    out = io.BytesIO()
    Image.new("1", (2000, 2000)).save(out, "PNG")  # small on disk, 4 Mpx
    calls = []
    monkeypatch.setattr(Image.Image, "load", lambda self: calls.append(1))
    with app.test_request_context():
        with pytest.raises(RuleError) as err:
            services.upload(_user(app, user), _file(out.getvalue(), "big.png"), **TEXTS)
        assert err.value.code == "invalid" and "5" not in err.value.fields["file"][:0]
        assert calls == [] and _stored(app) == (0, [])


@pytest.mark.parametrize("missing", ["alt_zh", "alt_en", "credit"])
def test_a_missing_text_is_refused_and_nothing_is_stored(app, staff, missing):
    with app.test_request_context():
        with pytest.raises(RuleError) as err:
            services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps()),
                            **dict(TEXTS, **{missing: "  "}))
        assert list(err.value.fields) == [missing]
        assert _stored(app) == (0, [])
    client = app.test_client()
    sign_in(client, "editor@example.org")
    answer = client.post("/manage/media/new?lang=en", data=dict(
        TEXTS, **{missing: ""}, file=(io.BytesIO(_jpeg_with_gps()), "x.jpg"),
        csrf_token=csrf_token(client, "/manage/media/new?lang=en")),
        content_type="multipart/form-data")
    assert answer.status_code == 400 and f'id="{missing}-error"' in answer.get_data(as_text=True)
    with app.app_context():
        assert _stored(app) == (0, [])


def test_a_failed_unit_of_work_removes_the_files(app, staff, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database away")
    monkeypatch.setattr(services.audit, "record", broken)
    with app.test_request_context():
        with pytest.raises(RuntimeError):
            services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps()), **TEXTS)
        assert _stored(app) == (0, [])


def test_uploading_through_the_pages_and_editing(app, staff):
    client = app.test_client()
    sign_in(client, "editor@example.org")
    answer = client.post("/manage/media/new", data=dict(
        TEXTS, file=(io.BytesIO(_jpeg_with_gps()), "x.jpg"),
        csrf_token=csrf_token(client, "/manage/media/new")),
        content_type="multipart/form-data")
    assert answer.status_code == 302
    with app.app_context():
        media = db.session.scalars(sa.select(Media)).one()
        assert media.uploaded_by_id == staff["editor"] and media.credit == "王敏"
        media_id, stem = media.id, media.stem
    page = client.get(f"/manage/media/{media_id}?lang=en").get_data(as_text=True)
    assert "<picture>" in page and "&lt;picture&gt;" in page  # shown and its HTML
    assert "480w" in page and "1200w" in page
    listing = client.get("/manage/media?lang=en").get_data(as_text=True)
    assert stem in listing and "Volunteers by South Lake" in listing
    assert stem not in client.get("/manage/media?q=nothing-like-it").get_data(as_text=True)
    assert stem in client.get("/manage/media?q=South").get_data(as_text=True)
    path = f"/manage/media/{media_id}"
    answer = client.post(path, data=dict(TEXTS, alt_en="Volunteers planting trees",
                                         csrf_token=csrf_token(client, path)))
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Media, media_id).alt_en == "Volunteers planting trees"
    answer = client.post(path, data=dict(TEXTS, alt_zh="", csrf_token=csrf_token(client, path)))
    assert answer.status_code == 400
    # Delete after a confirmation page.
    assert client.get(f"{path}/delete").status_code == 200
    answer = client.post(f"{path}/delete", data={"csrf_token": csrf_token(client, path)})
    assert answer.status_code == 302
    with app.app_context():
        assert _stored(app) == (0, [])
        logged = db.session.execute(sa.select(AuditEntry.action, AuditEntry.target,
                                              AuditEntry.actor_id).order_by(AuditEntry.id)).all()
        assert [tuple(row) for row in logged] == [
            (action, f"media:{media_id}", staff["editor"])
            for action in ("media.upload", "media.update", "media.delete")]


def test_citizens_and_anonymous_visitors_get_no_staff_page(app, staff):
    with app.test_request_context():
        media = services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps()),
                                **TEXTS)
        media_id = media.id
    citizen = app.test_client()
    sign_in(citizen, "citizen@example.org")
    for path in ("/manage/media", "/manage/media/new", f"/manage/media/{media_id}",
                 f"/manage/media/{media_id}/delete"):
        assert citizen.get(path).status_code == 403, path
        assert app.test_client().get(path).status_code in (302, 401), path


def test_files_are_served_with_their_type_and_a_long_cache(app, staff):
    with app.test_request_context():
        media = services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps()),
                                **TEXTS)
        webp, jpeg = media.filename(480, "webp"), media.filename(1200, "jpg")
    client = app.test_client()
    answer = client.get(f"/media/{webp}")
    assert answer.status_code == 200 and answer.mimetype == "image/webp"
    assert "immutable" in answer.headers["Cache-Control"]
    assert "max-age=31536000" in answer.headers["Cache-Control"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    answer.close()
    # signed in, the same public picture is still cacheable (pages are never stored)
    signed_in = app.test_client()
    sign_in(signed_in, "citizen@example.org")
    answer = signed_in.get(f"/media/{webp}")
    assert "immutable" in answer.headers["Cache-Control"], answer.headers["Cache-Control"]
    answer.close()
    assert signed_in.get("/account").headers["Cache-Control"] == "no-store"
    answer = client.get(f"/media/{jpeg}")
    assert answer.mimetype == "image/jpeg" and answer.data[:2] == b"\xff\xd8"
    answer.close()
    stem = webp.split("-")[0]
    for bad in (f"{stem}-480.png", f"{stem}-480.WEBP", f"{stem}-9.webp", f"{stem}-99999.webp",
                f"{stem.upper()}-480.webp", f"{stem}-480.webp.jpg", "short-480.webp",
                f"{stem}-640.webp", "..%2Fsecret_key", f"{stem}_480.webp"):
        assert client.get(f"/media/{bad}").status_code == 404, bad


def test_a_picture_in_use_cannot_be_deleted_and_an_event_shows_its_cover(app, staff):
    with app.test_request_context():
        organizer = _user(app, staff["organizer"])
        media = services.upload(organizer, _file(_jpeg_with_gps()), **TEXTS)
        media_id = media.id
        now = utcnow()
        with writing():
            event = Event(title_zh="植树", title_en="Tree planting", place="南湖",
                          district="nanhu", capacity=10, status=PUBLISHED,
                          starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3,
                                                                                   hours=2),
                          signup_deadline=now + timedelta(days=2), organizer_id=organizer.id,
                          cover_id=media_id)
            db.session.add(event)
        event_id = event.id
        assert services.uses(media_id) and services.uses(media_id)[0][1] == 1
        with pytest.raises(RuleError) as err:
            services.delete(organizer, media_id)
        assert err.value.code == "in_use"
    page = app.test_client().get(f"/events/{event_id}?lang=en").get_data(as_text=True)
    assert "<picture>" in page and 'type="image/webp"' in page
    assert 'alt="Volunteers by South Lake"' in page and 'decoding="async"' in page
    client = app.test_client()
    sign_in(client, "organizer@example.org")
    confirm = client.get(f"/manage/media/{media_id}/delete?lang=en").get_data(as_text=True)
    assert "cannot be deleted" in confirm


def test_organizers_choose_a_cover_in_the_event_form(app, staff):
    with app.test_request_context():
        media = services.upload(_user(app, staff["organizer"]), _file(_jpeg_with_gps()),
                                **TEXTS)
        media_id = media.id
    client = app.test_client()
    sign_in(client, "organizer@example.org")
    form = client.get("/events/new?lang=en").get_data(as_text=True)
    assert f'name="cover" value="{media_id}"' in form and 'name="cover" value=""' in form
    start = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    data = {"csrf_token": csrf_token(client, "/events/new"), "title_zh": "植树",
            "starts_at": start, "ends_at": start.replace("T09:00", "T11:00"), "place": "湘家荡",
            "district": "nanhu", "capacity": "30", "publish": "1"}
    refused = client.post("/events/new?lang=en", data=dict(data, cover="999999"))
    assert refused.status_code == 400
    assert "Choose one of the pictures shown" in refused.get_data(as_text=True)
    assert client.post("/events/new", data=dict(data, cover=str(media_id))).status_code == 302
    with app.app_context():
        event = db.session.scalars(sa.select(Event)).one()
        assert event.cover_id == media_id
        event_id = event.id
    edit = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert f'value="{media_id}" checked' in edit
    assert "<picture>" in app.test_client().get(f"/events/{event_id}").get_data(as_text=True)
    # Removing it.
    data["csrf_token"] = csrf_token(client, f"/events/{event_id}/edit")
    assert client.post(f"/events/{event_id}/edit", data=dict(data, cover="")).status_code == 302
    with app.app_context():
        assert db.session.get(Event, event_id).cover_id is None


def test_people_without_the_library_get_no_cover_field(app, staff):
    make_user(app, email="school@example.org", role="school")
    client = app.test_client()
    sign_in(client, "school@example.org")
    answer = client.get("/events/new")
    assert answer.status_code in (200, 403)
    assert 'name="cover"' not in answer.get_data(as_text=True)
