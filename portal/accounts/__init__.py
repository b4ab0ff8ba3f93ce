"""Accounts: registration, sign-in, sessions, passwords, API tokens, "my data".

The blueprint, ``load_principal`` and the registration (``init_app``) are in ``views``."""
