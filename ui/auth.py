"""Sign-in for the dashboard: first-run setup, the login form, idle expiry and the current user.

streamlit-authenticator draws the form and keeps the re-login cookie; the users table is the
truth for who may sign in, with which role, and whether the account is locked.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core import auth
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.permissions import Actor
from core.store_profile import secret_key
from jobs import flows

COOKIE_NAME = "lastcall_auth"
COOKIE_REFRESH_SECONDS = 300
"""Re-issue the cookie at most this often while the user is active: idle time expires it."""
LOGIN_FIELDS = {
    "Form name": "Sign in",
    "Username": "Email",
    "Password": "Password",
    "Login": "Sign in",
}


def build_authenticator() -> tuple[stauth.Authenticate, dict[str, Any]]:
    """A fresh authenticator for this rerun, fed from the users table.

    Returns:
        The authenticator and the credentials dict it holds (by reference), whose
        `failed_login_attempts` counters reveal a failed attempt made during this run.
    """
    settings = get_settings()
    with session_scope() as session:
        credentials = auth.login_credentials(session=session, now=utc_now())
        key = secret_key(session=session)
    authenticator = stauth.Authenticate(
        credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=key,
        cookie_expiry_days=settings.session_idle_minutes / (24 * 60),
        auto_hash=False,
        login_sleep_time=settings.login_sleep_seconds,
    )
    return authenticator, credentials


def has_users() -> bool:
    with session_scope(read_only=True) as session:
        return auth.has_users(session=session)


def resume_from_cookie(authenticator: stauth.Authenticate) -> None:
    """Sign a returning browser in from its cookie before navigation is built, so a link to a
    page (a bookmark, a new tab) opens that page rather than the sign-in screen."""
    if st.session_state.get("authentication_status") or COOKIE_NAME not in st.context.cookies:
        return
    # Not authenticator.login(): it sleeps first (a brake on password guessing, pointless for a
    # signed cookie), and the browser's own follow-up rerun during that sleep loses the page the
    # URL named, so every deep link would open Home.
    token = authenticator.cookie_controller.get_cookie()
    if not token:
        return
    try:
        authenticator.authentication_controller.login(token=token)
    except LoginError:
        authenticator.cookie_controller.delete_cookie()


def current_actor() -> Actor | None:
    """The signed-in, still active user, or None. Roles are read fresh from the database."""
    if not st.session_state.get("authentication_status"):
        return None
    email = st.session_state.get("username") or ""
    with session_scope(read_only=True) as session:
        user = auth.get_active_user(session=session, email=email)
        if user is None:
            return None
        st.session_state["must_change_password"] = user.must_change_password
        return auth.actor_for(user)


def sign_out(authenticator: stauth.Authenticate, reason: str | None = None) -> None:
    authenticator.logout(location="unrendered")
    for key in ("last_activity", "cookie_refreshed_at", "must_change_password"):
        st.session_state.pop(key, None)
    if reason:
        st.session_state["sign_in_notice"] = reason


def keep_alive(authenticator: stauth.Authenticate) -> bool:
    """Expire a session idle for longer than the limit; refresh the cookie of an active one.

    Returns:
        False when the session just expired.
    """
    now = time.time()
    idle_limit = get_settings().session_idle_minutes * 60
    last = st.session_state.get("last_activity")
    if last is not None and now - last > idle_limit:
        minutes = get_settings().session_idle_minutes
        sign_out(authenticator, f"You were signed out after {minutes} minutes without activity.")
        return False
    st.session_state["last_activity"] = now
    if now - st.session_state.get("cookie_refreshed_at", 0) > COOKIE_REFRESH_SECONDS:
        authenticator.cookie_controller.set_cookie()
        st.session_state["cookie_refreshed_at"] = now
    return True


def login_page(authenticator: stauth.Authenticate, credentials: dict[str, Any]) -> None:
    """The sign-in screen. Failed attempts are counted per account and lock it for a while."""
    _brand_header("Sign in to manage your store's marketing.")
    if notice := st.session_state.pop("sign_in_notice", None):
        st.info(notice)
    before = _failed_counts(credentials)
    try:
        with st.columns([1, 2, 1])[1]:
            authenticator.login(
                location="main",
                max_login_attempts=get_settings().login_max_attempts,
                fields=LOGIN_FIELDS,
                key="sign_in",
            )
    except LoginError as exc:
        _show_login_error(str(exc))
        return
    status = st.session_state.get("authentication_status")
    if status:
        with session_scope() as session:
            auth.record_login_success(
                session=session, email=st.session_state["username"], now=utc_now()
            )
        # The next run, which renders in full, sets the re-login cookie (keep_alive).
        st.session_state["last_activity"] = time.time()
        st.rerun()
    elif status is False:
        failed = [
            email
            for email, count in _failed_counts(credentials).items()
            if count > before.get(email, 0)
        ]
        locked = False
        for email in failed:
            with session_scope() as session:
                failed_now = auth.record_login_failure(session=session, email=email, now=utc_now())
                locked = failed_now or locked
        if locked:
            _show_login_error("Maximum number of login attempts exceeded")
        else:
            st.error("That email and password do not match an active account.")


def setup_page() -> None:
    """First run: no users yet, so the first person here creates the administrator."""
    _brand_header("Marketing for your liquor store, in one place.")
    about, form = st.columns([1, 1], gap="large")
    with about:
        st.markdown(
            "**Welcome!** Last Call knows your customers from your point-of-sale, tells you who "
            "to talk to this week, and sends the emails and texts for you."
        )
        st.markdown(
            "- Imports customers and orders from your point-of-sale exports\n"
            "- Scores every customer: loyal, slipping away, worth more\n"
            "- Plans a week of campaigns around the liquor calendar\n"
            "- Sends email and SMS with 21+, consent and quiet-hour rules built in"
        )
        st.caption("Start by creating the administrator account. You can add your team afterwards.")
    with form, st.form("setup"):
        st.markdown("#### Create the administrator")
        name = st.text_input("Your name")
        email = st.text_input("Email (you sign in with it)")
        password = st.text_input(
            "Password", type="password", help=f"At least {auth.MIN_PASSWORD_LENGTH} characters."
        )
        confirm = st.text_input("Repeat the password", type="password")
        with_demo = st.checkbox(
            f"Load the demo store so I can explore ({get_settings().demo_customers:,} customers, "
            "a year of orders)",
            value=True,
        )
        submitted = st.form_submit_button("Create administrator", type="primary")
    if not submitted:
        return
    if password != confirm:
        form.error("The two passwords differ.")
        return
    try:
        with session_scope() as session:
            user = auth.create_first_admin(
                session=session, email=email, name=name, password=password
            )
            user_id, email, name = user.id, user.email, user.name
    except DomainError as exc:
        form.error(str(exc))
        return
    st.session_state.update(
        authentication_status=True, username=email, name=name, roles=["admin"], logout=None
    )
    st.session_state["last_activity"] = time.time()
    if with_demo:
        st.session_state["demo_job"] = flows.load_demo(user_id=user_id)
    st.rerun()


def _failed_counts(credentials: dict[str, Any]) -> dict[str, int]:
    return {
        email: u.get("failed_login_attempts", 0) for email, u in credentials["usernames"].items()
    }


def _show_login_error(message: str) -> None:
    if "attempts" in message:
        minutes = get_settings().login_lockout_minutes
        st.error(f"Too many failed sign-ins for this account. It is locked for {minutes} minutes.")
    else:
        st.error("That account cannot sign in. Ask your administrator.")


def _brand_header(subtitle: str) -> None:
    st.title(":material/liquor: Last Call")
    st.caption(subtitle)
