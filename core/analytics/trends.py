"""What the dashboard draws for a period: revenue over time, by category and by segment.

Orders are grouped by UTC hour in the database (a few thousand rows a year, whatever the volume)
and placed in the store's days, weeks or months with pandas.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.analytics.cache import cached
from core.analytics.periods import Bucket, Period, bucket_starts, local_days
from core.analytics.snapshots import categories_key, frame_from_json, recalled
from core.attribution import data_stamp
from core.infra.sql import hour_bucket
from core.models import Order, OrderItem, Segment, SegmentMember


def first_order_day(*, session: Session, zone: ZoneInfo) -> date | None:
    """The day the store's order history begins, in its time zone; None before any order."""
    first = session.execute(select(func.min(Order.ordered_at))).scalar_one()
    return None if first is None else first.astimezone(zone).date()


def revenue_trend(
    *, session: Session, period: Period, zone: ZoneInfo, bucket: Bucket, now: datetime
) -> pd.DataFrame:
    """Revenue and orders per bucket, every bucket of the period present (a bucket without
    orders made $0).

    Returns:
        Columns: start (date), revenue_cents, orders.
    """
    return cached(
        ("trend", period, zone.key, bucket),
        data_stamp(session, now),
        lambda: _revenue_trend(session, period, zone, bucket),
    )


def _revenue_trend(
    session: Session, period: Period, zone: ZoneInfo, bucket: Bucket
) -> pd.DataFrame:
    start, end = period.bounds(zone)
    hour = hour_bucket(Order.ordered_at)
    rows = session.execute(
        select(hour, func.sum(Order.total_cents), func.count(Order.id))
        .where(Order.ordered_at >= start, Order.ordered_at < end)
        .group_by(hour)
    ).all()
    frame = pd.DataFrame(rows, columns=["hour", "revenue_cents", "orders"])
    frame["start"] = bucket_starts(local_days(frame["hour"], zone), bucket)
    summed = frame.groupby("start")[["revenue_cents", "orders"]].sum()
    every = summed.reindex(period.buckets(bucket), fill_value=0)
    every.index.name = "start"
    return every.reset_index().astype({"revenue_cents": "int64", "orders": "int64"})


def category_revenue(
    *, session: Session, period: Period, zone: ZoneInfo, now: datetime
) -> pd.DataFrame:
    """Revenue by category in the period and in the one before, largest first.

    Returns:
        Columns: category, revenue_cents, previous_cents, share (of the period's item revenue).
    """
    return recalled(
        session,
        categories_key(period, zone),
        data_stamp(session, now),
        lambda: compute_category_revenue(session, period, zone),
        frame_from_json,
    )


def compute_category_revenue(session: Session, period: Period, zone: ZoneInfo) -> pd.DataFrame:
    def by_category(p: Period) -> pd.Series:
        start, end = p.bounds(zone)
        rows = session.execute(
            select(OrderItem.category, func.sum(OrderItem.line_total_cents))
            .join(Order, Order.id == OrderItem.order_id)
            .where(Order.ordered_at >= start, Order.ordered_at < end)
            .group_by(OrderItem.category)
        ).all()
        return pd.Series({str(category): int(cents) for category, cents in rows}, dtype="int64")

    now, before = by_category(period), by_category(period.previous())
    frame = pd.DataFrame({"revenue_cents": now, "previous_cents": before}).fillna(0)
    frame = frame.astype("int64").rename_axis("category").reset_index()
    total = frame["revenue_cents"].sum()
    frame["share"] = frame["revenue_cents"] / total if total else 0.0
    return frame.sort_values(
        ["revenue_cents", "category"], ascending=[False, True], ignore_index=True
    )


def segment_performance(
    *, session: Session, period: Period, zone: ZoneInfo, now: datetime
) -> pd.DataFrame:
    """Each segment's members today and what they bought in the period.

    Returns:
        Columns: segment_id, segment, members, buyers, orders, revenue_cents,
        revenue_per_member_cents (None for an empty segment), by revenue, largest first.
    """
    return cached(
        ("segments", period, zone.key),
        data_stamp(session, now),
        lambda: _segment_performance(session, period, zone),
    )


def _segment_performance(session: Session, period: Period, zone: ZoneInfo) -> pd.DataFrame:
    start, end = period.bounds(zone)
    bought = (
        select(
            SegmentMember.segment_id,
            func.count(func.distinct(Order.customer_id)).label("buyers"),
            func.count(Order.id).label("orders"),
            func.sum(Order.total_cents).label("revenue_cents"),
        )
        .join(Order, Order.customer_id == SegmentMember.customer_id)
        .where(Order.ordered_at >= start, Order.ordered_at < end)
        .group_by(SegmentMember.segment_id)
        .subquery()
    )
    members = (
        select(SegmentMember.segment_id, func.count().label("members"))
        .group_by(SegmentMember.segment_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Segment.id,
            Segment.name,
            func.coalesce(members.c.members, 0),
            func.coalesce(bought.c.buyers, 0),
            func.coalesce(bought.c.orders, 0),
            func.coalesce(bought.c.revenue_cents, 0),
        )
        .outerjoin(members, members.c.segment_id == Segment.id)
        .outerjoin(bought, bought.c.segment_id == Segment.id)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["segment_id", "segment", "members", "buyers", "orders", "revenue_cents"]
    ).astype({"members": "int64", "buyers": "int64", "orders": "int64", "revenue_cents": "int64"})
    frame["revenue_per_member_cents"] = [
        cents / n if n else None
        for cents, n in zip(frame["revenue_cents"], frame["members"], strict=True)
    ]
    return frame.sort_values(
        ["revenue_cents", "segment"], ascending=[False, True], ignore_index=True
    )
