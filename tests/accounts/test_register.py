from portal.accounts.models import User
from tests.conftest import PASSWORD, csrf_token, make_user, outbox, run_jobs, sign_in


def _form(client, **fields):
    data = {"email": "wang@example.org", "display_name": "王小明", "password": PASSWORD,
            "consent": "y", "csrf_token": csrf_token(client, "/register")}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def _users(app):
    from portal.extensions import db

    with app.app_context():
        return db.session.query(User).all()


def test_consent_box_is_never_pre_ticked(client):
    html = client.get("/register").get_data(as_text=True)
    consent = html[html.index('id="consent"') - 200: html.index('id="consent"') + 200]
    assert 'type="checkbox"' in consent and "checked" not in consent
    assert 'href="/privacy"' in html


def test_register_records_consent_with_the_notice_version_and_mails_a_link(app, client):
    response = client.post("/register", data=_form(client))
    assert response.status_code == 302 and response.location.endswith("/register/sent")
    assert _users(app) == []  # the job makes the account
    run_jobs(app)
    [user] = _users(app)
    assert user.email == "wang@example.org" and user.display_name == "王小明"
    assert user.role == "citizen"
    assert user.privacy_version == "2026-11-28"
    assert user.privacy_consented_at is not None
    assert user.password_hash.startswith("$argon2id$")
    assert user.email_verified_at is None
    [mail] = outbox(app)
    assert mail["To"] == "wang@example.org" and "/verify/" in mail.get_body().get_content()
    # Not signed in by registering; signing in works (an unverified account can sign in).
    assert client.get("/account").status_code == 302
    sign_in(client, "wang@example.org")
    assert "wang@example.org" in client.get("/account").get_data(as_text=True)


def test_register_without_consent_is_refused_and_keeps_what_was_typed(app, client):
    response = client.post("/register", data=_form(client, consent=None))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "注册前请阅读并同意隐私声明。" in html
    assert 'value="wang@example.org"' in html and 'value="王小明"' in html
    assert _users(app) == []


def test_password_rules_in_both_languages(app, client):
    cases = [("short-pass1", "至少使用 12 个字符。", "Use at least 12 characters."),
             ("x" * 120 + "Abcdefghi", "最多使用 128 个字符。", "Use at most 128 characters."),
             ("password1234", "这个密码太常见了", "This password is too common."),
             ("aaaaaaaaaaaaaaaa", "这个密码太常见了", "This password is too common."),
             ("wang@example.org-2026", "密码不能包含你的电子邮箱。",
              "The password must not contain your e-mail address.")]
    for password, zh, en in cases:
        html = client.post("/register", data=_form(client, password=password)).get_data(
            as_text=True)
        assert zh in html, password
        html = client.post("/register?lang=en", data=_form(client, password=password)).get_data(
            as_text=True)
        assert en in html, password
        client.get("/?lang=zh")
    assert _users(app) == []


def test_exactly_twelve_and_128_characters_are_accepted(app):
    from portal.accounts import services

    with app.app_context():
        assert services.password_problem("pine-lake-41") is None
        assert services.password_problem("q" + "w3e4r5t6y7" * 12 + "ABCDEfg") is None
        assert services.password_problem("q" * 129) is not None


def test_an_address_with_an_account_in_any_case_gets_no_second_one(app, client):
    make_user(app, email="wang@example.org", name="老王")
    response = client.post("/register", data=_form(client, email="WANG@Example.org "))
    assert response.status_code == 302  # the same answer as for a new address
    run_jobs(app)
    assert len(_users(app)) == 1 and _users(app)[0].display_name == "老王"
    [mail] = outbox(app)
    assert mail["To"] == "wang@example.org" and "/verify/" not in mail.get_body().get_content()


def test_invalid_email_and_missing_fields_get_field_errors(client):
    response = client.post("/register?lang=en", data=_form(client, email="not-an-email",
                                                           display_name=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please enter a valid e-mail address." in html
    assert "Please enter a display name." in html
    assert 'aria-invalid="true"' in html
