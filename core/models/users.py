from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, StrEnumType, utc_now
from core.permissions import Role


class User(Base):
    """A person who signs in to the dashboard. The email is the login name, stored lowercase."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 20))
    is_active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class EndReason(StrEnum):
    """Why a session ended."""

    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    TOO_OLD = "too_old"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a password
    ROLE_CHANGED = "role_changed"
    DEACTIVATED = "deactivated"


class UserSession(Base):
    """A signed-in browser. The browser holds a random token in an HttpOnly cookie and the table
    only its SHA-256, so a copy of the database signs nobody in. A session ends on sign-out,
    after too long idle or in all, and when its user's password, role or access changes."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The cookie's token, once the browser has collected it with the grant."""
    grant_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """A one-time, short-lived ticket the signed-in page hands its browser to collect the cookie."""
    grant_expires_at: Mapped[datetime | None]
    client: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[EndReason | None] = mapped_column(StrEnumType(EndReason, 40))


class SignInFailure(Base):
    """A failed sign-in, kept a while to slow down whoever keeps guessing from one address."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(index=True)
