"""The dashboard's key figures for a period, each measured the same way for the period before
it so the two can be compared.

Sales figures count the orders rung up in the period. Message figures count the messages that
really went out in it (not the sandbox's). Campaign money (attributed and incremental revenue,
cost, return) belongs to the campaigns whose first message went out in the period, measured
whole: a campaign's revenue is not split across the dashboard's periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from core.analytics.periods import Period
from core.attribution import stored_results
from core.messaging.monitor import opted_out_messages
from core.messaging.providers import Sandbox
from core.models import Campaign, Customer, Message, Order

CHURN_DAYS = 90
"""A customer who has gone this many days without an order is counted as churned."""


@dataclass(frozen=True)
class CampaignStart:
    id: int
    name: str
    first_sent_at: datetime


@dataclass(frozen=True)
class Kpis:
    period: Period
    revenue_cents: int
    orders: int
    customers: int
    """Customers who ordered in the period."""
    returning_customers: int
    """Of those, customers who had ordered before the period began."""
    churn_base: int
    """Customers whose 90 days without an order could run out in the period: they ordered
    between 90 days before its start and 90 days before its end."""
    churned: int
    """Of those, customers who then went 90 days without an order before the period ended."""
    messages_sent: int
    """Messages that really went out in the period (the sandbox's are counted apart)."""
    sent_in_test_mode: int
    clicked: int
    unsubscribed: int
    campaigns: tuple[CampaignStart, ...]
    """Campaigns whose first message went out in the period."""
    attributed_cents: float
    """Their revenue by offer code and by window."""
    incremental_cents: float | None
    """What their control groups say they added; None when none could measure it."""
    incremental_margin_cents: float | None
    """The 95 % margin of that sum (the campaigns' margins combined as independent)."""
    cost_cents: float
    """Their sending cost and the discounts their redeemed offers gave away."""
    return_cents: float
    """Their incremental revenue where measured, else their attributed revenue."""

    @property
    def average_order_cents(self) -> float | None:
        return self.revenue_cents / self.orders if self.orders else None

    @property
    def repeat_rate(self) -> float | None:
        return self.returning_customers / self.customers if self.customers else None

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.churn_base if self.churn_base else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.messages_sent if self.messages_sent else None

    @property
    def unsubscribe_rate(self) -> float | None:
        return self.unsubscribed / self.messages_sent if self.messages_sent else None

    @property
    def roi(self) -> float | None:
        """(Return − cost) / cost of the period's campaigns; None without cost."""
        if not self.cost_cents:
            return None
        return (self.return_cents - self.cost_cents) / self.cost_cents


def kpis(*, session: Session, period: Period, zone: ZoneInfo, now: datetime) -> Kpis:
    start, end = period.bounds(zone)
    in_period = and_(Order.ordered_at >= start, Order.ordered_at < end)
    orders, revenue, customers = session.execute(
        select(
            func.count(Order.id),
            func.coalesce(func.sum(Order.total_cents), 0),
            func.count(func.distinct(Order.customer_id)),
        ).where(in_period)
    ).one()
    # Buyers whose first order (kept on the customer by every write of orders) falls in the
    # period had not bought before it; every other buyer had.
    first_timers = session.execute(
        select(func.count(Customer.id)).where(
            Customer.first_order_at >= start, Customer.first_order_at < end
        )
    ).scalar_one()
    returning = customers - first_timers
    churn_base, churned = churn_counts(session=session, period=period, zone=zone)
    sent = _messages(session, start, end)
    started = campaigns_started(session=session, start=start, end=end)
    results = stored_results(session=session, campaign_ids=[c.id for c in started], now=now)
    measured = [
        r.lift.incremental for r in results.values() if r.lift and r.lift.incremental is not None
    ]
    return Kpis(
        period=period,
        revenue_cents=int(revenue),
        orders=orders,
        customers=customers,
        returning_customers=returning,
        churn_base=churn_base,
        churned=churned,
        messages_sent=sent["sent"],
        sent_in_test_mode=sent["test_mode"],
        clicked=sent["clicked"],
        unsubscribed=sent["unsubscribed"],
        campaigns=tuple(started),
        attributed_cents=sum(r.revenue.total_cents for r in results.values()),
        incremental_cents=sum(i.difference for i in measured) if measured else None,
        incremental_margin_cents=(
            math.sqrt(sum(i.margin**2 for i in measured)) if measured else None
        ),
        cost_cents=sum(r.cost_cents for r in results.values()),
        return_cents=sum(r.return_cents for r in results.values()),
    )


def churn_counts(*, session: Session, period: Period, zone: ZoneInfo) -> tuple[int, int]:
    """(customers whose 90 days without an order could run out in the period, how many of
    them it did)."""
    start, end = period.bounds(zone)
    churn = timedelta(days=CHURN_DAYS)
    cut = end - churn
    # One pass over the orders from 90 days before the period to its end, a row per customer:
    # did they order before the cut (their clock could run out in the period), and after it?
    customers = (
        select(
            func.max(case((Order.ordered_at < cut, 1), else_=0)).label("before"),
            func.max(case((Order.ordered_at >= cut, 1), else_=0)).label("after"),
        )
        .where(Order.ordered_at >= start - churn, Order.ordered_at < end)
        .group_by(Order.customer_id)
        .subquery()
    )
    could = customers.c.before == 1
    total, churned = session.execute(
        select(
            func.count().filter(could),
            func.count().filter(could, customers.c.after == 0),
        )
    ).one()
    return int(total), int(churned)


def _real() -> ColumnElement[bool]:
    return func.coalesce(Message.provider, "") != Sandbox.name


def _messages(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    sent = and_(Message.sent_at >= start, Message.sent_at < end)
    row = session.execute(
        select(
            func.count().filter(_real()).label("sent"),
            func.count().filter(~_real()).label("test_mode"),
            func.count().filter(_real(), Message.clicked_at.is_not(None)).label("clicked"),
            func.count()
            .filter(_real(), Message.id.in_(opted_out_messages()))
            .label("unsubscribed"),
        ).where(sent)
    ).one()
    return dict(row._mapping)


def campaigns_started(*, session: Session, start: datetime, end: datetime) -> list[CampaignStart]:
    """Campaigns whose first real message went out in [start, end), in that order."""
    first = func.min(Message.sent_at)
    sent_then = (
        select(Message.campaign_id)
        .where(Message.sent_at >= start, Message.sent_at < end, _real())
        .distinct()
    )
    firsts = (
        select(Message.campaign_id, first.label("first_sent_at"))
        .where(Message.campaign_id.in_(sent_then), Message.sent_at.is_not(None), _real())
        .group_by(Message.campaign_id)
        .having(first >= start, first < end)
        .subquery()
    )
    rows = session.execute(
        select(Campaign.id, Campaign.name, firsts.c.first_sent_at)
        .join(firsts, firsts.c.campaign_id == Campaign.id)
        .order_by(firsts.c.first_sent_at, Campaign.id)
    ).all()
    return [CampaignStart(id=i, name=name, first_sent_at=at) for i, name, at in rows]
