"""Issue 12: "My data" names every section and field in the reader's language: every key of
the export has a translated label (none is shown as a raw key such as ``waiting_jobs``)."""

from flask_babel import force_locale

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.accounts.views import DATA_LABELS, data_label
from portal.extensions import db
from tests.conftest import sign_in
from tests.security.test_personal_data import EMAIL, person  # noqa: F401  (the fixture)


def _keys(value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def test_every_key_of_the_export_has_a_label(library, person):  # noqa: F811
    with library.app_context():
        keys = _keys(accounts.export_data(db.session.get(User, person)), set())
    assert "waiting_jobs" in keys and "email_verification_links" in keys
    assert sorted(keys - set(DATA_LABELS)) == []


def test_the_labels_are_translatable_and_shown_on_the_page(library, person):  # noqa: F811
    # Every label goes through gettext (test_translations checks each has its Chinese).
    assert all(type(label).__name__ == "LazyString" for label in DATA_LABELS.values())
    with library.test_request_context():
        with force_locale("en"):
            en = {key: data_label(key) for key in DATA_LABELS}
    assert en["email_verification_links"] == "E-mail verification links"
    assert en["waiting_jobs"] == "Waiting jobs" and en["calendar_feed"] == "Calendar feed"
    client = library.test_client()
    sign_in(client, EMAIL)
    html = client.get("/account/data?lang=en").get_data(as_text=True)
    for raw in ("waiting_jobs", "email_verification_links", "reports_made", "calendar_feed",
                "password_reset_links", "sign_in_failures", "hours_corrections",
                "applications", "history", "invitations", "posts_authored"):
        assert f">{raw}<" not in html, raw
    for label in ("Waiting jobs", "Reports made", "Posts written", "Invitations",
                  "Password reset links", "Failed sign-ins", "Hours corrections"):
        assert f">{label}<" in html, label
