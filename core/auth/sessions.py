"""Staying signed in: server-side sessions behind an HttpOnly cookie.

A session is a row; the browser holds a random token in a cookie and the table holds only the
token's SHA-256, so neither a copy of the database nor a log line signs anybody in. The page that
signed someone in cannot set an HttpOnly cookie itself, so it hands its browser a one-time grant
(`cookie_grant`) that the browser trades at /auth/cookie for the token (`redeem_grant`).

Every run of the dashboard checks its session (`check_session`): a session ends on sign-out,
after `SESSION_IDLE_MINUTES` without activity, after `SESSION_MAX_HOURS` in all, and when its
user's password, role or access changes (`end_sessions`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import rowcount
from core.models import EndReason, User, UserSession
from core.permissions import Actor, Role

COOKIE_NAME = "lastcall_session"
GRANT_SECONDS = 120
"""How long a freshly signed-in page's browser has to collect its cookie."""
TOUCH_SECONDS = 60
"""`last_seen_at` is written at most this often: idle time is measured to the minute."""


@dataclass(frozen=True)
class SignedIn:
    """Who a live session belongs to, read fresh from the users table."""

    session_id: int
    user_id: int
    email: str
    name: str
    role: Role
    must_change_password: bool

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, email=self.email, role=self.role)


@dataclass(frozen=True)
class Ended:
    """A session that is over, with what to tell its user (empty after their own sign-out)."""

    notice: str


def open_session(*, session: Session, user: User, client: str, now: datetime) -> SignedIn:
    """A new session for `user`, who has just proved who they are (a password, or the first-run
    setup that made them): their last sign-in."""
    user.last_login_at = now
    row = UserSession(
        user_id=user.id,
        client=client[:64],
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=get_settings().session_max_hours),
    )
    session.add(row)
    session.flush()
    return _signed_in(row, user)


def cookie_grant(*, session: Session, session_id: int, now: datetime) -> str:
    """A one-time ticket, valid for GRANT_SECONDS, that the browser trades for its cookie."""
    row = session.get(UserSession, session_id)
    if row is None or row.ended_at is not None:
        raise LookupError(f"no open session {session_id}")
    grant = secrets.token_urlsafe(32)
    row.grant_hash = _digest(grant)
    row.grant_expires_at = now + timedelta(seconds=GRANT_SECONDS)
    return grant


def redeem_grant(*, session: Session, grant: str, now: datetime) -> str | None:
    """The cookie token for a valid, unused grant (which is used up), or None."""
    row = session.scalar(
        select(UserSession).where(
            UserSession.grant_hash == _digest(grant), UserSession.ended_at.is_(None)
        )
    )
    if row is None or row.grant_expires_at is None or row.grant_expires_at <= now:
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash = _digest(token)
    row.grant_hash = None
    row.grant_expires_at = None
    return token


def session_for_token(*, session: Session, token: str, now: datetime) -> int | None:
    """The id of the open session a cookie's token belongs to, or None."""
    return session.scalar(
        select(UserSession.id).where(
            UserSession.token_hash == _digest(token),
            UserSession.ended_at.is_(None),
            UserSession.expires_at > now,
        )
    )


def check_session(
    *, session: Session, session_id: int, now: datetime, activity: bool = True
) -> SignedIn | Ended:
    """Is the session still good? Ends it when it sat idle too long, outlived its maximum age,
    or its user can no longer sign in. `activity=False` (a live panel refreshing by itself)
    checks without counting as the user being active."""
    settings = get_settings()
    row = session.get(UserSession, session_id)
    if row is None:
        return Ended("")
    if row.ended_at is not None:
        return Ended(_notice(row.end_reason))
    user = session.get(User, row.user_id)
    reason = None
    if user is None or not user.is_active:
        reason = EndReason.DEACTIVATED
    elif now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        reason = EndReason.IDLE
    elif now >= row.expires_at:
        reason = EndReason.TOO_OLD
    if reason is not None:
        _end(row, reason, now)
        return Ended(_notice(reason))
    assert user is not None
    if activity and (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        row.last_seen_at = now
    return _signed_in(row, user)


def end_session(*, session: Session, session_id: int, now: datetime) -> None:
    """Sign-out: the session ends now, whatever its cookie says later."""
    row = session.get(UserSession, session_id)
    if row is not None and row.ended_at is None:
        _end(row, EndReason.SIGNED_OUT, now)


def end_session_of_token(*, session: Session, token: str, now: datetime) -> None:
    """Sign-out by the cookie itself (the browser forgetting it ends it too)."""
    session_id = session_for_token(session=session, token=token, now=now)
    if session_id is not None:
        end_session(session=session, session_id=session_id, now=now)


def end_sessions(
    *, session: Session, user_id: int, reason: EndReason, now: datetime, keep: int | None = None
) -> int:
    """End every open session of a user (but `keep`, the one making the change). Returns how
    many ended."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason, grant_hash=None)
    )
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    return rowcount(session.execute(statement.execution_options(synchronize_session="fetch")))


def _end(row: UserSession, reason: EndReason, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason
    row.grant_hash = None


def _notice(reason: EndReason | None) -> str:
    settings = get_settings()
    return (
        {
            EndReason.IDLE: f"You were signed out after {settings.session_idle_minutes} minutes "
            "without activity.",
            EndReason.TOO_OLD: f"You were signed out: a sign-in lasts at most "
            f"{settings.session_max_hours} hours.",
            EndReason.PASSWORD_CHANGED: "Your password was changed. Sign in with the new one.",
            EndReason.PASSWORD_RESET: "An administrator reset your password. Sign in with the "
            "temporary password you were given.",
            EndReason.ROLE_CHANGED: "Your role was changed. Sign in again to continue.",
            EndReason.DEACTIVATED: "Your account is no longer active.",
        }.get(reason, "")
        if reason
        else ""
    )


def _signed_in(row: UserSession, user: User) -> SignedIn:
    return SignedIn(
        session_id=row.id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        must_change_password=user.must_change_password,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
