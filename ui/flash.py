"""One-time messages that survive a rerun: save, `st.rerun()` so forms redraw with the saved
values, then say what happened."""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["success", "info", "warning"]
FLASH_KEY = "flash"


def flash(message: str, kind: Kind = "success") -> None:
    st.session_state[FLASH_KEY] = (kind, message)


def show_flash() -> None:
    if entry := st.session_state.pop(FLASH_KEY, None):
        kind, message = entry
        getattr(st, kind)(message)
