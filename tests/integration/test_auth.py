"""Users, signing in and server-side sessions, on both databases."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core import auth
from core.auth.users import password_matches
from core.config import Settings
from core.db import session_scope, utc_now
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditEntry, SignInFailure, User, UserSession
from core.permissions import SYSTEM, Actor, Role
from tests.moments import NOW
from web.routes import ROUTES

PASSWORD = "correct horse battery"
HERE = "203.0.113.7"


def admin(session: Session) -> Actor:
    return auth.actor_for(first_admin(session, "Owner@Example.com", "Olive Owner"))


def first_admin(session: Session, email: str, name: str, password: str = PASSWORD) -> User:
    """First-run setup as the operator runs it (with the setup token from the log)."""
    return auth.create_first_admin(
        session=session,
        email=email,
        name=name,
        password=password,
        now=NOW,
        client=None,
        setup_token=auth.setup_token(),
    )


def member(session: Session, email: str = "m@example.com", role: Role = Role.MARKETER) -> User:
    user, _ = auth.create_user(
        session=session, actor=SYSTEM, email=email, name="Mo", role=role, password=PASSWORD
    )
    return user


def signed_in(session: Session, email: str, *, at=NOW, client: str = HERE) -> auth.SignedIn:
    outcome = auth.sign_in(session=session, email=email, password=PASSWORD, client=client, now=at)
    assert outcome is not None
    return outcome


@pytest.mark.both_databases
def test_first_admin_only_once_and_password_is_hashed(session: Session) -> None:
    assert not auth.has_users(session=session)
    actor = admin(session)
    user = session.scalars(select(User)).one()
    assert user.email == "owner@example.com"
    assert user.role == Role.ADMIN and actor.role == Role.ADMIN
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$2")
    assert password_matches(PASSWORD, user.password_hash)
    with pytest.raises(Conflict):
        first_admin(session, "x@example.com", "X")


@pytest.mark.both_databases
def test_two_first_run_setups_at_once_make_one_admin(database: str) -> None:
    """The second setup starts while the first has not committed: it cannot see the first
    admin yet, so only the claim on the one settings row stops it."""
    errors: list[Exception] = []
    first_open = threading.Event()

    def second_setup() -> None:
        first_open.wait()
        try:
            with session_scope() as session:
                first_admin(session, "b@example.com", "B")
        except Exception as exc:  # noqa: BLE001 - the test reports what it was
            errors.append(exc)

    racer = threading.Thread(target=second_setup)
    racer.start()
    with session_scope() as session:
        first_admin(session, "a@example.com", "A")
        first_open.set()
        racer.join(timeout=1)  # it waits on our uncommitted claim (or is refused at once)
    racer.join(timeout=30)
    assert not racer.is_alive()
    with session_scope() as session:
        assert session.scalars(select(User.email)).all() == ["a@example.com"]
    assert [type(error) for error in errors] == [Conflict], errors


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", PASSWORD, "email"),
        ("a@example.com", "short", "password"),
        ("a@example.com", "é" * 37, "password"),  # 74 bytes: more than bcrypt reads
    ],
)
def test_bad_user_input_names_the_field(
    session: Session, email: str, password: str, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        first_admin(session, email, "A", password)
    assert error.value.field == field


@pytest.mark.both_databases
def test_admin_adds_user_with_temporary_password(session: Session) -> None:
    actor = admin(session)
    user, temporary = auth.create_user(
        session=session, actor=actor, email="m@example.com", name="Mo", role=Role.MARKETER
    )
    assert temporary and user.must_change_password
    assert password_matches(temporary, user.password_hash)
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
        user = member(session, f"{role}@example.com", role)
        other = auth.actor_for(user)
        with pytest.raises(PermissionDenied):
            auth.create_user(
                session=session, actor=other, email="z@example.com", name="Z", role=Role.ADMIN
            )
        with pytest.raises(PermissionDenied):
            auth.update_user(
                session=session, actor=other, user_id=user.id, role=Role.ADMIN, now=NOW
            )
        with pytest.raises(PermissionDenied):
            auth.list_users(session=session, actor=other)
        with pytest.raises(PermissionDenied):
            auth.reset_password(session=session, actor=other, user_id=actor.user_id, now=NOW)
        with pytest.raises(PermissionDenied):
            auth.unlock_user(session=session, actor=other, user_id=actor.user_id)


@pytest.mark.both_databases
def test_the_last_active_admin_stays(session: Session) -> None:
    actor = admin(session)
    with pytest.raises(ValidationError, match="at least one active administrator"):
        auth.update_user(
            session=session, actor=actor, user_id=actor.user_id, role=Role.VIEWER, now=NOW
        )
    with pytest.raises(ValidationError, match="your own account"):
        auth.update_user(
            session=session, actor=actor, user_id=actor.user_id, is_active=False, now=NOW
        )
    second = member(session, "b@example.com", Role.ADMIN)
    auth.update_user(
        session=session, actor=actor, user_id=actor.user_id, role=Role.MARKETER, now=NOW
    )
    with pytest.raises(ValidationError):
        auth.update_user(
            session=session,
            actor=auth.actor_for(second),
            user_id=second.id,
            role=Role.VIEWER,
            now=NOW,
        )


@pytest.mark.both_databases
def test_sign_in_opens_a_session_and_every_refusal_reads_the_same(session: Session) -> None:
    admin(session)
    member(session)
    refused = [
        auth.sign_in(session=session, email=email, password=password, client=HERE, now=NOW)
        for email, password in [
            ("m@example.com", "wrong password"),
            ("nobody@example.com", PASSWORD),
            ("m@example.com", "é" * 40),  # too long for bcrypt: refused, not a crash
        ]
    ]
    assert refused == [None, None, None]
    assert session.scalar(select(func.count()).select_from(SignInFailure)) == 3
    user = signed_in(session, " M@Example.com ")
    assert (user.email, user.role, user.actor.role) == ("m@example.com", "marketer", "marketer")
    row = session.get(UserSession, user.session_id)
    assert row is not None and row.client == HERE and row.expires_at == NOW + timedelta(hours=12)
    assert session.scalars(select(User.failed_login_count)).all() == [0, 0]


@pytest.mark.both_databases
def test_repeated_failures_lock_the_account_until_it_expires_or_is_unlocked(
    session: Session,
) -> None:
    actor = admin(session)
    member(session)

    def attempt(password: str, at=NOW) -> auth.SignedIn | None:
        return auth.sign_in(
            session=session, email="m@example.com", password=password, client=HERE, now=at
        )

    for _ in range(5):
        assert attempt("wrong password") is None
    user = auth.get_active_user(session=session, email="m@example.com")
    assert user is not None and user.locked_until == NOW + timedelta(minutes=15)
    assert attempt(PASSWORD, NOW + timedelta(minutes=14)) is None, "locked: even the right one"
    locked = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).all()
    assert [entry.entity_id for entry in locked] == [str(user.id)]
    # After the lock, the count starts again rather than locking at once.
    later = NOW + timedelta(minutes=16)
    assert attempt("wrong password", later) is None and user.locked_until is None
    assert attempt(PASSWORD, later) is not None
    assert user.failed_login_count == 0 and user.last_login_at == later

    for _ in range(5):
        attempt("wrong password", later)
    auth.unlock_user(session=session, actor=actor, user_id=user.id)
    assert attempt(PASSWORD, later) is not None


@pytest.mark.both_databases
def test_an_address_that_keeps_guessing_is_refused_for_a_while(session: Session) -> None:
    admin(session)
    for n in range(20):  # a different account each time: no account locks
        auth.sign_in(
            session=session, email=f"guess{n}@example.com", password="x", client=HERE, now=NOW
        )
    assert (
        auth.sign_in(
            session=session, email="owner@example.com", password=PASSWORD, client=HERE, now=NOW
        )
        is None
    ), "this address is braked"
    assert signed_in(session, "owner@example.com", client="198.51.100.2"), "others are not"
    assert signed_in(session, "owner@example.com", at=NOW + timedelta(minutes=16))
    # Failures older than a day are forgotten.
    auth.sign_in(
        session=session, email="x@example.com", password="x", client=HERE, now=NOW + timedelta(2)
    )
    assert session.scalar(select(func.count()).select_from(SignInFailure)) == 1


@pytest.mark.both_databases
def test_the_cookie_is_collected_once_with_a_fresh_grant(session: Session) -> None:
    admin(session)
    user = signed_in(session, "owner@example.com")
    grant = auth.cookie_grant(session=session, session_id=user.session_id, now=NOW)
    token = auth.redeem_grant(session=session, grant=grant, now=NOW + timedelta(seconds=5))
    assert token and token != grant
    assert auth.redeem_grant(session=session, grant=grant, now=NOW) is None, "used up"
    assert auth.session_for_token(session=session, token=token, now=NOW) == user.session_id
    assert auth.session_for_token(session=session, token=grant, now=NOW) is None
    late = auth.cookie_grant(session=session, session_id=user.session_id, now=NOW)
    assert auth.redeem_grant(session=session, grant=late, now=NOW + timedelta(minutes=3)) is None
    # Only hashes are kept: nothing in the table signs anybody in.
    session.flush()
    stored = " ".join(
        str(value) for value in session.execute(text("SELECT * FROM user_sessions")).one()
    )
    assert token not in stored and grant not in stored


@pytest.mark.both_databases
def test_a_session_ends_when_signed_out_idle_or_too_old(session: Session) -> None:
    admin(session)
    user = signed_in(session, "owner@example.com")
    grant = auth.cookie_grant(session=session, session_id=user.session_id, now=NOW)
    token = auth.redeem_grant(session=session, grant=grant, now=NOW)
    assert token is not None
    minute = timedelta(minutes=1)
    for step in range(1, 13):  # active every 59 minutes: never idle, up to 11 h 48 min
        at = NOW + step * 59 * minute
        assert isinstance(
            auth.check_session(session=session, session_id=user.session_id, now=at), auth.SignedIn
        )
    too_old = auth.check_session(
        session=session, session_id=user.session_id, now=NOW + 12 * 60 * minute
    )
    assert isinstance(too_old, auth.Ended) and "at most 12 hours" in too_old.notice

    idle = signed_in(session, "owner@example.com")
    quiet = auth.check_session(
        session=session, session_id=idle.session_id, now=NOW + 30 * minute, activity=False
    )
    assert isinstance(quiet, auth.SignedIn), "a live panel refreshing is not activity"
    outcome = auth.check_session(session=session, session_id=idle.session_id, now=NOW + 61 * minute)
    assert isinstance(outcome, auth.Ended) and "60 minutes without activity" in outcome.notice

    out = signed_in(session, "owner@example.com")
    auth.end_session(session=session, session_id=out.session_id, now=NOW)
    assert auth.check_session(session=session, session_id=out.session_id, now=NOW) == auth.Ended("")
    assert auth.session_for_token(session=session, token=token, now=NOW) is None


@pytest.mark.both_databases
def test_a_new_password_role_or_no_access_signs_the_user_out_everywhere(
    session: Session,
) -> None:
    actor = admin(session)
    user = member(session)

    def check(session_id: int) -> auth.SignedIn | auth.Ended:
        return auth.check_session(session=session, session_id=session_id, now=NOW)

    here, elsewhere = signed_in(session, user.email), signed_in(session, user.email)
    auth.change_password(
        session=session,
        actor=auth.actor_for(user),
        current=PASSWORD,
        new="a brand new password",
        now=NOW,
        keep_session=here.session_id,
    )
    assert isinstance(check(here.session_id), auth.SignedIn), "where it was changed goes on"
    assert check(elsewhere.session_id) == auth.Ended(
        "Your password was changed. Sign in with the new one."
    )

    temporary = auth.reset_password(session=session, actor=actor, user_id=user.id, now=NOW)
    assert "reset your password" in check(here.session_id).notice  # type: ignore[union-attr]
    back = auth.sign_in(session=session, email=user.email, password=temporary, client=HERE, now=NOW)
    assert back is not None and back.must_change_password

    auth.update_user(session=session, actor=actor, user_id=user.id, role=Role.VIEWER, now=NOW)
    assert "role was changed" in check(back.session_id).notice  # type: ignore[union-attr]
    again = auth.sign_in(
        session=session, email=user.email, password=temporary, client=HERE, now=NOW
    )
    assert again is not None and again.role == Role.VIEWER
    auth.update_user(session=session, actor=actor, user_id=user.id, is_active=False, now=NOW)
    assert check(again.session_id) == auth.Ended("Your account is no longer active.")
    assert auth.get_active_user(session=session, email=user.email) is None
    assert (
        auth.sign_in(session=session, email=user.email, password=temporary, client=HERE, now=NOW)
        is None
    )


@pytest.mark.both_databases
def test_password_change_checks_the_current_one(session: Session) -> None:
    actor = admin(session)
    with pytest.raises(ValidationError, match="current password is wrong"):
        auth.change_password(
            session=session, actor=actor, current="wrong", new="another long one", now=NOW
        )
    with pytest.raises(ValidationError, match="at least"):
        auth.change_password(session=session, actor=actor, current=PASSWORD, new="short", now=NOW)
    auth.change_password(
        session=session, actor=actor, current=PASSWORD, new="another long one", now=NOW
    )
    temporary = auth.reset_password(session=session, actor=actor, user_id=actor.user_id, now=NOW)
    user = auth.get_user(session=session, user_id=actor.user_id)
    assert user.must_change_password and password_matches(temporary, user.password_hash)
    auth.change_password(
        session=session, actor=actor, current=temporary, new="my own password", now=NOW
    )
    assert not user.must_change_password


@pytest.fixture
def routes(database: str) -> Iterator[TestClient]:
    """The app's HTTP routes on this test's database, as a browser on https reaches them."""
    with TestClient(Starlette(routes=ROUTES), base_url="https://shop.example") as client:
        yield client


def fresh_grant() -> tuple[int, str]:
    with session_scope() as session:
        admin(session)
        user = signed_in(session, "owner@example.com", at=utc_now())
        return user.session_id, auth.cookie_grant(
            session=session, session_id=user.session_id, now=utc_now()
        )


@pytest.mark.both_databases
def test_the_browser_collects_an_httponly_cookie_once(routes: TestClient) -> None:
    session_id, grant = fresh_grant()
    assert routes.get("/auth/cookie", params={"grant": "made-up"}).status_code == 403
    cross_site = routes.get(
        "/auth/cookie", params={"grant": grant}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403, "another site cannot hand out our cookie"
    answer = routes.get(
        "/auth/cookie", params={"grant": grant}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{auth.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert answer.headers["cache-control"] == "no-store"
    token = routes.cookies[auth.COOKIE_NAME]
    with session_scope() as session:
        assert auth.session_for_token(session=session, token=token, now=utc_now()) == session_id
    assert routes.get("/auth/cookie", params={"grant": grant}).status_code == 403, "used up"


@pytest.mark.both_databases
def test_forgetting_the_cookie_ends_its_session(routes: TestClient) -> None:
    session_id, grant = fresh_grant()
    routes.get("/auth/cookie", params={"grant": grant})
    assert routes.cookies.get(auth.COOKIE_NAME)
    answer = routes.get("/auth/forget")
    assert answer.status_code == 200
    assert 'lastcall_session=""' in answer.headers["set-cookie"]
    assert not routes.cookies.get(auth.COOKIE_NAME)
    with session_scope() as session:
        assert isinstance(
            auth.check_session(session=session, session_id=session_id, now=utc_now()), auth.Ended
        )


@pytest.mark.parametrize(
    ("environment", "client", "needs_token"),
    [
        ({}, "127.0.0.1", False),  # trying the app on one's own machine
        ({}, "::1", False),
        ({}, "::ffff:127.0.0.1", False),  # IPv4 through a dual-stack socket
        ({}, "::ffff:203.0.113.9", True),
        ({}, "not an address", True),
        ({}, "203.0.113.9", True),  # a browser elsewhere found the address first
        ({}, None, True),  # unknown is not local
        ({"PUBLIC_BASE_URL": "https://shop.example.com"}, "127.0.0.1", True),  # behind a proxy
        ({"REDIS_URL": "redis://127.0.0.1:6379/15"}, "127.0.0.1", True),
        ({"DATABASE_URL": "postgresql+psycopg://lastcall@127.0.0.1/x"}, "127.0.0.1", True),
    ],
)
def test_first_run_asks_for_the_logged_token_unless_it_is_plainly_local(
    environment: dict[str, str], client: str | None, needs_token: bool
) -> None:
    settings = Settings(**({"DATABASE_URL": "sqlite:////tmp/lastcall-first-run.db"} | environment))
    assert auth.needs_setup_token(settings=settings, client=client) is needs_token


@pytest.mark.both_databases
def test_a_remote_first_run_without_the_token_creates_nobody(session: Session) -> None:
    """PostgreSQL here is a deployment, SQLite here a visitor from elsewhere: either way the
    token from the log is needed, and it is the same in every process."""
    for wrong in (None, "", "AAAA-BBBB-CCCC-DDDD"):
        with pytest.raises(ValidationError) as error:
            auth.create_first_admin(
                session=session,
                email="mallory@example.com",
                name="M",
                password=PASSWORD,
                now=NOW,
                client="203.0.113.9",
                setup_token=wrong,
            )
        assert error.value.field == "setup_token"
    assert not auth.has_users(session=session)
    token = auth.setup_token()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", token)
    user = auth.create_first_admin(
        session=session,
        email="olive@example.com",
        name="Olive",
        password=PASSWORD,
        now=NOW,
        client="203.0.113.9",
        setup_token=f" {token.lower()} ",
    )
    assert user.role == Role.ADMIN


def test_a_password_is_kept_exactly_as_typed(session: Session) -> None:
    """Spaces are part of a password at creation and at sign-in alike (trimming one side only
    locked people out)."""
    spaced = "  correct horse battery  "
    auth.create_user(
        session=session,
        actor=SYSTEM,
        email="s@example.com",
        name="S",
        role=Role.VIEWER,
        password=spaced,
    )

    def attempt(password: str) -> object:
        return auth.sign_in(
            session=session, email="s@example.com", password=password, client=HERE, now=NOW
        )

    assert attempt(spaced.strip()) is None
    assert attempt(spaced) is not None
