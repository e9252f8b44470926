"""Sign-in, first-run setup and navigation by role, through the real frame script."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import auth
from core.db import reset_engines, session_scope
from core.models import User, UserSession
from core.permissions import Role
from core.store_profile import get_store_profile
from tests.moments import NOW
from tests.ui.conftest import PASSWORD, frame, make_user, page, sign_in, texts
from ui.navigation import PAGES


def test_first_run_on_this_machine_needs_no_token() -> None:
    at = frame().run()
    assert "Create the administrator" in texts(at)
    assert "Setup token" not in [t.label for t in at.text_input]


def test_first_run_creates_the_administrator(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment (here: a public address set) asks for the setup token the app printed
    in its log, whoever the browser is."""
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com")
    reset_engines()
    at = frame().run()
    assert not at.exception
    assert "Create the administrator" in texts(at)
    fields = {t.label: t for t in at.text_input}
    fields["Your name"].input("Olive Owner")
    fields["Email (you sign in with it)"].input("Olive@Example.com")
    fields["Password"].input(PASSWORD)
    fields["Repeat the password"].input(PASSWORD)
    fields["Store name"].input("Corner Cellar")
    fields["Street address"].input("1200 N Milwaukee Ave")
    fields["City"].input("Chicago")
    fields["State"].input("il")
    fields["ZIP"].input("60622")
    fields["Store phone"].input("(312) 555-0100")
    next(s for s in at.selectbox if s.label == "Time zone").select("America/Denver")
    at.checkbox[0].uncheck()

    def submit(token: str) -> None:
        next(t for t in at.text_input if t.label == "Setup token").input(token)
        at.button[0].click().run()

    for wrong in ("", "AAAA-BBBB-CCCC-DDDD"):
        submit(wrong)
        assert "The setup token is missing or wrong" in texts(at)
        with session_scope() as session:
            assert not auth.has_users(session=session)
    submit(auth.setup_token().lower().replace("-", " "))
    assert not at.exception
    with session_scope() as session:
        user = session.scalars(select(User)).one()
    assert (user.email, user.role) == ("olive@example.com", Role.ADMIN)
    assert user.last_login_at is not None, "signed in by the setup: the Users page says when"
    with session_scope() as session:
        store = get_store_profile(session=session)
    assert store.is_complete and store.postal_address == "1200 N Milwaukee Ave, Chicago, IL 60622"
    assert (store.name, store.phone, store.timezone) == (
        "Corner Cellar",
        "(312) 555-0100",
        "America/Denver",
    )
    assert "Let's get your store going" in texts(at)  # signed in, on the empty home page
    assert [b.label for b in at.button if b.label == "Sign out"]


@pytest.mark.parametrize(
    ("password", "repeat", "state", "message"),
    [
        (PASSWORD, "different password", "", "differ"),
        ("short", "short", "", "at least 10"),
        # A store field refused in the same step leaves no administrator behind either.
        (PASSWORD, PASSWORD, "I1", "two-letter state code"),
    ],
)
def test_setup_refuses_bad_input(password: str, repeat: str, state: str, message: str) -> None:
    at = frame().run()
    fields = {t.label: t for t in at.text_input}
    fields["Your name"].input("O")
    fields["Email (you sign in with it)"].input("o@example.com")
    fields["Password"].input(password)
    fields["Repeat the password"].input(repeat)
    fields["State"].input(state)
    at.button[0].click().run()
    assert message in texts(at)
    with session_scope() as session:
        assert not auth.has_users(session=session)


def test_a_signed_out_visitor_sees_no_page() -> None:
    make_user(Role.ADMIN)
    at = frame().run()
    assert not at.exception
    shown = texts(at)
    assert "Sign in" in shown
    for spec in PAGES:
        with pytest.raises(ValueError):
            at.switch_page(spec.path)
    assert not at.metric and not at.dataframe
    assert "Sign out" not in [b.label for b in at.button]


@pytest.mark.slow
def test_pages_refuse_a_visitor_who_is_not_signed_in() -> None:
    make_user(Role.ADMIN)
    for spec in PAGES:
        at = page(spec.path, "nobody@example.com").run()
        assert "Please sign in." in texts(at), spec.path
        assert not at.metric and not at.dataframe


def test_wrong_password_then_lockout() -> None:
    email = make_user(Role.MARKETER)
    at = sign_in(frame(), email, "wrong password!")
    assert auth.REFUSED in texts(at)
    for _ in range(4):
        at = sign_in(at, email, "wrong password!")
    at = sign_in(frame(), email, PASSWORD)  # even the right password waits out the lock
    assert auth.REFUSED in texts(at), "the same words: a guesser learns nothing"
    assert "Sign out" not in [b.label for b in at.button]
    with session_scope() as session:
        assert auth.get_active_user(session=session, email=email).locked_until is not None


def test_sign_in_and_out() -> None:
    email = make_user(Role.ADMIN)
    at = sign_in(frame(), email)
    assert not at.exception
    assert "Let's get your store going" in texts(at)
    with session_scope() as session:
        assert auth.get_active_user(session=session, email=email).last_login_at is not None
    session_id = at.session_state["session_id"]
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert "Sign in" in texts(at) and "Let's get" not in texts(at)
    with session_scope() as session:
        row = session.get(UserSession, session_id)
        assert row.ended_at is not None and row.end_reason == "signed_out"
    assert '<img src="/auth/forget"' in at.get("html")[0].proto.body, "the cookie is dropped"


def test_navigation_follows_the_role() -> None:
    email = make_user(Role.VIEWER)
    at = sign_in(frame(), email)
    for spec in PAGES:
        if spec.url_path in ("users", "store", "imports"):
            with pytest.raises(ValueError):
                at.switch_page(spec.path)
        else:
            at.switch_page(spec.path).run()
            assert not at.exception, spec.path


@pytest.mark.parametrize("path", ["pages/users.py", "pages/store.py"])
def test_admin_pages_refuse_other_roles_even_when_opened_directly(path: str) -> None:
    for role in (Role.VIEWER, Role.MARKETER):
        at = page(path, make_user(role)).run()
        assert "does not give access" in texts(at)
        assert not at.dataframe and not at.text_input


def test_idle_sessions_expire() -> None:
    email = make_user(Role.ADMIN)
    at = sign_in(frame(), email)
    with session_scope() as session:
        row = session.get(UserSession, at.session_state["session_id"])
        row.last_seen_at -= timedelta(minutes=61)
    at.run()
    assert "signed out after 60 minutes" in texts(at)
    assert "Sign out" not in [b.label for b in at.button]


def test_deactivated_user_is_signed_out_on_the_next_click() -> None:
    email = make_user(Role.MARKETER)
    admin = make_user(Role.ADMIN)
    at = sign_in(frame(), email)
    with session_scope() as session:
        admin_actor = auth.actor_for(auth.get_active_user(session=session, email=admin))
        target = auth.get_active_user(session=session, email=email)
        auth.update_user(
            session=session, actor=admin_actor, user_id=target.id, is_active=False, now=NOW
        )
    at.run()
    assert "no longer active" in texts(at)


def test_temporary_password_must_be_changed_first() -> None:
    email = make_user(Role.MARKETER, temporary=True)
    at = sign_in(frame(), email)
    assert "temporary password" in texts(at)
    with pytest.raises(ValueError):
        at.switch_page("pages/home.py")
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input(PASSWORD)
    fields["New password"].input("my very own password")
    fields["Repeat the new password"].input("my very own password")
    next(b for b in at.button if b.label == "Change password").click().run()
    assert "Password changed." in texts(at)
    at.switch_page("pages/home.py").run()
    assert not at.exception
