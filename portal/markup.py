"""The one door from Markdown to safe HTML.

Everything that becomes HTML from Markdown, whether a trusted file in ``content/`` or text a
user typed, goes through ``render``: Markdown first, then an allow-list sanitiser (nh3), so
that a mistake in a content file cannot open a hole either.

Markdown is rendered once, when it is saved, and the sanitised HTML is stored beside the text
with the renderer's ``VERSION``; pages, feeds, the API and the search index read the stored
HTML and never render.  Text people type is rendered by ``try_render`` in a process of its
own that is killed after ``MARKDOWN_BUDGET`` seconds: Python-Markdown is quadratic or
recursive on some inputs (``"[" * 20000`` takes a minute, deep emphasis raises
``RecursionError``), and such text is refused with a message instead of being saved.  Trusted
files (``content/``) are rendered in-process with ``render``/``render_with_toc`` when they
are loaded.  ``portal.stored_html`` re-renders stored rows when ``VERSION`` changes.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata

import markdown
import nh3
from markupsafe import Markup, escape

# This module imports nothing of the portal (nor Flask): the render process runs it alone.

#: The renderer's version, stored with every rendered text.  Raise it whenever what ``render``
#: makes of a text changes (extensions, their settings, the allow-list, the sanitiser): the
#: ``markup.rerender`` job (queued by ``flask setup``) then renders every stored text again.
VERSION = 1

#: Length caps of text people type (forms, API and services): titles, and Markdown texts
#: (event descriptions, school posts).  The messages below name these numbers.
TITLE_MAX = 200
TEXT_MAX = 20_000

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Controls, format characters (zero-width, bidi, soft hyphen) and spaces, anywhere in a URL.
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def slugify(value: str, separator: str = "-") -> str:
    """Anchor ids that keep Chinese characters: '节约 用水！' → '节约-用水'."""
    value = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", value)).strip().lower()
    value = re.sub(r"[^\w\s-]", "", value)
    return re.sub(r"[\s_-]+", separator, value).strip(separator) or "section"


# No attr_list: user text must not choose ids or classes (DOM clobbering).
EXTENSIONS = ("tables", "fenced_code", "sane_lists", "toc")


def _converter() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=list(EXTENSIONS),
        extension_configs={"toc": {"slugify": slugify, "toc_depth": "2-3"}},
        output_format="html",
    )


def _drop_disguised_urls(element: str, attribute: str, value: str) -> str | None:
    """Drop an href/src whose scheme is not allowed once invisible characters are removed.

    nh3 takes 'java<soft hyphen>script:' or 'java&#x200b;script:' (entities are decoded after
    the ``_ZERO_WIDTH`` pre-strip) for relative URLs and keeps them; we refuse them outright.
    """
    if attribute in ("href", "src"):
        bare = "".join(c for c in value if unicodedata.category(c) not in _INVISIBLE)
        scheme = _SCHEME.match(bare)
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            return None
    return value


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_drop_disguised_urls,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render(text: str) -> Markup:
    """Markdown → sanitised HTML, safe to put in a template."""
    return Markup(sanitise(_converter().convert(_ZERO_WIDTH.sub("", text or ""))))  # noqa: S704


def render_inline(text: str) -> Markup:
    """Like ``render`` for a phrase (a table cell, a caption): without the paragraph around
    it when the text is one paragraph."""
    html = sanitise(_converter().convert(_ZERO_WIDTH.sub("", text or "")))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)  # noqa: S704


def render_with_toc(text: str) -> tuple[Markup, list[dict]]:
    """Like ``render``, also returning the table of contents as ``[{id, name, level}]``."""
    md = _converter()
    html = md.convert(_ZERO_WIDTH.sub("", text or ""))
    toc: list[dict] = []

    def walk(tokens):
        for tok in tokens:
            toc.append({"id": tok["id"], "name": tok["name"], "level": tok["level"]})
            walk(tok.get("children", []))

    walk(md.toc_tokens)
    return Markup(sanitise(html)), toc  # noqa: S704


# -- text people type: rendered within a budget, in a process of its own ----------------------
#
# A small render server, started by a process's first such render, runs this file alone (no
# Flask, none of the portal: ~20 MB) and forks one child per text.  A render costs a fork
# (a few ms), not an interpreter start, and the child cannot take the caller down with it: a
# RecursionError, a crash in the sanitiser, a runaway render are all a child that did not
# answer within the budget, and is killed.  The child also limits its own CPU time
# (RLIMIT_CPU), so it stops even if nobody is left to kill it.  The server ends when the
# process that started it does (its stdin closes).
#
# Not multiprocessing's "forkserver": on Python 3.11 its children re-run the main script
# (the fork server is never given it), which costs seconds per render when that script imports
# the portal, and preloading the portal there instead costs ~100 MB per process.

_SERVER_RUN_NAME = "__portal_markup_server__"
_HEADER = struct.Struct("!I")
STARTUP_SECONDS = 30.0  # for the server to start and fork (not counted in the budget)
log = logging.getLogger(__name__)


def _send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode()
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, size: int, deadline: float) -> bytes:
    chunks = []
    while size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket, deadline: float) -> dict:
    (size,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size, deadline))
    return json.loads(_recv_exactly(sock, size, deadline))


def _render_for(conn: socket.socket) -> None:
    """In a child of the render server: say who we are, take one text, answer."""
    _send(conn, {"pid": os.getpid()})
    request = _recv(conn, time.monotonic() + STARTUP_SECONDS)
    resource.setrlimit(resource.RLIMIT_CPU, (request["cpu"], request["cpu"] + 1))
    try:
        answer = {"html": str(render(request["text"]))}
    except BaseException as err:  # noqa: BLE001 (RecursionError, MemoryError, …: all refusals)
        answer = {"error": f"{type(err).__name__}: {err}"[:200]}
    _send(conn, answer)


def _serve(listener_fd: int) -> None:
    """The render server's loop: one child per connection, until stdin closes."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the process that started us
    render("*a* [b](https://example.org)\n\n## c\n\n| d |\n|---|\n| e |\n\n```\nf\n```")
    listener = socket.socket(fileno=listener_fd)
    path = listener.getsockname()
    try:
        while True:
            ready = select.select([listener, sys.stdin.fileno()], [], [])[0]
            if sys.stdin.fileno() in ready and not os.read(sys.stdin.fileno(), 4096):
                return  # the process that started us is gone
            if listener in ready:
                conn, _address = listener.accept()
                if os.fork() == 0:
                    try:
                        listener.close()
                        _render_for(conn)
                    finally:
                        os._exit(0)
                conn.close()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
            os.rmdir(os.path.dirname(path))


class _Server:
    """This process's render server: started on first use, and again after a fork or when it
    has died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = 0
        self._address = ""

    def address(self, restart: bool = False) -> str:
        with self._lock:
            if restart or self._owner != os.getpid() or self._process is None \
                    or self._process.poll() is not None:
                self._start()
            return self._address

    def _start(self) -> None:
        if self._owner == os.getpid():
            self.stop()
        folder = tempfile.mkdtemp(prefix="portal-markup-")  # only we can reach the socket
        address = os.path.join(folder, "render.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(address)
            listener.listen(128)
            code = f"import runpy, sys; runpy.run_path(sys.argv[1], run_name={_SERVER_RUN_NAME!r})"
            self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and file)
                [sys.executable, "-c", code, __file__, str(listener.fileno())],
                stdin=subprocess.PIPE, pass_fds=(listener.fileno(),))
        self._owner, self._address = os.getpid(), address

    def stop(self) -> None:
        """End the server (at exit): closing its stdin tells it to go."""
        process, self._process = self._process, None
        if process is not None and self._owner == os.getpid():
            process.stdin.close()
            try:
                process.wait(2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_SERVER = _Server()
atexit.register(_SERVER.stop)


def _connect(restart: bool) -> tuple[socket.socket, int]:
    """A connection to a fresh child of the render server, and the child's pid."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(STARTUP_SECONDS)
        sock.connect(_SERVER.address(restart))
        return sock, int(_recv(sock, time.monotonic() + STARTUP_SECONDS)["pid"])
    except BaseException:
        sock.close()
        raise


def try_render(text: str, budget: float) -> str | None:
    """``text`` rendered to sanitised HTML in a separate process, or None when that took
    longer than ``budget`` seconds or failed.  A refusal is logged (length and reason, not
    the text).  ``portal.stored_html.render_fields`` is the services' door to this."""
    text = text or ""
    if not text.strip():
        return ""
    try:
        sock, pid = _connect(restart=False)
    except (OSError, EOFError, ValueError):  # the server died: once more, with a new one
        sock, pid = _connect(restart=True)
    with sock:
        began = time.monotonic()
        try:
            sock.settimeout(budget)
            _send(sock, {"text": text, "cpu": max(1, math.ceil(budget)) + 1})
            answer = _recv(sock, began + budget)
        except TimeoutError:
            answer = {"error": f"over the budget of {budget:g} s"}
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        except (OSError, EOFError, ValueError):
            answer = {"error": "the render process ended without an answer"}
        if "html" in answer:
            return answer["html"]
        log.warning("Markdown refused (%d characters, %.2f s): %s", len(text),
                    time.monotonic() - began, answer.get("error"))
        return None


# -- stored HTML -------------------------------------------------------------------------------

def plain(text: str) -> Markup:
    """A text shown as written, escaped, with its paragraphs and line breaks: what a page
    shows while a stored text has no HTML yet (never rendered in a request)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", (text or "").strip()) if p.strip()]
    return Markup("").join(
        Markup("<p>%s</p>\n") % Markup("<br>\n").join(escape(line) for line in p.splitlines())
        for p in paragraphs)


def stored(html: str | None, version: int, text: str) -> Markup:
    """What to show for a stored text: its stored HTML once rendered (by this or an older
    version: the job brings old ones up to date), else the text itself, escaped.  ``version``
    is the row's ``html_version``: 0 never rendered, ``-VERSION`` this version refused it
    (the HTML of an older version, if any, stays)."""
    if version > 0 or html:
        return Markup(html or "")  # noqa: S704 (sanitised when it was stored)
    return plain(text)


def is_current(version: int) -> bool:
    """Has this version of the renderer seen the row (rendered it, or refused it)?"""
    return version in (VERSION, -VERSION)


if __name__ == _SERVER_RUN_NAME:  # this file, run by the render server (see _Server._start)
    _serve(int(sys.argv[2]))
