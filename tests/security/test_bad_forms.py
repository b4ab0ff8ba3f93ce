"""Bad input on HTML pages is a 4xx or a form error, never a 500 (issue 12, item 8): a missing
school's green status, ``sNaN`` and friends as hours, lone surrogates in form fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import csrf_token, make_user, sign_in


@pytest.fixture
def production(app):
    app.testing = False  # answer like production instead of raising
    return app


def test_green_status_of_a_missing_school_is_404(production):
    make_user(production, email="staff@example.org", role="organizer")
    staff = production.test_client()
    sign_in(staff, "staff@example.org")
    token = csrf_token(staff, "/manage/schools")
    for data in ({"level": "provincial", "year": "2024"}, {"level": "", "year": ""}):
        response = staff.post("/manage/schools/999999/green", data={"csrf_token": token, **data})
        assert response.status_code == 404, data


def test_the_service_says_not_found_too(ctx):
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.rules import RuleError
    from portal.schools import services

    staff = db.session.get(User, make_user(ctx, email="staff@example.org", role="organizer"))
    with pytest.raises(RuleError) as refused:
        services.set_green_status(999999, "", None, staff)
    assert refused.value.status == 404 and refused.value.code == "not_found"


@pytest.mark.parametrize("hours", ["sNaN", "NaN", "-NaN", "nan", "Infinity", "-Infinity",
                                   "1e999", "-1e999", "sNaN123"])
def test_hours_that_are_not_numbers_are_a_form_error(production, hours):
    from portal.accounts.models import User
    from portal.events import services
    from portal.events.models import Signup
    from portal.extensions import db
    from tests.events.conftest import make_event

    organizer = make_user(production, email="org@example.org", role="organizer")
    event = make_event(production, organizer)
    volunteer = make_user(production, email="v@example.org")
    with production.app_context():
        signup = services.sign_up(db.session.get(User, volunteer), event).signup.id
    staff = production.test_client()
    sign_in(staff, "org@example.org")
    page = f"/events/{event}/attendance"
    response = staff.post(f"{page}/{signup}/hours?lang=en", data={
        "csrf_token": csrf_token(staff, page), "hours": hours, "reason": "测试"})
    assert response.status_code == 302, response.status_code
    html = staff.get(page + "?lang=en").get_data(as_text=True)
    assert "Hours must be between 0 and 24." in html
    with production.app_context():
        signup_row = db.session.get(Signup, signup)
        assert signup_row.corrections == [] and signup_row.hours in (None, Decimal("0"))


# -- lone surrogates in forms ---------------------------------------------------------------
# Rule: *replace*, and it is Werkzeug's.  A form field is bytes on the wire; Werkzeug decodes
# it as UTF-8 and a lone surrogate is not valid UTF-8: a multipart field gets U+FFFD for each
# bad byte, a URL-encoded one keeps an undecodable escape as typed (``%ED%A0%80``) and drops a
# pair whose raw bytes do not decode.  So no lone surrogate reaches a form, whatever the
# database, and nothing is refused that a person could fix.  (JSON is different: ``\ud800`` is
# valid JSON syntax that decodes to one, so the API refuses it — portal.strictjson.)

SURROGATE_BODIES = [
    pytest.param("urlencoded", b"%ED%A0%80", id="percent-escaped UTF-8 of U+D800"),
    pytest.param("urlencoded", b"\xed\xa0\x80", id="raw bytes of U+D800, URL-encoded form"),
    pytest.param("urlencoded", b"%ud800", id="%u escape"),
    pytest.param("multipart", b"\xed\xa0\x80", id="raw bytes of U+D800, multipart form"),
    pytest.param("multipart", b"\xed\xb3\xbf\xf0\x9f", id="low surrogate and a cut emoji"),
]


def _no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.mark.parametrize(("kind", "name"), SURROGATE_BODIES)
def test_a_lone_surrogate_in_a_form_field_never_reaches_the_database(production, kind, name):
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.extensions import db

    client = production.test_client()
    token = csrf_token(client, "/register").encode()
    fields = {b"csrf_token": token, b"email": b"wang@example.org",
              b"display_name": b"Wang" + name, b"password": b"correct horse battery staple",
              b"consent": b"y"}
    if kind == "urlencoded":
        body = b"&".join(k + b"=" + (v if k == b"display_name" else v.replace(b" ", b"+"))
                         for k, v in fields.items())
        content_type = "application/x-www-form-urlencoded"
    else:
        body = b"".join(b"--X\r\nContent-Disposition: form-data; name=\"" + k + b"\"\r\n\r\n"
                        + v + b"\r\n" for k, v in fields.items()) + b"--X--\r\n"
        content_type = "multipart/form-data; boundary=X"
    response = client.post("/register", data=body, content_type=content_type)
    assert response.status_code < 500
    with production.app_context():
        names = db.session.scalars(sa.select(User.display_name)).all()
    assert all(_no_surrogates(n) for n in names), [ascii(n) for n in names]
