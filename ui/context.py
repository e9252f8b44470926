"""What every page needs to know about the store it shows: its profile and time zone, read once
a minute (the Store profile page clears the copy when it saves)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import streamlit as st

from core.config import get_settings
from core.db import session_scope, utc_now
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
