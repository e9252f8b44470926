"""Tables of customers as the pages show them."""

from __future__ import annotations

import io
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import pandas as pd

from core.customers import CustomerFilter
from core.customers.exports import export_customers
from core.db import session_scope, utc_now
from core.infra.money import format_cents
from core.models import Customer
from core.permissions import Actor
from ui.formatting import phone, when


def customer_table(rows: Iterable[Customer], zone: ZoneInfo) -> pd.DataFrame:
    """One row per customer with the id (hide it, use it for selections) and what a marketer
    scans for: contact, spend, risk and whether they can be reached."""
    return pd.DataFrame(
        [
            {
                "id": c.id,
                "Name": c.full_name or "—",
                "Email": c.email or "",
                "Phone": phone(c.phone),
                "City": c.city,
                "ZIP": c.zip,
                "Orders": c.order_count,
                "Spent": format_cents(c.total_spent_cents, whole=True),
                "Last order": when(c.last_order_at, zone),
                "Churn risk": (c.churn_risk or "—").title(),
                "Email ok": c.can_email,
                "SMS ok": c.can_text,
                "Customer since": when(c.created_at, zone),
            }
            for c in rows
        ],
        columns=[
            "id",
            "Name",
            "Email",
            "Phone",
            "City",
            "ZIP",
            "Orders",
            "Spent",
            "Last order",
            "Churn risk",
            "Email ok",
            "SMS ok",
            "Customer since",
        ],
    )


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
        today=utc_now().date(),
    )
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()
