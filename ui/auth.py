"""Sign-in for the dashboard: first-run setup, the sign-in form, and the signed-in user.

The session lives on the server (core.auth); this browser session keeps only its id. The cookie
that brings a reload or a new tab back in is HttpOnly, so no page can write it: after signing in,
the page shows its browser a one-time grant to collect the cookie from /auth/cookie, and after
signing out a call to /auth/forget drops it.
"""

from __future__ import annotations

import time

import streamlit as st

from core import auth
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.permissions import Actor
from core.store_profile import get_store_profile, update_store_profile, us_time_zones
from jobs import flows

SESSION = "session_id"
GRANT = "cookie_grant"
FORGET = "forget_cookie"
NOTICE = "sign_in_notice"


def has_users() -> bool:
    with session_scope(read_only=True) as session:
        return auth.has_users(session=session)


def client_address() -> str:
    """Who is asking, for the sign-in brake: the browser's address, or the one the local reverse
    proxy in front of the app forwarded (the nearest hop, the one the proxy saw)."""
    direct = _text(st.context.ip_address)
    forwarded = (_text(st.context.headers.get("X-Forwarded-For")) or "").split(",")[-1].strip()
    return (forwarded if direct is None else direct) or "local"


def direct_address() -> str:
    """The browser's address as this server saw it, for the one decision a forged
    X-Forwarded-For must not sway: whether a first-run setup is local. Streamlit reports a
    loopback peer as None ("accessed through localhost"); uvicorn takes a forwarded address
    only from a proxy on this machine, so a visitor through the store's proxy is not local."""
    return _text(st.context.ip_address) or "127.0.0.1"


def _text(value: object) -> str | None:
    """A context value that is text, else None (AppTest's context holds stand-in objects)."""
    return value if isinstance(value, str) else None


def current_user(*, activity: bool = True) -> auth.SignedIn | None:
    """The signed-in user of this browser session, checked against the database on every run:
    a session that ended (signed out elsewhere, idle, a changed password or role, no access) is
    over here too. A returning browser is signed in from its cookie first, so a link to a page
    (a bookmark, a new tab) opens that page."""
    session_id = st.session_state.get(SESSION)
    if session_id is None:
        token = _text(st.context.cookies.get(auth.COOKIE_NAME))
        if not token:
            return None
        with session_scope(read_only=True) as session:
            session_id = auth.session_for_token(session=session, token=token, now=utc_now())
        if session_id is None:
            return None
        st.session_state[SESSION] = session_id
    with session_scope() as session:
        outcome = auth.check_session(
            session=session, session_id=session_id, now=utc_now(), activity=activity
        )
    if isinstance(outcome, auth.Ended):
        _forget(outcome.notice)
        return None
    return outcome


def current_actor() -> Actor | None:
    user = current_user()
    return user.actor if user else None


def sign_out() -> None:
    """End this session on the server now; the next run's page drops the cookie."""
    session_id = st.session_state.get(SESSION)
    if session_id is not None:
        with session_scope() as session:
            auth.end_session(session=session, session_id=session_id, now=utc_now())
    _forget("")


def _forget(notice: str) -> None:
    st.session_state.pop(SESSION, None)
    st.session_state[FORGET] = True
    if notice:
        st.session_state[NOTICE] = notice


def cookie_exchange() -> None:
    """Let the browser collect its cookie after a sign-in, or drop it after a sign-out: an
    invisible image, since only a response from the server can set an HttpOnly cookie."""
    if grant := st.session_state.pop(GRANT, None):
        st.html(f'<img src="/auth/cookie?grant={grant}" alt="" width="1" height="1">')
    elif st.session_state.pop(FORGET, None):
        st.html('<img src="/auth/forget" alt="" width="1" height="1">')


def _start(signed_in: auth.SignedIn, grant: str) -> None:
    st.session_state[SESSION] = signed_in.session_id
    st.session_state[GRANT] = grant
    st.session_state.pop(FORGET, None)


def login_page() -> None:
    """The sign-in screen. Every refusal reads the same (see core.auth.sign_in)."""
    _brand_header("Sign in to manage your store's marketing.")
    if notice := st.session_state.pop(NOTICE, None):
        st.info(notice)
    cookie_exchange()
    with st.columns([1, 2, 1])[1], st.form("sign_in"):
        st.markdown("#### Sign in")
        email = st.text_input("Email", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        return
    time.sleep(get_settings().login_sleep_seconds)
    with session_scope() as session:
        signed_in = auth.sign_in(
            session=session, email=email, password=password, client=client_address(), now=utc_now()
        )
        grant = (
            auth.cookie_grant(session=session, session_id=signed_in.session_id, now=utc_now())
            if signed_in
            else None
        )
    if signed_in is None or grant is None:
        st.error(auth.REFUSED)
        return
    _start(signed_in, grant)
    st.rerun()


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
        store = store_fields()
        token = None
        if auth.needs_setup_token(settings=get_settings(), client=direct_address()):
            token = st.text_input(
                "Setup token",
                help="Proves you run this server: the app prints it in its log when it starts "
                "(look for 'setup token').",
            )
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
            now = utc_now()
            user = auth.create_first_admin(
                session=session,
                email=email,
                name=name,
                password=password,
                now=now,
                client=direct_address(),
                setup_token=token,
            )
            # In the same transaction: a store field refused leaves no administrator behind.
            update_store_profile(session=session, actor=auth.actor_for(user), **store)
            signed_in = auth.open_session(
                session=session, user=user, client=client_address(), now=now
            )
            grant = auth.cookie_grant(session=session, session_id=signed_in.session_id, now=now)
    except DomainError as exc:
        form.error(str(exc))
        return
    _start(signed_in, grant)
    if with_demo:
        st.session_state["demo_job"] = flows.load_demo(user_id=signed_in.user_id)
    st.rerun()


def store_fields() -> dict[str, str]:
    """The store's name, postal address, phone and time zone: every email's legal footer and
    every quiet hour depend on them, so setup asks before anything can be sent. Blank fields
    stay blank (Store profile asks again); the demo fills only what is left blank."""
    with session_scope(read_only=True) as session:
        profile = get_store_profile(session=session)
    st.markdown("#### Your store")
    st.caption("Every email carries this address (CAN-SPAM); you can finish it later.")
    name, phone = st.columns(2)
    fields = {"name": name.text_input("Store name", profile.name)}
    fields["phone"] = phone.text_input("Store phone", profile.phone)
    address, city = st.columns(2)
    fields["address"] = address.text_input("Street address", profile.address)
    fields["city"] = city.text_input("City", profile.city)
    state, zip_code, zone = st.columns([1, 1, 2])
    fields["state"] = state.text_input("State", profile.state, max_chars=2, help="e.g. IL")
    fields["zip"] = zip_code.text_input("ZIP", profile.zip, max_chars=10)
    zones = us_time_zones()
    fields["timezone"] = zone.selectbox(
        "Time zone",
        zones,
        index=zones.index(profile.timezone) if profile.timezone in zones else 0,
    )
    return {key: value.strip() for key, value in fields.items() if value.strip()}


def _brand_header(subtitle: str) -> None:
    st.title(":material/liquor: Last Call")
    st.caption(subtitle)
