"""Per-page authorization. Navigation hides what a role cannot use; this refuses it regardless."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st

from core.auth import SignedIn
from core.permissions import Actor, Permission
from ui.auth import current_user


def require_user(permission: Permission = Permission.VIEW) -> SignedIn:
    """The signed-in user if they hold `permission`; otherwise stop the page with a message."""
    user = current_user()
    if user is None:
        st.warning("Please sign in.")
        st.stop()
    if not user.actor.can(permission):
        st.error("Your role does not give access to this page. Ask an administrator.")
        st.stop()
    return user


def require(permission: Permission = Permission.VIEW) -> Actor:
    """`require_user`, for pages that need only who is acting."""
    return require_user(permission).actor


P = ParamSpec("P")


def live(run_every: float) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """`st.fragment(run_every=…)` for a live panel that stops once its session has ended (signed
    out elsewhere, deactivated, idle): a refresh reruns only the panel, not the frame that checks
    the session, so the panel checks it itself — without counting as the user being active."""

    def wrap(body: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(body)
        def checked(*args: P.args, **kwargs: P.kwargs) -> None:
            if current_user(activity=False) is None:
                st.rerun(scope="app")
            body(*args, **kwargs)

        return st.fragment(run_every=run_every)(checked)

    return wrap
