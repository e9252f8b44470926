"""My account: change my password (required after a temporary one)."""

import streamlit as st

from core import auth
from core.db import utc_now
from core.permissions import Permission
from ui.calls import attempt
from ui.flash import flash, show_flash
from ui.formatting import md
from ui.guard import require_user

user = require_user(Permission.VIEW)
actor = user.actor
st.title("My account")
st.caption(f"Signed in as {md(actor.email)} ({actor.role}).")
show_flash()

if user.must_change_password:
    st.warning("You signed in with a temporary password. Choose your own to continue.")

with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password")
    new = st.text_input(
        "New password", type="password", help=f"At least {auth.MIN_PASSWORD_LENGTH} characters."
    )
    repeat = st.text_input("Repeat the new password", type="password")
    submitted = st.form_submit_button("Change password", type="primary")

if submitted:
    if new != repeat:
        st.error("The two new passwords differ.")
    elif attempt(
        lambda s: auth.change_password(
            session=s,
            actor=actor,
            current=current,
            new=new,
            now=utc_now(),
            keep_session=user.session_id,
        )
    ):
        flash("Password changed.")
        st.rerun()
