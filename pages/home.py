"""Home: the store at a glance, or the first steps when the store is empty."""

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.express as px
import streamlit as st

from core import analytics, customers
from core.config import get_settings
from core.db import session_scope
from core.infra.money import format_cents
from core.permissions import Permission
from jobs import flows
from ui import context
from ui.flash import show_flash
from ui.formatting import md
from ui.guard import require
from ui.jobs import follow_job

actor = require(Permission.VIEW)

store = context.store()
today = context.store_today()
with session_scope(read_only=True) as session:
    has_customers = customers.count_customers(session=session) > 0

st.title(md(store.name))
show_flash()
follow_job("demo_job", done_message="The demo store is ready.")


@st.cache_data(ttl=60, show_spinner="Counting…")
def load_overview(database_url: str, today: date, zone: str) -> analytics.Overview:
    with session_scope(read_only=True) as session:
        return analytics.overview(session=session, today=today, zone=ZoneInfo(zone))


@st.cache_data(ttl=300, show_spinner="Drawing the year…")
def load_weekly(database_url: str, today: date, zone: str) -> pd.DataFrame:
    with session_scope(read_only=True) as session:
        return analytics.weekly_revenue(session=session, today=today, zone=ZoneInfo(zone))


if not has_customers and st.session_state.get("demo_job"):
    st.caption(
        "Loading the demo store: customers, a year of orders, then scores and segments. "
        "This page shows it when it is ready."
    )
    st.stop()
if not has_customers:
    st.subheader("Let's get your store going")
    st.write(
        "Last Call scores your customers, suggests who to talk to this week, and sends the "
        "emails and texts — inside the rules for alcohol marketing."
    )
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("#### Try it with a demo store")
        st.caption(
            f"{get_settings().demo_customers:,} customers, 80 products and a year of orders with "
            "real holiday patterns. "
            "Demo addresses are on example.com, so nothing can reach a real person."
        )
        if actor.can(Permission.EDIT_DATA):
            if st.button("Load demo store", type="primary"):
                st.session_state["demo_job"] = flows.load_demo(user_id=actor.user_id)
                st.rerun()
        else:
            st.info("Ask a marketer or administrator to load data.")
    with right, st.container(border=True):
        st.markdown("#### Bring your own customers")
        st.caption("Import customers and orders from your point-of-sale as CSV or Excel files.")
        st.page_link("pages/customers.py", label="Go to Customers", icon=":material/group:")
    st.stop()

url = get_settings().database_url
overview = load_overview(url, today, store.timezone)
columns = st.columns(4)
change = overview.revenue_change
columns[0].metric(
    f"Revenue, last {overview.days} days",
    format_cents(overview.revenue_cents, whole=True),
    delta=None if change is None else f"{change:+.1%} vs previous {overview.days} days",
)
columns[1].metric(
    f"Orders, last {overview.days} days",
    f"{overview.orders:,}",
    delta=f"{overview.orders - overview.orders_before:+,}",
)
average_change = overview.average_order_change
columns[2].metric(
    "Average order",
    format_cents(overview.average_order_cents),
    delta=None
    if average_change is None
    else f"{average_change:+.1%} vs previous {overview.days} days",
)
columns[3].metric(
    "Customers",
    f"{overview.customers:,}",
    delta=f"{overview.new_customers:+,} new",
)
columns = st.columns(4)
columns[0].metric(f"Shoppers, last {overview.days} days", f"{overview.active_customers:,}")
columns[1].metric("Reachable by email", f"{overview.email_reachable:,}")
columns[2].metric("Reachable by text", f"{overview.sms_reachable:,}")

weekly = load_weekly(url, today, store.timezone)
if not weekly.empty:
    figure = px.bar(
        weekly,
        x="week",
        y="revenue",
        color="category",
        title="Weekly revenue by category, last 12 months",
        labels={"week": "Week starting", "revenue": "Revenue ($)", "category": "Category"},
        color_discrete_sequence=px.colors.qualitative.Safe,
    )
    figure.update_layout(legend_title_text="", margin={"t": 60, "l": 10, "r": 10, "b": 10})
    st.plotly_chart(figure, width="stretch")
