"""Outgoing mail: SMTP when ``MAIL_SMTP_HOST`` is set, else ``.eml`` files in instance/outbox/.

Only the job worker sends mail: features enqueue a job in the transaction that causes the mail
and its handler calls ``send_template`` here.  Sending raises when the message could not be
handed over, so that the job fails and is tried again later; nothing is lost.  Inside
``connection()`` (one worker batch) every message goes through one SMTP connection.

The standard library's ``smtplib`` and ``email`` do the work: the worker needs a connection
it controls per batch, not a Flask extension's per-message one (see docs/DESIGN.md).
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

from portal.i18n import force_locale


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


def outbox_dir() -> str:
    return os.path.join(current_app.instance_path, "outbox")


_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def header_value(value: str) -> str:
    """A header value on one line: line breaks (e.g. in an event title) become spaces."""
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def build_message(to: str, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = header_value(current_app.config["MAIL_SENDER"])
    msg["To"] = header_value(to)
    msg["Subject"] = header_value(subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="green-portal")
    msg.set_content(body)
    for att in attachments:
        # Text parts say their charset, or readers guess (and garble Chinese).
        params = {"charset": "utf-8"} if att.maintype == "text" else None
        msg.add_attachment(att.content, maintype=att.maintype, subtype=att.subtype,
                           filename=header_value(att.filename), params=params)
    return msg


# -- delivery ----------------------------------------------------------------------------------

class _Connection:
    """An SMTP connection opened on first use and kept for the batch."""

    def __init__(self):
        self.smtp: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage) -> None:
        cfg = current_app.config
        if self.smtp is None:
            smtp = smtplib.SMTP(cfg["MAIL_SMTP_HOST"], cfg["MAIL_SMTP_PORT"],
                                timeout=cfg["MAIL_SMTP_TIMEOUT"])
            try:
                if cfg.get("MAIL_SMTP_STARTTLS"):
                    smtp.starttls()
                if cfg.get("MAIL_SMTP_USER"):
                    smtp.login(cfg["MAIL_SMTP_USER"], cfg["MAIL_SMTP_PASSWORD"] or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        try:
            self.smtp.send_message(msg)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError):
            self.close()  # the next message starts a fresh connection
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


_local = threading.local()


@contextmanager
def connection():
    """Messages sent inside share one SMTP connection (opened only if one is sent)."""
    if getattr(_local, "conn", None) is not None:
        yield
        return
    _local.conn = _Connection()
    try:
        yield
    finally:
        conn, _local.conn = _local.conn, None
        conn.close()


def _write_outbox(msg: EmailMessage) -> None:
    folder = outbox_dir()
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{secrets.token_hex(6)}.eml"
    tmp = os.path.join(folder, "." + name)
    with open(tmp, "wb") as fh:
        fh.write(msg.as_bytes())
    os.replace(tmp, os.path.join(folder, name))


def deliver(msg: EmailMessage) -> None:
    """Hand the message over (SMTP or the file outbox); raises if that failed."""
    if not current_app.config.get("MAIL_SMTP_HOST"):
        _write_outbox(msg)
        return
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.send(msg)
        return
    single = _Connection()
    try:
        single.send(msg)
    finally:
        single.close()


def send(to: str, subject: str, body: str, attachments: tuple[Attachment, ...] = ()) -> None:
    deliver(build_message(to, subject, body, attachments))


def send_template(to: str, locale: str | None, subject, template: str,
                  attachments: tuple[Attachment, ...] = (), **context) -> None:
    """Render ``template`` and the (lazy) ``subject`` in the recipient's language and send."""
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject_text = str(subject)
        body = render_template(template, **context)
    send(to, subject_text, body, attachments)


def erase_outbox_for(address: str) -> int:
    """Delete file-outbox messages addressed to ``address`` (used when an account is deleted)."""
    folder = outbox_dir()
    if not os.path.isdir(folder):
        return 0
    removed = 0
    parser = BytesHeaderParser(policy=policy.default)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as fh:
                headers = parser.parse(fh)
        except OSError:
            continue
        if str(headers.get("To", "")).strip().lower() == address.lower():
            os.unlink(path)
            removed += 1
    return removed
