"""Progress toward the plan's targets, and open data.

The blueprint and its registration (``init_app``) are in ``views``."""
