"""The routes of /api/v1 for the staff inbox and a person's notifications; declared like
those in ``views``."""

from __future__ import annotations
