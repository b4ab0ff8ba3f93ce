"""CSV downloads: UTF-8 with a BOM (so spreadsheet programs read Chinese right), and cells that
spreadsheets would run as formulas are neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context


def cell(value) -> str:
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _number(text)):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def lines(header: list[str], rows: Iterable):
    """The CSV text, one line at a time: the BOM and the header first."""
    out = io.StringIO()
    writer = csv.writer(out)

    def take() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(header)
    yield "\ufeff" + take()
    for row in rows:
        writer.writerow([cell(c) for c in row])
        yield take()


def response(name: str, header: list[str], rows: Iterable) -> Response:
    """A CSV download streamed as it is written (``rows`` may be a generator reading the
    database: it runs inside the request's context, in constant memory)."""
    return Response(stream_with_context(lines(header, rows)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"'})
