"""Users and their passwords (bcrypt hashes), roles and access.

A change to who someone is — a new password, another role, no access — ends their sessions.
"""

from __future__ import annotations

import functools
import secrets
from datetime import datetime
from typing import Any

import bcrypt
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth.first_run import check_setup_token
from core.auth.sessions import EndReason, end_sessions
from core.config import get_settings
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit
from core.messaging.template_defaults import install_default_templates
from core.models import Setting, User
from core.permissions import SYSTEM, Actor, Permission, Role, authorize

MIN_PASSWORD_LENGTH = 10
"""NIST SP 800-63B asks for at least 8; a marketing database deserves a little more."""
MAX_PASSWORD_BYTES = 72
"""bcrypt reads no further; a longer password is refused rather than silently cut."""
FIRST_ADMIN_KEY = "setup.first_admin"
"""The settings row whose primary key lets exactly one first-run setup through."""
ALREADY_SET_UP = "An administrator already exists; sign in instead."


def hash_password(password: str) -> str:
    rounds = get_settings().password_hash_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def password_matches(password: str, password_hash: str | None) -> bool:
    """Whether `password` is the one behind `password_hash`. Without a hash (no such account),
    a hash is still checked, so a refusal takes as long whether the account exists or not."""
    candidate = password.encode()
    if len(candidate) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(candidate, (password_hash or _nobody_hash()).encode()) and bool(
        password_hash
    )


@functools.cache
def _nobody_hash() -> str:
    """A hash at the configured cost that no password matches in practice, to check against
    when there is no account."""
    return hash_password(secrets.token_urlsafe(32))


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
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValidationError(
            f"Password must be at most {MAX_PASSWORD_BYTES} bytes (about as many letters).",
            field="password",
        )
    if email and password.lower() == email.lower():
        raise ValidationError("Password must not be the email address.", field="password")


# No letters or digits that read alike (l, I, 1, O, 0): the password is read off a screen and
# typed by another person.
TEMPORARY_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"  # noqa: S105


def generate_temporary_password() -> str:
    """Four groups of four (about 90 bits), e.g. `k7Tq-…`, easy to read aloud and type."""
    groups = (
        "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4)
    )
    return "-".join(groups)


def has_users(*, session: Session) -> bool:
    return session.execute(select(func.count()).select_from(User)).scalar_one() > 0


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, email=user.email, role=Role(user.role))


def create_first_admin(
    *,
    session: Session,
    email: str,
    name: str,
    password: str,
    now: datetime,
    client: str | None,
    setup_token: str | None = None,
) -> User:
    """First-run setup: allowed only while the users table is empty, and with the setup token
    where `first_run` asks for one (`client`: the browser's address as the server saw it). Two
    setups at once cannot both pass: each claims the same settings row, and the second fails on
    its primary key. The store starts with the default message templates, so a first campaign
    has something to send."""
    if has_users(session=session):
        raise Conflict(ALREADY_SET_UP)
    check_setup_token(settings=get_settings(), client=client, given=setup_token)
    user, _ = _add_user(
        session=session, actor=SYSTEM, email=email, name=name, role=Role.ADMIN, password=password
    )
    try:
        with session.begin_nested():
            session.add(Setting(key=FIRST_ADMIN_KEY, value={"user_id": user.id}, updated_at=now))
    except IntegrityError as exc:
        raise Conflict(ALREADY_SET_UP) from exc
    install_default_templates(session=session, actor=SYSTEM)
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
    now: datetime,
) -> User:
    """Change a user's role or deactivate/reactivate them. The last active admin stays an admin.
    Either change ends the user's sessions: they sign in again as who they now are."""
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
    end_sessions(
        session=session,
        user_id=user.id,
        reason=EndReason.DEACTIVATED if is_active is False else EndReason.ROLE_CHANGED,
        now=now,
    )
    audit.record(
        session=session,
        actor=actor,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        changes=changes,
    )
    return user


def reset_password(*, session: Session, actor: Actor, user_id: int, now: datetime) -> str:
    """An admin issues a new temporary password; the user must change it at next sign-in, and
    whoever was signed in as them is signed out."""
    authorize(actor, Permission.MANAGE_USERS)
    user = get_user(session=session, user_id=user_id)
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.failed_login_count = 0
    user.locked_until = None
    end_sessions(session=session, user_id=user.id, reason=EndReason.PASSWORD_RESET, now=now)
    audit.record(
        session=session,
        actor=actor,
        action="user.reset_password",
        entity_type="user",
        entity_id=user.id,
    )
    return temporary


def change_password(
    *,
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    now: datetime,
    keep_session: int | None = None,
) -> None:
    """A signed-in user changes their own password. Their other sessions end (`keep_session`,
    the one they are changing it in, goes on)."""
    if actor.user_id is None:
        raise ValidationError("Only a signed-in user can change a password.")
    user = get_user(session=session, user_id=actor.user_id)
    if not password_matches(current, user.password_hash):
        raise ValidationError("The current password is wrong.", field="current")
    if new == current:
        raise ValidationError("Choose a password different from the current one.", field="new")
    check_password_strength(new, email=user.email)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(
        session=session,
        user_id=user.id,
        reason=EndReason.PASSWORD_CHANGED,
        now=now,
        keep=keep_session,
    )
    audit.record(
        session=session,
        actor=actor,
        action="user.change_password",
        entity_type="user",
        entity_id=user.id,
    )


def unlock_user(*, session: Session, actor: Actor, user_id: int) -> User:
    """An admin lifts the lock that too many failed sign-ins put on an account."""
    authorize(actor, Permission.MANAGE_USERS)
    user = get_user(session=session, user_id=user_id)
    user.failed_login_count = 0
    user.locked_until = None
    audit.record(
        session=session, actor=actor, action="user.unlock", entity_type="user", entity_id=user.id
    )
    return user


def _active_admin_count(session: Session) -> int:
    return session.execute(
        select(func.count()).where(User.role == Role.ADMIN, User.is_active.is_(True))
    ).scalar_one()
