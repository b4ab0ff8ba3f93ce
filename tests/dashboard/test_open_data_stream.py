"""Open datasets stream (issue 13): the answer is written a row at a time from the database, and
the monthly figures are grouped in SQL by the site's calendar month (北京时间), on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from portal.accounts.models import User
from portal.db import writing
from portal.extensions import db
from portal.households.models import Household, MonthlyReport
from tests.conftest import run_jobs


def _households(app) -> None:
    """Two households either side of midnight, Beijing time, on 1 December 2026."""
    late_nov = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 in Beijing: November
    early_dec = datetime(2026, 11, 30, 16, 1, tzinfo=UTC)  # 00:01 on 1 December in Beijing
    with app.app_context(), writing():
        for i, when in enumerate((late_nov, early_dec)):
            user = User(email=f"m{i}@example.org", display_name="m", password_hash="x",
                        role="citizen", privacy_version="1", privacy_consented_at=when,
                        created_at=when)
            db.session.add(user)
            db.session.flush()
            home = Household(owner_id=user.id, name="家", district="nanhu",
                             invite_code=f"M{i:09d}", created_at=when)
            db.session.add(home)
            db.session.flush()
            db.session.add(MonthlyReport(household_id=home.id, month="2026-11",
                                         kept=["a", "b", "c"][: i + 1], updated_at=when))


def test_the_monthly_dataset_streams_grouped_by_beijing_month(app):
    _households(app)
    run_jobs(app)  # the monthly figures are summary rows, made by a job
    client = app.test_client()
    response = client.get("/open-data/district-monthly.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    got = {(r["month"], r["district"]): r for r in rows}
    assert got[("2026-11", "nanhu")]["households_registered"] == "1"
    assert got[("2026-12", "nanhu")]["households_registered"] == "1"
    assert got[("2026-11", "nanhu")]["pledges_kept"] == "3"  # 1 + 2 kept in November

    streamed = client.get("/open-data/district-monthly.json")
    assert streamed.is_streamed
    document = json.loads(streamed.get_data(as_text=True))
    assert document["dataset"] == "district-monthly"
    assert document["fields"][0] == "month" and len(document["rows"]) == len(rows)


def test_every_dataset_is_a_stream_that_parses(app):
    _households(app)
    client = app.test_client()
    for name in ("events", "observances", "green-families", "schools", "district-monthly"):
        for fmt in ("csv", "json"):
            response = client.get(f"/open-data/{name}.{fmt}")
            assert response.status_code == 200 and response.is_streamed, (name, fmt)
            if fmt == "json":
                assert isinstance(json.loads(response.get_data(as_text=True))["rows"], list)
            else:
                assert response.get_data(as_text=True).startswith("\ufeff")


def test_a_streamed_download_goes_out_in_chunks_the_first_piece_at_once():
    from portal.csvexport import in_chunks

    pieces = ["header\n"] + [f"row {i}\n" for i in range(10_000)]
    chunks = list(in_chunks(iter(pieces), size=1000))
    assert chunks[0] == "header\n"  # the first byte does not wait for a chunk to fill
    assert "".join(chunks) == "".join(pieces)
    assert all(len(c) >= 1000 for c in chunks[1:-1]) and len(chunks) < len(pieces) / 50
    assert list(in_chunks(iter([]))) == []
