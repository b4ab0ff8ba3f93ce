"""Outgoing mail: SMTP when ``MAIL_SMTP_HOST`` is set, else ``.eml`` files in instance/outbox/.

Mail is derived: a failure to send is logged (without the address) and reported as False,
never raised into the request that saved something.
"""

from __future__ import annotations

import os
import secrets
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
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


def build_message(to: str, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="green-portal")
    msg.set_content(body)
    for att in attachments:
        msg.add_attachment(att.content, maintype=att.maintype, subtype=att.subtype,
                           filename=att.filename)
    return msg


def _deliver(msg: EmailMessage) -> None:
    cfg = current_app.config
    if cfg.get("MAIL_SMTP_HOST"):
        with smtplib.SMTP(cfg["MAIL_SMTP_HOST"], cfg["MAIL_SMTP_PORT"], timeout=20) as smtp:
            if cfg.get("MAIL_SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("MAIL_SMTP_USER"):
                smtp.login(cfg["MAIL_SMTP_USER"], cfg["MAIL_SMTP_PASSWORD"] or "")
            smtp.send_message(msg)
        return
    folder = outbox_dir()
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{secrets.token_hex(6)}.eml"
    tmp = os.path.join(folder, "." + name)
    with open(tmp, "wb") as fh:
        fh.write(msg.as_bytes())
    os.replace(tmp, os.path.join(folder, name))


def send(to: str, subject: str, body: str, attachments: tuple[Attachment, ...] = ()) -> bool:
    try:
        _deliver(build_message(to, subject, body, attachments))
    except Exception:  # a derived thing: never fail the caller's saved work
        current_app.logger.exception("mail could not be sent (subject %r)", subject)
        return False
    return True


def send_template(to: str, locale: str | None, subject, template: str,
                  attachments: tuple[Attachment, ...] = (), **context) -> bool:
    """Render ``template`` and the (lazy) ``subject`` in the recipient's language and send."""
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject_text = str(subject)
        body = render_template(template, **context)
    return send(to, subject_text, body, attachments)


def erase_outbox_for(address: str) -> int:
    """Delete file-outbox messages addressed to ``address`` (used when an account is deleted)."""
    from email import policy
    from email.parser import BytesHeaderParser

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
