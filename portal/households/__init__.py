"""Green households: register, pledge, report monthly, be recognised as a green family.

The blueprint and its registration (``init_app``) are in ``views``."""
