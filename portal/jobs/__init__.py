"""Jobs: side effects (mail, index updates, periodic work) written in the same transaction as
the change that causes them and carried out by ``flask jobs work``.

The staff page, its blueprint and the registration (``init_app``) are in ``views``."""

from portal.jobs.services import enqueue, enqueue_coalesced, register, register_periodic

__all__ = ["enqueue", "enqueue_coalesced", "register", "register_periodic"]
