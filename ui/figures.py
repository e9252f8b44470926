"""A campaign's figures as the Campaigns cards and a campaign's page show them: counts from the
outbox and the providers' events, rates of what went out, and test mode said where it applies;
then what it earned: revenue by code and by window, lift over its control group, cost, ROI."""

from __future__ import annotations

import streamlit as st

from core.attribution import MODEL_LABELS, Model, Results, format_roi
from core.infra.money import format_cents, format_dollars
from core.messaging.monitor import Figures
from ui.charts import funnel_figure


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


def orders_text(orders: float) -> str:
    """Orders credited: whole unless the linear model split some ("2.5 orders")."""
    if not orders:
        return "no orders"
    shown = f"{orders:,.0f}" if float(orders).is_integer() else f"{orders:,.1f}"
    return f"{shown} order{'' if orders == 1 else 's'}"


def incremental_text(results: Results) -> str:
    """What the campaign added, "$4,120 ±$1,300", or why that is not measured."""
    lift = results.lift
    if lift is None:
        return "no control group"
    incremental = lift.incremental
    return incremental.in_dollars() if incremental else lift.unmeasured or ""


def results_line(results: Results) -> str | None:
    """One line for a card: revenue by code and window, and the lift when measured; None until
    a message really went out."""
    if not results.figures.went_out:
        return None
    revenue = results.revenue
    said = (
        f"Revenue {format_dollars(revenue.code_cents)} by offer code · "
        f"{format_dollars(revenue.window_cents)} in the attribution window"
    )
    if results.lift and results.lift.incremental:
        said += f" · incremental {incremental_text(results)}"
    return said


def campaign_results(results: Results, model: Model) -> None:
    """Revenue (code-matched apart from windowed), incremental lift with its sentence, cost
    (sending and the discounts redeemed), ROI, and the funnel from targeted to purchased."""
    fared = results.figures
    if not fared.went_out:
        st.caption(
            "What it earned is measured once its messages really go out"
            + (": in test mode nothing reaches a customer." if fared.test_mode else ".")
        )
        return
    revenue, lift = results.revenue, results.lift
    incremental = lift.incremental if lift else None
    cards: list[tuple[str, str, str]] = [
        (
            "Revenue by offer code",
            format_dollars(revenue.code_cents),
            f"{orders_text(revenue.code_orders)} redeemed",
        ),
        (
            "Revenue in the window",
            format_dollars(revenue.window_cents),
            f"{orders_text(revenue.window_orders)} · {MODEL_LABELS[model].lower()}",
        ),
        (
            ("Incremental revenue", "—", incremental_text(results))
            if incremental is None
            else (
                "Incremental revenue",
                format_dollars(incremental.difference),
                f"±{format_dollars(incremental.margin)} (95 %)",
            )
        ),
        (
            ("Return on cost", "—", "no cost recorded")
            if results.roi is None
            else (
                "Return on cost",
                format_roi(results.roi),
                f"on {results.roi_basis} · cost {format_cents(round(results.cost_cents))}",
            )
        ),
    ]
    for column, (label, value, note) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(label, value, note, delta_color="off", delta_arrow="off")
    if lift is not None:
        treated, control = lift.treated_conversion, lift.control_conversion
        st.markdown(f"**{lift.sentence()}**")
        st.caption(
            f"{lift.treated:,} customers messaged, {lift.control:,} kept back as the control "
            f"group; bought in the period: {treated or 0:.1%} of the messaged, "
            f"{control or 0:.1%} of the control group."
        )
    else:
        st.caption("No control group was kept back, so what the campaign added is not measured.")
    stages = [
        ("Targeted", fared.targeted),
        ("Sent", fared.sent),
        ("Delivered", fared.delivered),
        ("Opened", fared.opened),
        ("Clicked", fared.clicked),
        ("Bought (attributed orders)", revenue.code_orders + revenue.window_orders),
    ]
    st.plotly_chart(funnel_figure(stages), width="stretch")
