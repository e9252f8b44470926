"""A campaign's figures as the Campaigns cards and a campaign's page show them: counts from the
outbox and the providers' events, rates of what went out, and test mode said where it applies."""

from __future__ import annotations

import streamlit as st

from core.infra.money import format_cents
from core.messaging.monitor import Figures


def campaign_figures(fared: Figures, *, detailed: bool = False) -> None:
    """Targeted, sent, delivered, opened, clicked (and with `detailed`: queued, unsubscribed,
    bounced, failed, stopped by the rules), and the cost. Rates are of the messages sent; before
    any went out they are absent (a dash), never 0%."""

    def share(part: int) -> str | None:
        rate = fared.rate(part)
        return None if rate is None else f"{rate:.0%} of sent"

    sent_label = "Sent (test mode)" if fared.test_mode else "Sent"
    row = st.columns(5)
    row[0].metric("Targeted", f"{fared.targeted:,}")
    row[1].metric(sent_label, f"{fared.sent:,}")
    only_test = fared.sent and fared.sent == fared.sent_in_test_mode
    for column, label, count in (
        (row[2], "Delivered", fared.delivered),
        (row[3], "Opened", fared.opened),
        (row[4], "Clicked", fared.clicked),
    ):
        if only_test:  # the sandbox delivers nothing: there is nothing to measure
            column.metric(
                label, "—", "not measured in test mode", delta_color="off", delta_arrow="off"
            )
        else:
            column.metric(label, f"{count:,}", share(count), delta_color="off", delta_arrow="off")
    if detailed:
        row = st.columns(5)
        row[0].metric("Waiting to send", f"{fared.queued:,}")
        row[1].metric("Unsubscribed", f"{fared.unsubscribed:,}")
        row[2].metric("Bounced", f"{fared.bounced:,}")
        row[3].metric("Failed", f"{fared.failed:,}")
        row[4].metric("Stopped by the rules", f"{fared.stopped:,}")
    cost = format_cents(round(fared.cost_cents))
    if fared.test_mode:
        st.caption(
            f"Test mode: {fared.sent_in_test_mode:,} of the messages sent went to the sandbox "
            "and never left this app; nothing was delivered or paid for."
        )
    else:
        st.caption(f"Sending cost so far: {cost}")
