"""AppTest helpers: the real frame and pages, against a real SQLite database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
import time_machine
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from core import auth
from core.db import session_scope
from core.permissions import SYSTEM, Role
from jobs import queue
from tests.moments import NOW

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"


class PagesManagerAsServed(PagesManager):
    """AppTest re-infers the pages/ folder convention on every run; app.py pins it off for the
    served app (see there), so the tests pin it off too and every run goes through frame.py."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def served_like_app_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_test, "PagesManager", PagesManagerAsServed)


@pytest.fixture(autouse=True)
def fresh_caches(database: str) -> None:
    """Every UI test starts from an empty database and empty Streamlit caches."""
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """Pages read the clock: it reads NOW (and ticks on from there), so what a page shows does
    not depend on the day the suite runs."""
    with time_machine.travel(NOW, tick=True):
        yield


def make_user(role: Role = Role.ADMIN, email: str | None = None, *, temporary: bool = False) -> str:
    email = email or f"{role}@example.com"
    with session_scope() as session:
        user, _ = auth.create_user(
            session=session,
            actor=SYSTEM,
            email=email,
            name=role.title(),
            role=role,
            password=PASSWORD,
        )
        user.must_change_password = temporary
    return email


def frame() -> AppTest:
    return AppTest.from_file(str(ROOT / "frame.py"), default_timeout=60)


def page(path: str, email: str) -> AppTest:
    """Run one page file on its own, as `email` signed in (to probe its own guard); an email
    with no account runs it signed out."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    with session_scope() as session:
        user = auth.get_active_user(session=session, email=email)
        if user is not None:
            signed_in = auth.open_session(session=session, user=user, client="test", now=NOW)
            at.session_state["session_id"] = signed_in.session_id
    return at


def sign_in(at: AppTest, email: str, password: str = PASSWORD) -> AppTest:
    if not at.text_input:
        at.run()
    fields = {t.label: t for t in at.text_input}
    fields["Email"].input(email)
    fields["Password"].input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


TEST_MODE_ICON = ":material/science:"


def page_warnings(at: AppTest) -> list[str]:
    """The page's own warnings: not the test-mode banner the frame shows on every page."""
    return [w.value for w in at.warning if w.icon != TEST_MODE_ICON]


def texts(at: AppTest) -> str:
    """Everything the page shows as text, for 'is this on screen' assertions (Markdown's
    backslash escapes read as the characters they show)."""
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    parts += [m.label for m in at.metric]
    return re.sub(r"\\([^\w\s])", r"\1", "\n".join(str(p) for p in parts))


def see_job_through(at: AppTest, state_key: str, *, timeout: float = 60.0) -> None:
    """Wait for the job the page follows under `state_key`, then rerun the page so it shows how
    the job ended.

    Jobs run in a thread of their own here, so a short one can end before the rerun that follows
    the click: the page has then shown the end already and dropped the key.
    """
    if state_key in at.session_state:
        queue.wait_for(at.session_state[state_key], timeout=timeout)
        at.run()
    assert state_key not in at.session_state, "the page still follows a job that has ended"
