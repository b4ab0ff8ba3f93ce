"""Events around observance days, volunteer sign-ups that never overbook, attendance and
service hours.

The blueprint and its registration (``init_app``) are in ``views``."""
