"""Who a row of a file is: the customer it names by customer ID, else by email, else by phone."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from core.db import table_of
from core.infra import bulk
from core.models import Customer


def match_customers(session: Session, rows: pd.DataFrame) -> pd.Series:
    """Each row's existing customer id (or <NA>): the same customer ID, even if deleted; else the
    oldest live customer with the same email; else with the same phone. A customer who carries a
    different customer ID is another person sharing the address (a household): no match."""
    c = table_of(Customer).c
    by_id = bulk.lookup(session, c.external_id, rows["external_id"].tolist(), [c.id])
    found = rows["external_id"].map(dict(zip(by_id["key"], by_id["id"], strict=True)))
    for key in ("email", "phone"):
        live = bulk.lookup(
            session, c[key], rows[key].tolist(), [c.id, c.external_id], c.deleted_at.is_(None)
        )
        live = live.sort_values("id")
        oldest = live.drop_duplicates("key").set_index("key")["id"]
        oldest_without_id = (
            live[live["external_id"].isna()].drop_duplicates("key").set_index("key")["id"]
        )
        open_rows = found.isna()
        candidate = (
            rows[key]
            .map(oldest)
            .where(rows["external_id"].isna(), rows[key].map(oldest_without_id))
        )
        found = found.where(~open_rows, candidate)
    return found.astype("Int64")
