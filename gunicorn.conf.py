"""gunicorn settings for the portal: access and error logs never hold a secret token.

gunicorn reads this file by itself when started in this folder (or pass ``-c
gunicorn.conf.py``). Four addresses carry a secret in their path: a personal calendar feed
(``/calendar/<token>.ics``), a password-reset link (``/password/reset/<token>``), a school
editor invitation (``/schools/invites/<token>``) and an e-mail verification link
(``/verify/<token>``). Every log line — request line, path,
``Referer``, an error naming the request — has those segments replaced by ``[redacted]``.
The database keeps only hashes of these tokens; this keeps them out of the logs too.
"""

import logging
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
SECRET_PATHS = (
    re.compile(r"(/calendar/)[^/?#\s\"]+?(\.ics)"),
    re.compile(r"(/password/reset/)[^/?#\s\"]+()"),
    re.compile(r"(/schools/invites/)[^/?#\s\"]+()"),
    re.compile(r"(/verify/)[^/?#\s\"]+()"),
)


def redact(text: str) -> str:
    for pattern in SECRET_PATHS:
        text = pattern.sub(rf"\g<1>{REDACTED}\g<2>", text)
    return text


class RedactSecrets(logging.Filter):
    """Format the record, then replace the secret path segments in the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactSecrets) for f in log.filters):
                log.addFilter(RedactSecrets())


logger_class = RedactingLogger
