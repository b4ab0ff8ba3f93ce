"""The eco-civilisation library: articles, topics and observance days, from content/.

The blueprint and its registration (``init_app``) are in ``views``."""
