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


def in_chunks(pieces: Iterable[str], size: int = 32_768):
    """Small pieces of a streamed download joined into chunks of about ``size`` characters
    (the first piece at once, so the first byte does not wait): one write to the client per
    chunk instead of one per row."""
    pending, length = [], 0
    for i, piece in enumerate(pieces):
        pending.append(piece)
        length += len(piece)
        if i == 0 or length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def response(name: str, header: list[str], rows: Iterable) -> Response:
    """A CSV download streamed as it is written (``rows`` may be a generator reading the
    database: it runs inside the request's context, in constant memory)."""
    return Response(stream_with_context(in_chunks(lines(header, rows))), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
