"""A page that is on the roadmap says what it will do, instead of being missing."""

from __future__ import annotations

import streamlit as st


def coming_soon(title: str, summary: str, features: list[str]) -> None:
    st.title(title)
    st.write(summary)
    with st.container(border=True):
        st.markdown("**Coming in the next releases**")
        st.markdown("\n".join(f"- {feature}" for feature in features))
    st.page_link("pages/home.py", label="Back to Home", icon=":material/home:")
