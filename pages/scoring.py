"""Scores: how customers are scored, how good the predictions are, and a rescore button."""

from datetime import date
from typing import Any

import plotly.express as px
import streamlit as st

from core import scoring
from core.db import session_scope
from core.infra.money import format_cents
from core.permissions import Permission
from jobs import flows
from ui import context
from ui.flash import show_flash
from ui.guard import require
from ui.jobs import follow_job


def model_in_words(h: dict[str, Any]) -> str:
    """The holdout check as a marketer reads it."""
    said = (
        f"**Predicts next year's spend within {h['revenue_error']:.0%}** on the last "
        f"{h['days']} days: fitted without them, it expected "
        f"{format_cents(h['predicted_revenue_cents'], whole=True)} from {h['customers']:,} "
        f"customers, who spent {format_cents(h['actual_revenue_cents'], whole=True)}."
    )
    if h.get("per_customer_mae_cents") is not None:
        off = format_cents(h["per_customer_mae_cents"], whole=True)
        said += f" For a single customer it is off by {off} on average"
        if h.get("spend_correlation") is not None:
            said += (
                f"; predicted and actual spend go together (correlation "
                f"{h['spend_correlation']:.2f}, where 1 is perfect)"
            )
        said += "."
    return said + " The models: BG/NBD for purchases, Gamma-Gamma for spend."


actor = require(Permission.VIEW)
st.title("Customer scores")
st.caption(
    "Every customer gets a name from how recently, how often and how much they buy (RFM), a "
    "churn risk, and a prediction of what they will spend next year, learned from your own "
    "orders."
)
show_flash()
follow_job("scoring_job", done_message="Scores refreshed.")

with session_scope(read_only=True) as session:
    model = scoring.last_model(session=session)
    spread = scoring.distribution(session=session)
zone = context.store_zone()

if model is None:
    st.info("Customers have not been scored yet.")
else:
    h = model.holdout
    error = h.get("revenue_error") if h else None
    columns = st.columns(3)
    columns[0].metric(
        "Scored as of",
        f"{date.fromisoformat(model.as_of):%b %d, %Y}",
        help="The day of the latest order the scores include.",
    )
    segments = spread["rfm_segment"]
    waiting = segments.loc[segments["rfm_segment"] == scoring.NO_PURCHASES, "customers"].sum()
    columns[1].metric(
        "Customers scored",
        f"{model.customers_scored:,}",
        help="Customers with an order up to that day"
        + (
            f"; the {waiting:,} who have not bought yet are under “{scoring.NO_PURCHASES}”, "
            "with no prediction."
            if waiting
            else "."
        ),
    )
    columns[2].metric(
        "Spend predicted within",
        "—" if error is None else f"{error:.0%}",
        help=f"Fitted without the last {scoring.HOLDOUT_DAYS} days, the predictions were checked "
        "against what customers really spent then. Under 20% is good.",
    )
    if model.note:
        st.warning(model.note)
    if model.model != "rfm only" and (doubt := scoring.too_little_history(h)):
        st.info(f"Take the predictions with care: {doubt}")
    if error is not None:
        st.markdown(model_in_words(h))
    if model.typical_gap_days:
        st.caption(
            f"Churn risk: for customers who came back at least once, the purchase model's chance "
            f"they have stopped buying; for one-time buyers, how long they have been gone against "
            f"the {model.typical_gap_days:.0f} days repeat customers usually take. A customer's "
            "RFM name bounds it: “Lost” is always high risk, a recent buyer never is."
        )

    if not segments.empty:
        segments["Predicted value"] = segments["predicted_value_cents"] / 100
        order = [
            n
            for n in (*scoring.RFM_SEGMENT_NAMES, scoring.NO_PURCHASES)
            if n in set(segments["rfm_segment"])
        ]
        figure = px.bar(
            segments,
            x="rfm_segment",
            y="customers",
            category_orders={"rfm_segment": order},
            hover_data={"Predicted value": ":$,.0f"},
            labels={"rfm_segment": "RFM segment", "customers": "Customers"},
            title="Customers by RFM segment",
            color_discrete_sequence=["#8A1538"],
        )
        st.plotly_chart(figure, width="stretch")
    risk = spread["churn_risk"]
    if not risk.empty:
        left, right = st.columns(2)
        for column, (label, cents) in zip(
            (left, right),
            (
                ("Customers", "customers"),
                ("Predicted value next year ($)", "predicted_value_cents"),
            ),
            strict=True,
        ):
            data = risk.assign(value=risk[cents] / (100 if cents.endswith("cents") else 1))
            column.plotly_chart(
                px.pie(
                    data,
                    names="churn_risk",
                    values="value",
                    title=f"{label} by churn risk",
                    color="churn_risk",
                    hole=0.5,
                    color_discrete_map={"low": "#1b7f3b", "medium": "#b36b00", "high": "#b3261e"},
                ),
                width="stretch",
            )

if actor.can(Permission.EDIT_DATA):
    with st.form("rescore"):
        st.markdown("#### Rescore")
        left, right = st.columns(2)
        as_of = left.date_input(
            "Use orders up to",
            value=None,
            max_value=context.store_today(),
            help="Blank: up to the latest order.",
        )
        horizon = right.number_input("Predict value for (days)", 30, 1095, scoring.HORIZON_DAYS, 30)
        if st.form_submit_button(
            "Rescore now", type="primary", disabled="scoring_job" in st.session_state
        ):
            st.session_state["scoring_job"] = flows.rescore(
                actor=actor, as_of=as_of, horizon_days=int(horizon)
            )
            st.rerun()
    st.caption("Scores also refresh after every import and each night at 3:00.")
