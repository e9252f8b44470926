"""Signing in: the password check behind two brakes.

An account locks for `LOGIN_LOCKOUT_MINUTES` after `LOGIN_MAX_ATTEMPTS` wrong passwords in a row;
an address that keeps failing (`LOGIN_CLIENT_MAX_ATTEMPTS` within the lockout window, across any
accounts) is refused for a while too. Every refusal reads the same and costs the same bcrypt
check, so the form does not tell a guesser which emails have accounts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.auth.sessions import SignedIn, open_session
from core.auth.users import actor_for, get_active_user, password_matches
from core.config import get_settings
from core.infra import audit
from core.models import SignInFailure, User

REFUSED = (
    "That email and password do not match an active account, or the account is locked for a "
    "while after too many failed sign-ins. Ask your administrator if it keeps happening."
)
"""The one answer to every failed sign-in."""
FAILURE_MEMORY = timedelta(days=1)
"""Failed sign-ins older than this are forgotten."""


def sign_in(
    *, session: Session, email: str, password: str, client: str, now: datetime
) -> SignedIn | None:
    """Open a session when `password` is right and neither brake is on; None (and the failure
    counted) otherwise. The caller commits either way: a refusal is recorded, not raised."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_lockout_minutes)
    user = get_active_user(session=session, email=email)
    right = password_matches(password, user.password_hash if user else None)
    client_failures = session.scalar(
        select(func.count()).where(
            SignInFailure.client == client[:64], SignInFailure.at > now - window
        )
    )
    braked = (client_failures or 0) >= settings.login_client_max_attempts
    if user is not None and user.locked_until is not None:
        if user.locked_until > now:
            braked = True
        else:
            user.failed_login_count = 0
            user.locked_until = None
    if user is None or not right or braked:
        _count_failure(session, email, client, None if braked else user, now=now)
        return None
    user.failed_login_count = 0
    return open_session(session=session, user=user, client=client, now=now)


def _count_failure(
    session: Session, email: str, client: str, account: User | None, *, now: datetime
) -> None:
    """Remember the failure for the address's brake, and count it against `account`, which
    locks once it has failed too often in a row."""
    settings = get_settings()
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - FAILURE_MEMORY))
    session.add(SignInFailure(client=client[:64], email=email.strip().lower()[:254], at=now))
    if account is None:
        return
    account.failed_login_count += 1
    if account.failed_login_count < settings.login_max_attempts:
        return
    account.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
    audit.record(
        session=session,
        actor=actor_for(account),
        action="user.locked",
        entity_type="user",
        entity_id=account.id,
        changes={"failed_attempts": account.failed_login_count},
    )
