from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.security import CITIZEN, ROLES


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=CITIZEN)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    privacy_version: Mapped[str] = mapped_column(sa.String(32))
    privacy_consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the person proved they read mail at ``email`` (a verification link, a password
    # reset or an editor invitation opened from it); None until then.  Unverified accounts
    # cannot report posts, sign up for events or publish (``services.require_verified``).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written by each sign-in (``services.start_session``), shown to administrators.
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An administrator's suspension (``services.suspend``): no sign-in, no API token, every
    # session ended; ``services.restore`` clears the three.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    suspended_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True)
    api_tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ApiToken.created_at")
    password_resets: Mapped[list[PasswordReset]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    email_verifications: Mapped[list[EmailVerification]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        sa.CheckConstraint(sa.column("role").in_(ROLES), name="role_known"),
    )

    # -- flask-login ------------------------------------------------------------------------
    # The login identity is the *session* token, not the user id: deleting the LoginSession row
    # (log out, password change) makes every copy of the old cookies worthless.
    session_token = None  # set per request by services.user_for_session (not a column)
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("login_user() needs a LoginSession; use services.sign_in()")
        return self.session_token

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginSession(db.Model):
    """One signed-in browser.  Only a hash of its token is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="api_tokens")


class PasswordReset(db.Model):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailVerification(db.Model):
    """A mailed link that confirms the account's address (one at a time per account; a used
    one stays, with ``used_at``, until a new one replaces it).  Only the token's hash is kept."""

    __tablename__ = "email_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(db.Model):
    """Failed sign-ins per e-mail address, shared by every worker process.

    ``key`` is an HMAC of the normalised address, so the table holds no address and behaves
    the same whether or not an account exists.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
