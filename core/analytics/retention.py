"""Who stays: monthly acquisition cohorts and their retention, churn month by month, and the
revenue each segment stands to lose to customers at high churn risk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.analytics.kpis import churn_counts
from core.analytics.periods import Period, day_start
from core.analytics.snapshots import (
    churn_from_json,
    churn_key,
    cohorts_key,
    frame_from_json,
    frame_to_json,
    recalled,
)
from core.attribution import data_stamp
from core.infra.sql import month_index
from core.models import Customer, Order, Segment, SegmentMember

MONTHS = 12
"""How many months of cohorts and churn the dashboard shows."""
AT_RISK = "high"
"""The churn-risk band (scoring) whose customers' spending is counted as revenue at risk."""


def month_start(day: date, back: int = 0) -> date:
    """The first day of `day`'s month, `back` months earlier."""
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class Cohorts:
    sizes: pd.DataFrame
    """Per cohort (the month of a customer's first order): customers, revenue_cents (all their
    orders up to today), revenue_per_customer_cents."""
    retention: pd.DataFrame
    """Share of each cohort ordering in each later month: rows are cohorts, columns are months
    since the first (0, 1, 2 …); months that have not happened yet are empty, not 0."""


def cohorts(
    *, session: Session, today: date, zone: ZoneInfo, now: datetime, months: int = MONTHS
) -> Cohorts:
    """The last `months` monthly cohorts, the current month's included (kept for the state of
    the data, `cache`)."""
    return recalled(
        session,
        cohorts_key(today, zone, months),
        data_stamp(session, now),
        lambda: compute_cohorts(session, today, zone, months),
        cohorts_from_json,
    )


def compute_cohorts(session: Session, today: date, zone: ZoneInfo, months: int) -> Cohorts:
    """Customers are placed by their first order (`customers.first_order_at`, kept by every
    write of orders), and the database counts each cohort's buyers and revenue per month."""
    since = day_start(month_start(today, months - 1), zone)
    until = day_start(today + timedelta(days=1), zone)
    cohort = month_index(Customer.first_order_at, zone.key)
    month = month_index(Order.ordered_at, zone.key)
    rows = session.execute(
        select(
            cohort,
            month,
            func.count(func.distinct(Order.customer_id)),
            func.sum(Order.total_cents),
        )
        .select_from(Customer)
        .join(Order, Order.customer_id == Customer.id)
        .where(
            Customer.first_order_at >= since,
            Customer.first_order_at < until,
            Order.ordered_at < until,
        )
        .group_by(cohort, month)
    ).all()
    found = pd.DataFrame(
        rows, columns=["cohort", "month", "customers", "revenue_cents"], dtype="int64"
    )
    if found.empty:
        return Cohorts(
            sizes=pd.DataFrame(
                columns=["cohort", "customers", "revenue_cents", "revenue_per_customer_cents"]
            ),
            retention=pd.DataFrame(columns=range(months)),
        )
    found["offset"] = found["month"] - found["cohort"]
    sizes = pd.DataFrame(
        {
            # Everyone orders in the month of their first order: its buyers are the cohort.
            "customers": found[found["offset"] == 0].groupby("cohort")["customers"].sum(),
            "revenue_cents": found.groupby("cohort")["revenue_cents"].sum(),
        }
    ).fillna(0)
    sizes["revenue_per_customer_cents"] = sizes["revenue_cents"] / sizes["customers"]
    active = found.pivot_table(
        index="cohort", columns="offset", values="customers", aggfunc="sum", fill_value=0
    )
    current = today.year * 12 + today.month - 1
    all_offsets = range(months)
    retention = active.reindex(columns=all_offsets, fill_value=0).astype("float64")
    for row in retention.index:
        retention.loc[row, [o for o in all_offsets if row + o > current]] = float("nan")
    retention = retention.div(sizes["customers"], axis=0)
    labels = {m: date(m // 12, m % 12 + 1, 1) for m in sizes.index}
    sizes = sizes.rename(index=labels).rename_axis("cohort").reset_index()
    retention = retention.rename(index=labels).rename_axis(index="cohort", columns="month")
    return Cohorts(
        sizes=sizes.astype({"customers": "int64", "revenue_cents": "int64"}), retention=retention
    )


def churn_by_month(
    *, session: Session, today: date, zone: ZoneInfo, now: datetime, months: int = MONTHS
) -> pd.DataFrame:
    """Churn in each of the last `months` months (the current one so far), as the dashboard
    counts it (`kpis.CHURN_DAYS`); each month kept for the state of the data (`cache`).

    Returns:
        Columns: month (its first day), churn_base, churned, churn_rate (None without a base).
    """
    return recalled(
        session,
        churn_key(today, zone, months),
        data_stamp(session, now),
        lambda: compute_churn_by_month(session, today, zone, months),
        churn_from_json,
    )


def compute_churn_by_month(
    session: Session, today: date, zone: ZoneInfo, months: int
) -> pd.DataFrame:
    found = []
    for back in range(months - 1, -1, -1):
        period = Period(
            month_start(today, back), min(month_start(today, back - 1) - timedelta(days=1), today)
        )
        base, churned = churn_counts(session=session, period=period, zone=zone)
        found.append((period.first, base, churned, churned / base if base else None))
    return pd.DataFrame(found, columns=["month", "churn_base", "churned", "churn_rate"])


def cohorts_to_json(found: Cohorts) -> dict[str, Any]:
    return {"sizes": frame_to_json(found.sizes), "retention": frame_to_json(found.retention)}


def cohorts_from_json(value: dict[str, Any]) -> Cohorts:
    retention = frame_from_json(value["retention"], date_index=True).astype("float64")
    retention = retention.rename_axis(index="cohort", columns="month")
    return Cohorts(
        sizes=frame_from_json(value["sizes"], date_columns=("cohort",)), retention=retention
    )


def churn_by_segment(*, session: Session, today: date, zone: ZoneInfo) -> pd.DataFrame:
    """Each segment's members at high churn risk and what they spent in the last 12 months.

    Returns:
        Columns: segment, members, at_risk, at_risk_share (None for an empty segment),
        revenue_at_risk_cents; most revenue at risk first.
    """
    year_ago = day_start(today - timedelta(days=364), zone)
    spent = (
        select(Order.customer_id, func.sum(Order.total_cents).label("cents"))
        .where(Order.ordered_at >= year_ago)
        .group_by(Order.customer_id)
        .subquery()
    )
    risky = Customer.churn_risk == AT_RISK
    rows = session.execute(
        select(
            Segment.name,
            func.count(SegmentMember.customer_id),
            func.count(SegmentMember.customer_id).filter(risky),
            func.coalesce(func.sum(spent.c.cents).filter(risky), 0),
        )
        .select_from(Segment)
        .outerjoin(SegmentMember, SegmentMember.segment_id == Segment.id)
        .outerjoin(Customer, Customer.id == SegmentMember.customer_id)
        .outerjoin(spent, spent.c.customer_id == SegmentMember.customer_id)
        .group_by(Segment.id, Segment.name)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["segment", "members", "at_risk", "revenue_at_risk_cents"]
    ).astype({"members": "int64", "at_risk": "int64", "revenue_at_risk_cents": "int64"})
    frame["at_risk_share"] = [
        risk / n if n else None for risk, n in zip(frame["at_risk"], frame["members"], strict=True)
    ]
    return frame.sort_values(
        ["revenue_at_risk_cents", "segment"], ascending=[False, True], ignore_index=True
    )
