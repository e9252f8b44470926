"""Scores: how customers are scored, how good the predictions are, and a rescore button."""

from datetime import timedelta

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

actor = require(Permission.VIEW)
st.title("Customer scores")
st.caption(
    "Every customer gets RFM scores (recency, frequency, spend: 1–5 each) and a named segment; "
    "where there is enough history, a purchase model (BG/NBD) estimates the chance they are "
    "still a customer and a spend model (Gamma-Gamma) their value over the next year."
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
    columns = st.columns(4)
    columns[0].metric("Scored as of", model.as_of)
    columns[1].metric("Customers scored", f"{model.customers_scored:,}")
    columns[2].metric("Model", model.model)
    error = model.holdout.get("revenue_error") if model.holdout else None
    columns[3].metric(
        f"Error on the last {scoring.HOLDOUT_DAYS} days",
        "—" if error is None else f"{error:.1%}",
        help="Fitted without the last 90 days, the model predicted that period's revenue; this "
        "is how far off it was. Under 20% is good.",
    )
    if model.note:
        st.warning(model.note)
    if model.model != "rfm only" and (doubt := scoring.too_little_history(model.holdout)):
        st.info(f"Take the predictions with care: {doubt}")
    if model.holdout:
        h = model.holdout
        predicted = format_cents(h["predicted_revenue_cents"], whole=True)
        actual = format_cents(h["actual_revenue_cents"], whole=True)
        per_customer = []
        if h.get("per_customer_mae_cents") is not None:
            mae = format_cents(h["per_customer_mae_cents"])
            per_customer.append(f"off by {mae} per customer on average")
        if h.get("spend_correlation") is not None:
            per_customer.append(
                f"correlation of predicted and actual spend {h['spend_correlation']:.2f}"
            )
        st.caption(
            f"Holdout: predicted {predicted} from {h['customers']:,} customers, actual {actual}; "
            f"{h['predicted_purchase_days']:,.0f} purchase days predicted, "
            f"{h['actual_purchase_days']:,} actual"
            + (f"; {', '.join(per_customer)}." if per_customer else ".")
        )

    segments = spread["rfm_segment"]
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
        yesterday = context.store_today() - timedelta(days=1)
        left, right = st.columns(2)
        as_of = left.date_input("Use orders up to", value=yesterday, max_value=yesterday)
        horizon = right.number_input("Predict value for (days)", 30, 1095, scoring.HORIZON_DAYS, 30)
        if st.form_submit_button(
            "Rescore now", type="primary", disabled="scoring_job" in st.session_state
        ):
            st.session_state["scoring_job"] = flows.rescore(
                actor=actor, as_of=as_of, horizon_days=int(horizon)
            )
            st.rerun()
    st.caption("Scores also refresh after every import and each night at 3:00.")
