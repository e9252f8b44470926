"""The home page's glance at the store: the last 30 days against the 30 before, and a year of
weekly revenue by category."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.analytics.periods import Bucket, bucket_starts, day_start, local_days
from core.compliance.decision import reachable
from core.infra.sql import hour_bucket
from core.models import Channel, Customer, Order, OrderItem


@dataclass(frozen=True)
class Overview:
    """The home page's headline numbers for the window ending `today` (store time)."""

    today: date
    days: int
    customers: int
    new_customers: int
    email_reachable: int
    sms_reachable: int
    orders: int
    orders_before: int
    revenue_cents: int
    revenue_before_cents: int
    active_customers: int
    """Customers with an order in the window."""

    @property
    def average_order_cents(self) -> int:
        return self.revenue_cents // self.orders if self.orders else 0

    @property
    def average_order_change(self) -> float | None:
        """The average order against the previous window's, as a fraction."""
        if not self.orders or not self.orders_before:
            return None
        return (self.revenue_cents / self.orders) / (
            self.revenue_before_cents / self.orders_before
        ) - 1

    @property
    def revenue_change(self) -> float | None:
        """Change against the previous window of the same length, as a fraction."""
        if not self.revenue_before_cents:
            return None
        return self.revenue_cents / self.revenue_before_cents - 1


def overview(*, session: Session, today: date, zone: ZoneInfo, days: int = 30) -> Overview:
    end = day_start(today + timedelta(days=1), zone)
    start = day_start(today - timedelta(days=days - 1), zone)
    before = day_start(today - timedelta(days=2 * days - 1), zone)
    live = Customer.deleted_at.is_(None)

    def order_totals(lo: datetime, hi: datetime) -> tuple[int, int, int]:
        row = session.execute(
            select(
                func.count(Order.id),
                func.coalesce(func.sum(Order.total_cents), 0),
                func.count(func.distinct(Order.customer_id)),
            ).where(Order.ordered_at >= lo, Order.ordered_at < hi)
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    orders, revenue, active = order_totals(start, end)
    orders_before, revenue_before, _ = order_totals(before, start)
    customers, new_customers, email_ok, sms_ok = session.execute(
        select(
            func.count(Customer.id),
            func.count(Customer.id).filter(Customer.created_at >= start),
            # Reachable as the campaign builder counts it: consent, 21+, not suppressed.
            func.count(Customer.id).filter(reachable(Channel.EMAIL, today)),
            func.count(Customer.id).filter(reachable(Channel.SMS, today)),
        ).where(live)
    ).one()
    return Overview(
        today=today,
        days=days,
        customers=customers,
        new_customers=new_customers,
        email_reachable=email_ok,
        sms_reachable=sms_ok,
        orders=orders,
        orders_before=orders_before,
        revenue_cents=revenue,
        revenue_before_cents=revenue_before,
        active_customers=active,
    )


def weekly_revenue(
    *, session: Session, today: date, zone: ZoneInfo, weeks: int = 52
) -> pd.DataFrame:
    """Revenue per week and category in the store's time zone, weeks starting Monday.

    Returns:
        Columns: week (date), category, revenue (dollars), orders.
    """
    first_day = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    since = day_start(first_day, zone)
    until = day_start(today + timedelta(days=1), zone)
    bucket = hour_bucket(Order.ordered_at)
    rows = session.execute(
        select(
            bucket.label("hour"),
            OrderItem.category,
            func.sum(OrderItem.line_total_cents).label("cents"),
            func.count(func.distinct(Order.id)).label("orders"),
        )
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.ordered_at >= since, Order.ordered_at < until)
        .group_by(bucket, OrderItem.category)
    ).all()
    frame = pd.DataFrame(rows, columns=["hour", "category", "cents", "orders"])
    if frame.empty:
        return pd.DataFrame(columns=["week", "category", "revenue", "orders"])
    frame["week"] = bucket_starts(local_days(frame["hour"], zone), Bucket.WEEK)
    weekly = frame.groupby(["week", "category"], as_index=False).agg(
        cents=("cents", "sum"), orders=("orders", "sum")
    )
    weekly["revenue"] = weekly["cents"] / 100
    weekly["category"] = weekly["category"].str.title()
    return weekly[["week", "category", "revenue", "orders"]]
