"""Users, passwords and sign-in bookkeeping.

Passwords are bcrypt hashes; failed sign-ins are counted per account and lock it for a while after
too many. The login form itself is streamlit-authenticator's; it is fed from `login_credentials`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import bcrypt
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit
from core.models import User
from core.permissions import SYSTEM, Actor, Permission, Role, authorize

MIN_PASSWORD_LENGTH = 10
"""NIST SP 800-63B asks for at least 8; a marketing database deserves a little more."""


def hash_password(password: str) -> str:
    rounds = get_settings().password_hash_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(password.encode(), password_hash.encode())


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(
            f"'{email}' is not a valid email address: {exc}", field="email"
        ) from exc


def check_password_strength(password: str, *, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if email and password.lower() == email.lower():
        raise ValidationError("Password must not be the email address.", field="password")


def generate_temporary_password() -> str:
    return secrets.token_urlsafe(12)


def has_users(*, session: Session) -> bool:
    return session.execute(select(func.count()).select_from(User)).scalar_one() > 0


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, email=user.email, role=Role(user.role))


def create_first_admin(*, session: Session, email: str, name: str, password: str) -> User:
    """First-run setup: allowed only while the users table is empty."""
    if has_users(session=session):
        raise Conflict("An administrator already exists; sign in instead.")
    user, _ = _add_user(
        session=session, actor=SYSTEM, email=email, name=name, role=Role.ADMIN, password=password
    )
    return user


def create_user(
    *,
    session: Session,
    actor: Actor,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
) -> tuple[User, str | None]:
    """Add a user. Without a password, a temporary one is generated, returned once, and must be
    changed at first sign-in.

    Returns:
        The user and the temporary password (None when a password was given).
    """
    authorize(actor, Permission.MANAGE_USERS)
    return _add_user(
        session=session, actor=actor, email=email, name=name, role=role, password=password
    )


def _add_user(
    *, session: Session, actor: Actor, email: str, name: str, role: Role, password: str | None
) -> tuple[User, str | None]:
    email = normalize_email(email)
    if not name.strip():
        raise ValidationError("Name is required.", field="name")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"A user with email {email} already exists.")
    temporary = None
    if password is None:
        password = temporary = generate_temporary_password()
    check_password_strength(password, email=email)
    user = User(
        email=email,
        name=name.strip(),
        role=Role(role),
        password_hash=hash_password(password),
        must_change_password=temporary is not None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        changes={"email": email, "role": str(role)},
    )
    return user, temporary


def list_users(*, session: Session, actor: Actor) -> list[User]:
    authorize(actor, Permission.MANAGE_USERS)
    return list(session.scalars(select(User).order_by(User.created_at, User.id)))


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id}")
    return user


def get_active_user(*, session: Session, email: str) -> User | None:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    return user if user is not None and user.is_active else None


def update_user(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    role: Role | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's role or deactivate/reactivate them. The last active admin stays an admin."""
    authorize(actor, Permission.MANAGE_USERS)
    user = get_user(session=session, user_id=user_id)
    changes: dict[str, Any] = {}
    if role is not None and role != user.role:
        changes["role"] = [user.role, str(role)]
    if is_active is not None and is_active != user.is_active:
        if not is_active and user.id == actor.user_id:
            raise ValidationError("You cannot deactivate your own account.", field="is_active")
        changes["is_active"] = [user.is_active, is_active]
    if not changes:
        return user
    losing_admin = (
        user.role == Role.ADMIN
        and user.is_active
        and ((role is not None and role != Role.ADMIN) or is_active is False)
    )
    if losing_admin and _active_admin_count(session) <= 1:
        raise ValidationError("The store needs at least one active administrator.", field="role")
    if role is not None:
        user.role = Role(role)
    if is_active is not None:
        user.is_active = is_active
    audit.record(
        session=session,
        actor=actor,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        changes=changes,
    )
    return user


def reset_password(*, session: Session, actor: Actor, user_id: int) -> str:
    """An admin issues a new temporary password; the user must change it at next sign-in."""
    authorize(actor, Permission.MANAGE_USERS)
    user = get_user(session=session, user_id=user_id)
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.failed_login_count = 0
    user.locked_until = None
    audit.record(
        session=session,
        actor=actor,
        action="user.reset_password",
        entity_type="user",
        entity_id=user.id,
    )
    return temporary


def change_password(*, session: Session, actor: Actor, current: str, new: str) -> None:
    """A signed-in user changes their own password."""
    if actor.user_id is None:
        raise ValidationError("Only a signed-in user can change a password.")
    user = get_user(session=session, user_id=actor.user_id)
    if not verify_password(current, user.password_hash):
        raise ValidationError("The current password is wrong.", field="current")
    if new == current:
        raise ValidationError("Choose a password different from the current one.", field="new")
    check_password_strength(new, email=user.email)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    audit.record(
        session=session,
        actor=actor,
        action="user.change_password",
        entity_type="user",
        entity_id=user.id,
    )


def _active_admin_count(session: Session) -> int:
    return session.execute(
        select(func.count()).where(User.role == Role.ADMIN, User.is_active.is_(True))
    ).scalar_one()


# --- sign-in bookkeeping ---------------------------------------------------------------------


def login_credentials(*, session: Session, now: datetime) -> dict[str, Any]:
    """The credentials dict streamlit-authenticator expects, built from active users.

    `failed_login_attempts` carries our lockout: a locked account shows the maximum, so the
    authenticator refuses it before checking the password.
    """
    max_attempts = get_settings().login_max_attempts
    usernames: dict[str, Any] = {}
    for user in session.scalars(select(User).where(User.is_active.is_(True))):
        locked = user.locked_until is not None and user.locked_until > now
        usernames[user.email] = {
            "email": user.email,
            "name": user.name,
            "password": user.password_hash,
            "roles": [user.role],
            "failed_login_attempts": max_attempts if locked else 0,
        }
    return {"usernames": usernames}


def record_login_failure(*, session: Session, email: str, now: datetime) -> bool:
    """Count a wrong password. Returns True when this failure locked the account."""
    user = get_active_user(session=session, email=email)
    if user is None:
        return False
    settings = get_settings()
    if user.locked_until is not None and user.locked_until <= now:
        user.failed_login_count = 0
        user.locked_until = None
    user.failed_login_count += 1
    if user.failed_login_count < settings.login_max_attempts:
        return False
    user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
    audit.record(
        session=session,
        actor=actor_for(user),
        action="user.locked",
        entity_type="user",
        entity_id=user.id,
        changes={"failed_attempts": user.failed_login_count},
    )
    return True


def record_login_success(*, session: Session, email: str, now: datetime) -> None:
    user = get_active_user(session=session, email=email)
    if user is None:
        return
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
