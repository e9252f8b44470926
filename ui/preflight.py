"""A campaign's pre-flight report on screen: the builder's review and the Compliance page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.campaigns.preflight import Preflight

CHANNEL_NAMES = {"email": "Email", "sms": "Text"}


def show_preflight(report: Preflight) -> None:
    """The sentence, then each channel's eligible and excluded customers by rule."""
    st.markdown(f"**Pre-flight:** {report.sentence()}.")
    reasons = sorted({why for check in report.channels for why in check.excluded})
    columns = {CHANNEL_NAMES[c.channel]: c for c in report.channels}
    rows = [
        {"": "Eligible", **{name: f"{c.eligible:,}" for name, c in columns.items()}},
        *(
            {"": why, **{name: f"{c.excluded.get(why, 0):,}" for name, c in columns.items()}}
            for why in reasons
        ),
    ]
    if any(c.channel == "sms" for c in report.channels):
        rows.append(
            {
                "": "Deferred past quiet hours (sent when their window opens)",
                **{
                    name: f"{c.deferred:,}" if c.channel == "sms" else "—"
                    for name, c in columns.items()
                },
            }
        )
    with st.expander("By channel and rule"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            "Each customer is counted under the first rule that keeps them from a channel: 21+ "
            "with a date of birth on file, an address, consent, not suppressed; texts also need "
            "a US number (not Canadian) and, in Washington, a recorded consent. The same rules "
            "are checked again right before every message is sent."
        )
