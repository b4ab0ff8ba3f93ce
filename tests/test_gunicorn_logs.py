"""gunicorn.conf.py: access and error logs never hold a secret token (issue 12, item 7)."""

import logging
import runpy
from pathlib import Path

from gunicorn.config import Config

CONF = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
SECRET = "s3cr3t-Token_value"


def test_the_filter_redacts_every_secret_path_and_keeps_the_rest():
    redact = CONF["redact"]
    assert redact(f"GET /calendar/{SECRET}.ics HTTP/1.1") == \
        "GET /calendar/[redacted].ics HTTP/1.1"
    assert redact(f"POST /password/reset/{SECRET} HTTP/1.1") == \
        "POST /password/reset/[redacted] HTTP/1.1"
    assert redact(f"GET /schools/invites/{SECRET}?x=1 HTTP/1.1") == \
        "GET /schools/invites/[redacted]?x=1 HTTP/1.1"
    for harmless in ("GET /calendar.ics HTTP/1.1", "GET /events/12.ics HTTP/1.1",
                     "GET /schools/nanhu/feed.atom HTTP/1.1", "POST /password/forgot HTTP/1.1"):
        assert redact(harmless) == harmless


def test_gunicorn_uses_the_redacting_logger_for_access_and_error_logs(tmp_path):
    cfg = Config()
    cfg.set("logger_class", CONF["logger_class"])
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    log = cfg.logger_class(cfg)
    atoms = {"h": "127.0.0.1", "l": "-", "u": "-", "t": "[01/Dec/2026:10:00:00 +0000]",
             "r": f"GET /calendar/{SECRET}.ics HTTP/1.1", "s": "200", "b": "512",
             "f": f"https://green.example/schools/invites/{SECRET}", "a": "curl"}
    log.access_log.info(cfg.access_log_format, atoms)
    log.error_log.error("Error handling request %s", f"/password/reset/{SECRET}")
    for handler in logging.getLogger("gunicorn.access").handlers + \
            logging.getLogger("gunicorn.error").handlers:
        handler.flush()
    written = (tmp_path / "access.log").read_text() + (tmp_path / "error.log").read_text()
    assert SECRET not in written
    assert "/calendar/[redacted].ics" in written and "/schools/invites/[redacted]" in written
    assert "/password/reset/[redacted]" in written
    for logger in (log.access_log, log.error_log):  # leave the global loggers as found
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.filters.clear()
