"""Core pages: home, privacy notice, health check, error pages, the setup command.

The blueprint and its registration (``init_app``) are in ``views``."""
