"""The routes of /api/v1 for the library's articles, news, notices and pages (editorial);
declared like those in ``views``."""

from __future__ import annotations
