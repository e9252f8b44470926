"""The script st.App runs on every interaction: sign-in, sidebar, and navigation by role.

st.navigation is called on every run, signed in or not: with a pages/ folder present, a run that
stopped before it would fall back to serving pages/*.py to anyone.
"""

import streamlit as st

from core.db import session_scope
from core.infra import logs
from core.store_profile import get_store_profile
from ui import auth, navigation, runtime
from ui.context import test_mode_banner

st.set_page_config(page_title="Last Call", page_icon="🥃", layout="wide")
runtime.prepare_current()
logs.request_id.set(logs.new_id())

if not auth.has_users():
    page = st.navigation(
        [st.Page(auth.setup_page, title="Set up", url_path="setup")], position="hidden"
    )
else:
    user = auth.current_user()
    if user is None:
        page = st.navigation(navigation.signed_out_navigation(auth.login_page), position="hidden")
    else:
        with session_scope(read_only=True) as session:
            store_name = get_store_profile(session=session).name
        with st.sidebar:
            st.markdown(f"### :material/liquor: {store_name}")
            st.caption(f"{user.name} · {user.role}")
        page = st.navigation(  # every section shown: Settings (Compliance, Store profile) too
            navigation.navigation_for(user.actor, must_change_password=user.must_change_password),
            expanded=True,
        )
        with st.sidebar:
            if st.button("Sign out", icon=":material/logout:", width="stretch"):
                auth.sign_out()
                st.rerun()
            auth.cookie_exchange()
        test_mode_banner()
page.run()
