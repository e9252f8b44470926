"""What every page needs to know about the store it shows: its profile and time zone, read once
a minute (the Store profile page clears the copy when it saves)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import streamlit as st

from core.config import get_settings
from core.db import session_scope, utc_now
from core.messaging import routing
from core.store_profile import StoreProfile, get_store_profile


@st.cache_data(ttl=60, show_spinner=False)
def _profile(database_url: str) -> StoreProfile:
    with session_scope(read_only=True) as session:
        return get_store_profile(session=session)


def store() -> StoreProfile:
    return _profile(get_settings().database_url)


def store_zone() -> ZoneInfo:
    return store().zone


def store_today() -> date:
    """Today in the store's time zone."""
    return utc_now().astimezone(store_zone()).date()


def on_phone() -> bool:
    """Whether the browser says it is a phone (the page cannot see the screen's width; the
    browser's User-Agent says "Mobile" on phones, not on tablets or desktops)."""
    return "Mobile" in st.context.headers.get("User-Agent", "")


CHANNEL_WORDS = {"email": "email", "sms": "texts"}


def test_mode_banner() -> None:
    """On every page while a channel goes through the sandbox: nothing really leaves."""
    sandboxed = [s for s in routing.channel_statuses(get_settings()) if s.test_mode]
    if not sandboxed:
        return
    said = "; ".join(
        f"{CHANNEL_WORDS[s.channel.value]} {'is' if s.channel.value == 'email' else 'are'} "
        f"not really sent ({s.hint})"
        for s in sandboxed
    )
    st.warning(
        f"**Test mode**: {said}. Messages are written and counted as “sent (test mode)”. "
        "Store profile shows each channel's status.",
        icon=":material/science:",
    )
