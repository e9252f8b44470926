"""Incremental lift: what a campaign added over doing nothing, measured against its control group.

Customers kept back (`MessageStatus.HELD_OUT`) were chosen by the same draw as those messaged,
so the difference in revenue per customer between the two groups, over the same period, is
what the messages caused. Each customer is measured from their first planned send to the click
window after their last; the interval is Welch's, since the groups differ in size and spread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.attribution.settings import AttributionSettings
from core.infra.money import format_dollars
from core.models import Message, MessageStatus, Order

CONFIDENCE = 0.95
MIN_GROUP = 2
"""Fewer customers than this on either side and there is no spread to measure."""
NO_PURCHASES = "no purchases in either group"
"""Why groups large enough have no lift: nobody in either bought, so neither has a spread."""


@dataclass(frozen=True)
class Interval:
    difference: float
    low: float
    high: float

    @property
    def margin(self) -> float:
        """Half the interval's width: the ± of "$4,120 ± $1,300"."""
        return (self.high - self.low) / 2

    def in_dollars(self) -> str:
        """An interval of cents as "$4,120 ±$1,300"."""
        return f"{format_dollars(self.difference)} ±{format_dollars(self.margin)}"


def welch_interval(
    treated: np.ndarray, control: np.ndarray, confidence: float = CONFIDENCE
) -> Interval | None:
    """The difference of the means and its interval (Welch–Satterthwaite degrees of freedom);
    None when either group is too small to have a spread, or neither has one (nobody in either
    bought: "$0 ±$0" would claim a certainty that a few dozen customers cannot give)."""
    if len(treated) < MIN_GROUP or len(control) < MIN_GROUP:
        return None
    difference = float(treated.mean() - control.mean())
    v_treated = treated.var(ddof=1) / len(treated)
    v_control = control.var(ddof=1) / len(control)
    error = math.sqrt(v_treated + v_control)
    if error == 0:
        return None
    freedom = (v_treated + v_control) ** 2 / (
        v_treated**2 / (len(treated) - 1) + v_control**2 / (len(control) - 1)
    )
    margin = float(stats.t.ppf(0.5 + confidence / 2, freedom)) * error
    return Interval(difference, difference - margin, difference + margin)


@dataclass(frozen=True)
class Lift:
    treated: int
    """Customers the campaign was for (messaged, or meant to be)."""
    control: int
    """Customers kept back, never messaged."""
    treated_buyers: int
    control_buyers: int
    treated_revenue_cents: int
    control_revenue_cents: int
    per_customer: Interval | None
    """Revenue per customer, treated less control, in cents; None when not measurable."""
    measured_until: datetime
    complete: bool
    """The last customer's measuring window has closed: the figure will not move."""

    @property
    def treated_conversion(self) -> float | None:
        return self.treated_buyers / self.treated if self.treated else None

    @property
    def control_conversion(self) -> float | None:
        return self.control_buyers / self.control if self.control else None

    @property
    def incremental(self) -> Interval | None:
        """Revenue the campaign added in all, in cents: per customer × customers messaged."""
        if self.per_customer is None:
            return None
        n = self.treated
        p = self.per_customer
        return Interval(p.difference * n, p.low * n, p.high * n)

    @property
    def unmeasured(self) -> str | None:
        """Why there is no incremental figure, in a few words; None when there is one."""
        if self.per_customer is not None:
            return None
        if self.control < MIN_GROUP:
            return "too few kept back"
        if self.treated < MIN_GROUP:
            return "too few messaged"
        return NO_PURCHASES

    def sentence(self) -> str:
        """The result in a manager's words."""
        whole = self.incremental
        if whole is None and self.unmeasured != NO_PURCHASES:
            return (
                f"Not measurable yet: the control group has {self.control} customer"
                f"{'' if self.control == 1 else 's'} and {self.treated:,} were messaged "
                f"(at least {MIN_GROUP} are needed in each)."
            )
        if whole is None:
            said = (
                "Not measurable yet: nobody in either group has bought in the window, so there "
                "is no difference to measure"
            )
        else:
            amount = format_dollars(abs(whole.difference))
            margin = format_dollars(whole.margin)
            direction = "more" if whole.difference >= 0 else "less"
            said = f"Made {amount} {direction} than doing nothing, ±{margin}"
            if whole.low <= 0 <= whole.high:
                said += " — not distinguishable from no effect yet"
        return said + ("." if self.complete else " (still measuring).")


def campaign_lift(
    *, session: Session, campaign_id: int, settings: AttributionSettings, now: datetime
) -> Lift | None:
    """The campaign's lift, or None when it kept no control group."""
    held = func.max(case((Message.status == MessageStatus.HELD_OUT, 1), else_=0))
    groups = pd.DataFrame(
        session.execute(
            select(
                Message.customer_id,
                held.label("held"),
                func.min(Message.send_after).label("start"),
                func.max(Message.send_after).label("end"),
            )
            .where(Message.campaign_id == campaign_id, Message.customer_id.is_not(None))
            .group_by(Message.customer_id)
        ).all(),
        columns=["customer_id", "held", "start", "end"],
    )
    if groups.empty or not groups["held"].any():
        return None
    groups["end"] = groups["end"] + settings.click_window
    first, last = groups["start"].min(), groups["end"].max()
    audience = select(Message.customer_id).where(Message.campaign_id == campaign_id)
    orders = pd.DataFrame(
        session.execute(
            select(Order.customer_id, Order.ordered_at, Order.total_cents).where(
                Order.customer_id.in_(audience.scalar_subquery()),
                Order.ordered_at >= first.to_pydatetime(),
                Order.ordered_at <= last.to_pydatetime(),
            )
        ).all(),
        columns=["customer_id", "ordered_at", "total_cents"],
    )
    groups["spent"] = groups["customer_id"].map(_spent_inside(orders, groups)).fillna(0.0)
    treated = groups.loc[groups["held"] == 0, "spent"].to_numpy()
    control = groups.loc[groups["held"] == 1, "spent"].to_numpy()
    return Lift(
        treated=len(treated),
        control=len(control),
        treated_buyers=int((treated > 0).sum()),
        control_buyers=int((control > 0).sum()),
        treated_revenue_cents=int(treated.sum()),
        control_revenue_cents=int(control.sum()),
        per_customer=welch_interval(treated, control),
        measured_until=last.to_pydatetime(),
        complete=last.to_pydatetime() <= now,
    )


def _spent_inside(orders: pd.DataFrame, groups: pd.DataFrame) -> pd.Series:
    """Each customer's spend inside their own measuring period."""
    if orders.empty:
        return pd.Series(dtype=float)
    inside = orders.merge(groups[["customer_id", "start", "end"]], on="customer_id")
    inside = inside[inside["ordered_at"].between(inside["start"], inside["end"])]
    return inside.groupby("customer_id")["total_cents"].sum().astype(float)
