"""The app factory, configuration and the database settings."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.config import ROOT
from tests.conftest import PG_URL


def test_secret_key_is_created_once_in_the_instance_folder(tmp_path):
    instance = tmp_path / "inst"
    first = create_app({"INSTANCE_PATH": str(instance)})
    second = create_app({"INSTANCE_PATH": str(instance)})
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) >= 64


def test_no_secret_key_is_tracked_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert not [p for p in tracked if "secret" in p.lower() or p.startswith("instance/")]


def test_configuration_layers(tmp_path, monkeypatch):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text(
        "SESSION_LIFETIME_NOTE = 'from file'\nMAIL_SMTP_PORT = 25\n")
    monkeypatch.setenv("PORTAL_MAIL_SMTP_PORT", "2525")
    monkeypatch.setenv("PORTAL_HTTPS", "1")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    app = create_app()
    assert app.instance_path == str(instance)
    assert app.config["SESSION_LIFETIME_NOTE"] == "from file"  # instance/config.py
    assert app.config["MAIL_SMTP_PORT"] == 2525  # environment beats the file
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(instance / "portal.sqlite3")


def test_database_url_and_content_dir_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/x")
    monkeypatch.setenv("PORTAL_CONTENT_DIR", str(ROOT / "content"))
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1:1/x"
    assert app.config["CONTENT_DIR"] == str(ROOT / "content")


def test_creating_the_app_opens_no_database_connection(tmp_path):
    connections = []

    def on_connect(*_args):
        connections.append(1)

    sa.event.listen(sa.pool.Pool, "connect", on_connect)
    try:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    finally:
        sa.event.remove(sa.pool.Pool, "connect", on_connect)
    assert connections == []


def test_gunicorn_entry_point_imports_without_touching_the_database(tmp_path):
    # The module gunicorn loads (before it forks, with --preload) must not connect.
    code = ("import sqlalchemy as sa; seen=[]; "
            "sa.event.listen(sa.pool.Pool, 'connect', lambda *a: seen.append(1)); "
            "import wsgi; assert wsgi.app.name == 'portal'; assert not seen, seen; print('ok')")
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(tmp_path)}
    env.pop("PORTAL_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.skipif(bool(PG_URL), reason="SQLite settings")
def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(ctx):
    from portal.extensions import db

    conn = db.session.connection()
    assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_migrations_match_the_models(ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from portal.extensions import db

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_datetimes_come_back_aware_in_utc(ctx):
    from datetime import UTC, datetime, timedelta, timezone

    from portal.accounts.models import User
    from portal.extensions import db
    from tests.conftest import make_user

    uid = make_user(ctx)
    shanghai = timezone(timedelta(hours=8))
    user = db.session.get(User, uid)
    user.created_at = datetime(2026, 6, 5, 9, 30, tzinfo=shanghai)
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(User, uid).created_at
    assert again.tzinfo is not None
    assert again == datetime(2026, 6, 5, 1, 30, tzinfo=UTC)
    with pytest.raises(sa.exc.StatementError):
        user.created_at = datetime(2026, 6, 5, 9, 30)  # naive: refused
        db.session.commit()
    db.session.rollback()
