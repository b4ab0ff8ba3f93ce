"""The routes of /api/v1 for accounts, for admins; declared like
those in ``views``."""

from __future__ import annotations
