"""Which orders a campaign brought in: by its offer codes, with certainty, and by the windows
after its messages were engaged with, by the store's model.

A message touches its customer from its first sign of attention (opened, clicked, or for a
text, delivered) until the click window after a click, or the view window after an open or a
delivery. An order inside touches' windows is credited once per model: to the last touch, the
first, or shared equally. An order rung up with one of our offer codes belongs to that code's
message whatever the windows say (even after they closed), and to no window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Exists, Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from core.attribution.settings import AttributionSettings, Model
from core.models import Channel, Message, Order


@dataclass
class Revenue:
    """A campaign's attributed orders, in cents, the certain apart from the windowed."""

    code_cents: int = 0
    code_orders: int = 0
    discount_cents: int = 0
    """What the redeemed offers gave away (the orders' discounts)."""
    window_cents: float = 0.0
    window_orders: float = 0.0
    """Orders credited by the windows (fractions under the linear model)."""

    @property
    def total_cents(self) -> float:
        return self.code_cents + self.window_cents


@dataclass(frozen=True, order=True)
class Touch:
    start: datetime
    end: datetime
    campaign_id: int = field(compare=False)


def campaign_revenue(
    *, session: Session, campaign_ids: Iterable[int], settings: AttributionSettings
) -> dict[int, Revenue]:
    """Revenue of each campaign in `campaign_ids` (all zero where nothing was attributed)."""
    wanted = list(campaign_ids)
    found = {c: Revenue() for c in wanted}
    if not wanted:
        return found
    for campaign_id, total, discount in session.execute(
        select(Message.campaign_id, Order.total_cents, Order.discount_cents)
        .join(Order, Order.promo_code == Message.offer_code)
        .where(Message.campaign_id.in_(wanted))
    ):
        redeemed = found[cast(int, campaign_id)]  # the query asks for these campaigns only
        redeemed.code_cents += total
        redeemed.code_orders += 1
        redeemed.discount_cents += discount
    for campaign_id, cents, share in window_credits(
        session=session, campaign_ids=wanted, settings=settings
    ):
        if campaign_id in found:
            found[campaign_id].window_cents += cents
            found[campaign_id].window_orders += share
    return found


def window_credits(
    *, session: Session, campaign_ids: list[int], settings: AttributionSettings
) -> list[tuple[int, float, float]]:
    """(campaign, cents, share of an order) for every credit the windows give, to any
    campaign, for the orders of the customers `campaign_ids` touched."""
    touched = (
        select(Message.customer_id)
        .where(Message.campaign_id.in_(campaign_ids), _engaged())
        .scalar_subquery()
    )
    touches = _touches(session, _touch_query().where(Message.customer_id.in_(touched)), settings)
    if not touches:
        return []
    first = min(t.start for ts in touches.values() for t in ts)
    last = max(t.end for ts in touches.values() for t in ts)
    orders = session.execute(
        select(Order.customer_id, Order.ordered_at, Order.total_cents).where(
            Order.customer_id.in_(touched),
            Order.ordered_at >= first,
            Order.ordered_at <= last,
            or_(Order.promo_code.is_(None), ~_redeemed_ours()),
        )
    ).all()
    credits: list[tuple[int, float, float]] = []
    for customer_id, ordered_at, total in orders:
        # The touches open at the order, in the order they began.
        live = [t for t in touches.get(customer_id, []) if t.start <= ordered_at <= t.end]
        if not live:
            continue
        if settings.model == Model.LINEAR:
            credits.extend((t.campaign_id, total / len(live), 1 / len(live)) for t in live)
        else:
            chosen = live[-1] if settings.model == Model.LAST_TOUCH else live[0]
            credits.append((chosen.campaign_id, float(total), 1.0))
    return credits


def _engaged() -> ColumnElement[bool]:
    return or_(
        Message.clicked_at.is_not(None),
        Message.opened_at.is_not(None),
        and_(Message.channel == Channel.SMS, Message.delivered_at.is_not(None)),
    )


Moment = datetime | None
TouchQuery = Select[int | None, int | None, Channel, Moment, Moment, Moment]


def _touch_query() -> TouchQuery:
    return select(
        Message.customer_id,
        Message.campaign_id,
        Message.channel,
        Message.delivered_at,
        Message.opened_at,
        Message.clicked_at,
    ).where(Message.campaign_id.is_not(None), _engaged())


def _touches(
    session: Session, query: TouchQuery, settings: AttributionSettings
) -> dict[int, list[Touch]]:
    by_customer: dict[int, list[Touch]] = defaultdict(list)
    for customer_id, campaign_id, channel, delivered, opened, clicked in session.execute(query):
        if customer_id is None or campaign_id is None:  # excluded by the query; for the types
            continue
        viewed = opened or (delivered if channel == Channel.SMS else None)
        windows = ((viewed, settings.view_window), (clicked, settings.click_window))
        ends = [moment + window for moment, window in windows if moment is not None]
        start = min(m for m in (viewed, clicked) if m is not None)
        by_customer[customer_id].append(Touch(start, max(ends), campaign_id))
    for found in by_customer.values():
        found.sort()
    return by_customer


def _redeemed_ours() -> Exists:
    """The order carries the offer code of one of our messages."""
    return exists().where(Message.offer_code == Order.promo_code)
