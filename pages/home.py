"""Home: the store at a glance, or the first steps when the store is empty."""

from datetime import date, timedelta
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
change = overview.revenue_change
average_change = overview.average_order_change
versus = f"vs previous {overview.days} days"
figures = [  # label, value, change, what the change is against
    (
        f"Revenue, last {overview.days} days",
        format_cents(overview.revenue_cents, whole=True),
        None if change is None else f"{change:+.1%}",
        versus,
    ),
    (
        f"Orders, last {overview.days} days",
        f"{overview.orders:,}",
        f"{overview.orders - overview.orders_before:+,}",
        versus,
    ),
    (
        "Average order",
        format_cents(overview.average_order_cents) if overview.orders else "—",
        None if average_change is None else f"{average_change:+.1%}",
        versus,
    ),
    (
        "Customers",
        f"{overview.customers:,}",
        f"{overview.new_customers:+,} new",
        f"in the last {overview.days} days",
    ),
    (f"Shoppers, last {overview.days} days", f"{overview.active_customers:,}", None, None),
    ("Reachable by email", f"{overview.email_reachable:,}", None, None),
    ("Reachable by text", f"{overview.sms_reachable:,}", None, None),
]
if context.on_phone():
    # Two figures a row, the chart right after them (columns would stack all seven).
    with st.container(horizontal=True, gap="small"):
        for label, value, delta, _against in figures:
            st.metric(label, value, delta=delta, width=165)
    st.caption(
        f"Changes are against the previous {overview.days} days; new customers joined in "
        f"the last {overview.days}."
    )
else:
    for start in range(0, len(figures), 4):
        for column, (label, value, delta, against) in zip(
            st.columns(4), figures[start : start + 4], strict=False
        ):
            column.metric(label, value, delta=delta, delta_description=against)

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
    figure.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "title_text": ""},
        margin={"t": 60, "l": 10, "r": 10, "b": 10},
    )
    st.plotly_chart(figure, width="stretch")
    this_week = today - timedelta(days=today.weekday())
    if pd.Timestamp(weekly["week"].max()) == pd.Timestamp(this_week):
        st.caption(f"The last bar is this week so far (since Monday, {this_week:%b %d}).")
    # Small categories are slivers in the bars: their year in figures.
    year = weekly.groupby("category", as_index=False)["revenue"].sum()
    year = year.sort_values("revenue", ascending=False)
    year["share"] = year["revenue"] / year["revenue"].sum()
    year["revenue"] = year["revenue"].round()
    st.dataframe(
        year,
        hide_index=True,
        width="stretch",
        column_config={
            "category": "Category",
            "revenue": st.column_config.NumberColumn("Revenue, 12 months", format="$%,.0f"),
            "share": st.column_config.ProgressColumn(
                "Share", format="percent", min_value=0, max_value=1
            ),
        },
    )
