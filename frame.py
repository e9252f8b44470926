"""The script st.App runs on every interaction: sign-in, sidebar, and navigation by role.

st.navigation is called on every run, signed in or not: with a pages/ folder present, a run that
stopped before it would fall back to serving pages/*.py to anyone.
"""

import streamlit as st

from core.db import session_scope
from core.infra import logs
from core.store_profile import get_store_profile
from ui import auth, navigation, runtime

st.set_page_config(page_title="Last Call", page_icon="🥃", layout="wide")
runtime.prepare_current()
logs.request_id.set(logs.new_id())

if not auth.has_users():
    page = st.navigation(
        [st.Page(auth.setup_page, title="Set up", url_path="setup")], position="hidden"
    )
else:
    authenticator, credentials = auth.build_authenticator()
    auth.resume_from_cookie(authenticator)
    actor = auth.current_actor()
    if actor is not None and not auth.keep_alive(authenticator):
        actor = None
    elif actor is None and st.session_state.get("authentication_status"):
        auth.sign_out(authenticator, "Your account is no longer active.")
    if actor is None:
        page = st.navigation(
            [
                st.Page(
                    lambda: auth.login_page(authenticator, credentials),
                    title="Sign in",
                    url_path="login",
                )
            ],
            position="hidden",
        )
    else:
        with session_scope(read_only=True) as session:
            store_name = get_store_profile(session=session).name
        with st.sidebar:
            st.markdown(f"### :material/liquor: {store_name}")
            st.caption(f"{st.session_state.get('name')} · {actor.role}")
        must_change = bool(st.session_state.get("must_change_password"))
        page = st.navigation(navigation.navigation_for(actor, must_change_password=must_change))
        with st.sidebar:
            if st.button("Sign out", icon=":material/logout:", width="stretch"):
                auth.sign_out(authenticator)
                st.rerun()
page.run()
