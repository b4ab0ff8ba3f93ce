"""Green schools: applications, editors, activity posts, moderation and reports.

The blueprint and its registration (``init_app``) are in ``views``."""
