from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import auth
from core.db import utc_now
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditEntry, User
from core.permissions import Actor, Role
from tests.moments import NOW

PASSWORD = "correct horse battery"


def admin(session: Session) -> Actor:
    user = auth.create_first_admin(
        session=session, email="Owner@Example.com", name="Olive Owner", password=PASSWORD
    )
    return auth.actor_for(user)


@pytest.mark.both_databases
def test_first_admin_only_once_and_password_is_hashed(session: Session) -> None:
    assert not auth.has_users(session=session)
    actor = admin(session)
    user = session.scalars(select(User)).one()
    assert user.email == "owner@example.com"
    assert user.role == Role.ADMIN and actor.role == Role.ADMIN
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$2")
    assert auth.verify_password(PASSWORD, user.password_hash)
    with pytest.raises(Conflict):
        auth.create_first_admin(session=session, email="x@example.com", name="X", password=PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), ("a@example.com", "short", "password")],
)
def test_bad_user_input_names_the_field(
    session: Session, email: str, password: str, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        auth.create_first_admin(session=session, email=email, name="A", password=password)
    assert error.value.field == field


@pytest.mark.both_databases
def test_admin_adds_user_with_temporary_password(session: Session) -> None:
    actor = admin(session)
    user, temporary = auth.create_user(
        session=session, actor=actor, email="m@example.com", name="Mo", role=Role.MARKETER
    )
    assert temporary and user.must_change_password
    assert auth.verify_password(temporary, user.password_hash)
    with pytest.raises(Conflict):
        auth.create_user(
            session=session, actor=actor, email="M@example.com", name="Mo", role=Role.VIEWER
        )
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).all()
    assert [e.changes["email"] for e in entry] == ["owner@example.com", "m@example.com"]


@pytest.mark.both_databases
def test_non_admins_cannot_manage_users_even_through_core(session: Session) -> None:
    actor = admin(session)
    for role in (Role.MARKETER, Role.VIEWER):
        user, _ = auth.create_user(
            session=session, actor=actor, email=f"{role}@example.com", name=role, role=role
        )
        other = auth.actor_for(user)
        with pytest.raises(PermissionDenied):
            auth.create_user(
                session=session, actor=other, email="z@example.com", name="Z", role=Role.ADMIN
            )
        with pytest.raises(PermissionDenied):
            auth.update_user(session=session, actor=other, user_id=user.id, role=Role.ADMIN)
        with pytest.raises(PermissionDenied):
            auth.list_users(session=session, actor=other)
        with pytest.raises(PermissionDenied):
            auth.reset_password(session=session, actor=other, user_id=actor.user_id)


@pytest.mark.both_databases
def test_the_last_active_admin_stays(session: Session) -> None:
    actor = admin(session)
    with pytest.raises(ValidationError, match="at least one active administrator"):
        auth.update_user(session=session, actor=actor, user_id=actor.user_id, role=Role.VIEWER)
    with pytest.raises(ValidationError, match="your own account"):
        auth.update_user(session=session, actor=actor, user_id=actor.user_id, is_active=False)
    second, _ = auth.create_user(
        session=session, actor=actor, email="b@example.com", name="B", role=Role.ADMIN
    )
    auth.update_user(session=session, actor=actor, user_id=actor.user_id, role=Role.MARKETER)
    with pytest.raises(ValidationError):
        auth.update_user(
            session=session, actor=auth.actor_for(second), user_id=second.id, role=Role.VIEWER
        )


@pytest.mark.both_databases
def test_deactivated_users_cannot_sign_in(session: Session) -> None:
    actor = admin(session)
    user, _ = auth.create_user(
        session=session,
        actor=actor,
        email="v@example.com",
        name="V",
        role=Role.VIEWER,
        password=PASSWORD,
    )
    assert "v@example.com" in auth.login_credentials(session=session, now=NOW)["usernames"]
    auth.update_user(session=session, actor=actor, user_id=user.id, is_active=False)
    assert "v@example.com" not in auth.login_credentials(session=session, now=NOW)["usernames"]
    assert auth.get_active_user(session=session, email="v@example.com") is None


@pytest.mark.both_databases
def test_repeated_failures_lock_the_account_for_a_while(session: Session) -> None:
    admin(session)
    now = utc_now()
    for attempt in range(1, 5):
        assert not auth.record_login_failure(session=session, email="owner@example.com", now=now)
        creds = auth.login_credentials(session=session, now=now)["usernames"]["owner@example.com"]
        assert creds["failed_login_attempts"] == 0, attempt
    assert auth.record_login_failure(session=session, email="owner@example.com", now=now)
    creds = auth.login_credentials(session=session, now=now)["usernames"]["owner@example.com"]
    assert creds["failed_login_attempts"] == 5  # the authenticator refuses at the maximum
    later = now + timedelta(minutes=16)
    creds = auth.login_credentials(session=session, now=later)["usernames"]["owner@example.com"]
    assert creds["failed_login_attempts"] == 0
    # After the lock expires the count starts again rather than locking at once.
    assert not auth.record_login_failure(session=session, email="owner@example.com", now=later)
    auth.record_login_success(session=session, email="owner@example.com", now=later)
    user = auth.get_active_user(session=session, email="owner@example.com")
    assert (
        user.failed_login_count == 0 and user.locked_until is None and user.last_login_at == later
    )
    assert not auth.record_login_failure(session=session, email="nobody@example.com", now=now)


@pytest.mark.both_databases
def test_password_change_and_reset(session: Session) -> None:
    actor = admin(session)
    with pytest.raises(ValidationError, match="current password is wrong"):
        auth.change_password(session=session, actor=actor, current="wrong", new="another long one")
    with pytest.raises(ValidationError, match="at least"):
        auth.change_password(session=session, actor=actor, current=PASSWORD, new="short")
    auth.change_password(session=session, actor=actor, current=PASSWORD, new="another long one")
    temporary = auth.reset_password(session=session, actor=actor, user_id=actor.user_id)
    user = auth.get_user(session=session, user_id=actor.user_id)
    assert user.must_change_password and auth.verify_password(temporary, user.password_hash)
    auth.change_password(session=session, actor=actor, current=temporary, new="my own password")
    assert not user.must_change_password
