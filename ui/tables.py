"""Tables of customers as the pages show them."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.customers import CustomerFilter, CustomerPage
from core.customers.exports import export_customers
from core.db import session_scope
from core.infra.money import format_cents
from core.models import Channel
from core.permissions import Actor
from ui.context import on_phone, store_today
from ui.formatting import phone, when


def customer_table(page: CustomerPage, zone: ZoneInfo) -> pd.DataFrame:
    """One row per customer of `page` with the id (hide it, use it for selections) and what a
    marketer scans for: recency, spend, risk, whether they can be reached (by the rule campaigns
    use), and how."""
    return pd.DataFrame(
        [
            {
                "id": c.id,
                "Name": c.full_name or c.email or phone(c.phone) or f"Customer #{c.id}",
                "Last order": when(c.last_order_at, zone),
                "Orders": c.order_count,
                "Spent": format_cents(c.total_spent_cents, whole=True),
                "Churn risk": (c.churn_risk or "—").title(),
                "Can reach": " · ".join(CHANNEL_NAMES[ch] for ch in page.reach.get(c.id, []))
                or "—",
                "Email": c.email or "",
                "Phone": phone(c.phone),
                "City": c.city,
                "ZIP": c.zip,
                "Customer since": when(c.created_at, zone),
            }
            for c in page.customers
        ],
        columns=["id", *CUSTOMER_COLUMNS],
    )


CHANNEL_NAMES = {Channel.EMAIL: "Email", Channel.SMS: "SMS"}


CUSTOMER_COLUMNS: dict[str, Any] = {
    "Name": st.column_config.TextColumn(width=170, help="Click a name to open the profile"),
    "Last order": st.column_config.TextColumn(width=105),
    "Orders": st.column_config.NumberColumn(width=65),
    "Spent": st.column_config.TextColumn(width=80),
    "Churn risk": st.column_config.TextColumn(width=85),
    "Can reach": st.column_config.TextColumn(
        width=95, help="Marketing may go to them: 21+, consent given, not suppressed"
    ),
    "Email": st.column_config.TextColumn(width=240),
    "Phone": st.column_config.TextColumn(width=125),
    "City": st.column_config.TextColumn(width=110),
    "ZIP": st.column_config.TextColumn(width=60),
    "Customer since": st.column_config.TextColumn(width=110),
}
PHONE_COLUMNS = ["Name", "Last order", "Spent"]
"""What fits a phone's width: who, how recently, how much."""


def show_customers(table: pd.DataFrame, *, key: str, pick_rows: bool = False) -> list[int]:
    """The customers of `table` (from `customer_table`): a click on a name opens the profile;
    with `pick_rows`, rows can be ticked, and the ticked customers' ids are returned."""
    picked = st.dataframe(
        table,
        column_order=PHONE_COLUMNS if on_phone() else list(CUSTOMER_COLUMNS),
        column_config=CUSTOMER_COLUMNS,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode=["multi-row", "single-cell"] if pick_rows else "single-cell",
        key=key,
    )
    for row, column in picked.selection.cells:
        if column == "Name":
            opened = str(table.iloc[row]["id"])
            st.switch_page("pages/customer.py", query_params={"id": opened})
    return [int(table.iloc[row]["id"]) for row in picked.selection.rows]


def customers_csv(
    actor: Actor,
    filters: CustomerFilter,
    customer_ids: list[int] | None = None,
    *,
    bom: bool = True,
) -> bytes:
    """The export as a download: UTF-8, with a byte-order mark for Excel unless told not to
    (recorded in the audit log by core)."""
    buffer = io.StringIO()
    export_customers(
        unit_of_work=session_scope,
        actor=actor,
        out=buffer,
        filters=filters,
        customer_ids=customer_ids,
        today=store_today(),  # ages as of the store's day, not UTC's
    )
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()
