"""Who a row of a file is: one identity rule for every import, in one file or many, in batches of
any size.

In order: our own id (`lastcall_id`, from a Last Call export) names exactly that customer (unless
they were erased: an old export does not bring a person back into their anonymous row); else
the file's customer ID (even a deleted customer's: they are told to restore, not duplicated);
else the oldest live customer with the same email; else with the same phone. A match never
overwrites a *different* non-empty email or customer ID: that is another person.

- A phone shared with a customer who has another email (or another customer ID) is a household:
  the row becomes a new customer, and the report says whom it shares the phone with.
- An email held by a customer with another customer ID is a conflict: reported, not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from core.db import table_of
from core.infra import bulk
from core.models import Customer


@dataclass(frozen=True)
class Matches:
    customer_id: pd.Series
    """The existing customer each row is (Int64; <NA>: a new customer, or a conflict)."""
    conflict: pd.Series
    """Why a row cannot be applied (object; <NA> when it can)."""
    shares_phone_with: pd.Series
    """For a new customer: the existing customer whose phone it shares (Int64), a household."""


def match_customers(session: Session, rows: pd.DataFrame) -> pd.Series:
    """Each row's existing customer id, or <NA> (see `identify`)."""
    return identify(session, rows).customer_id


def identify(session: Session, rows: pd.DataFrame) -> Matches:
    """Apply the module's rule to `rows` (columns external_id, email, phone, and optionally
    lastcall_id; missing values as <NA>)."""
    c = table_of(Customer).c
    index = rows.index
    external = _column(rows, "external_id")
    email, phone = _column(rows, "email"), _column(rows, "phone")
    found = pd.Series(pd.NA, index=index, dtype="Int64")
    conflict = pd.Series(pd.NA, index=index, dtype="object")
    shares = pd.Series(pd.NA, index=index, dtype="Int64")

    if "lastcall_id" in rows:
        ours = rows["lastcall_id"].astype("Int64")
        known = bulk.lookup(
            session, c.id, [int(i) for i in ours.dropna()], [], c.erased_at.is_(None)
        )
        found = ours.where(ours.isin(set(known["key"].tolist())))

    by_id = bulk.lookup(session, c.external_id, external.dropna().tolist(), [c.id])
    found = found.fillna(external.map(dict(zip(by_id["key"], by_id["id"], strict=True))))

    asking = pd.DataFrame({"row": index, "email": email, "phone": phone, "external_id": external})
    open_rows = found.isna() & email.notna()
    by_email, clash = _oldest_compatible(session, c.email, asking[open_rows], by="email")
    found = found.fillna(by_email.reindex(index))
    clash = clash.reindex(index)
    clash = clash.where(found.isna())
    conflict[clash.notna()] = (
        "the email belongs to customer #" + clash.dropna().astype(str) + ", who has another "
        "customer ID: not applied"
    )
    open_rows = found.isna() & conflict.isna() & phone.notna()
    by_phone, household = _oldest_compatible(session, c.phone, asking[open_rows], by="phone")
    found = found.fillna(by_phone.reindex(index))
    shares = household.reindex(index).where(found.isna())
    return Matches(found.astype("Int64"), conflict, shares.astype("Int64"))


def _oldest_compatible(
    session: Session, key: Any, asking: pd.DataFrame, *, by: str
) -> tuple[pd.Series, pd.Series]:
    """For each asking row (by its `row`), the oldest live customer with the same `by` value
    whose other identity fields do not contradict the row's, and, where there is none, the
    oldest customer that holds the value anyway (whom the row is not)."""
    empty = pd.Series(dtype="Int64")
    if asking.empty:
        return empty, empty
    c = table_of(Customer).c
    holders = bulk.lookup(
        session, key, asking[by].tolist(), [c.id, c.email, c.external_id], c.deleted_at.is_(None)
    ).rename(columns={"key": by, "email": "their_email", "external_id": "their_id"})
    if by == "email":
        holders = holders.drop(columns="their_email")
    pairs = asking.merge(holders, on=by).sort_values("id")
    compatible = pairs["their_id"].isna() | pairs["external_id"].isna()
    if by == "phone":
        compatible &= pairs["their_email"].isna() | pairs["email"].isna()
    oldest = pairs[compatible].drop_duplicates("row").set_index("row")["id"].astype("Int64")
    other = pairs[~compatible].drop_duplicates("row").set_index("row")["id"].astype("Int64")
    return oldest, other.drop(oldest.index, errors="ignore")


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name not in rows:
        return pd.Series(pd.NA, index=rows.index, dtype="object")
    return rows[name].astype("object").where(rows[name].notna())
