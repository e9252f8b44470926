"""Per-page authorization. Navigation hides what a role cannot use; this refuses it regardless."""

from __future__ import annotations

import streamlit as st

from core.permissions import Actor, Permission
from ui.auth import current_actor


def require(permission: Permission = Permission.VIEW) -> Actor:
    """The signed-in user if they hold `permission`; otherwise stop the page with a message."""
    actor = current_actor()
    if actor is None:
        st.warning("Please sign in.")
        st.stop()
    if not actor.can(permission):
        st.error("Your role does not give access to this page. Ask an administrator.")
        st.stop()
    return actor
