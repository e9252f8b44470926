"""A campaign's results: how its messages fared, its attributed revenue, its lift over the
control group, what it cost and whether it paid for itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.attribution.lift import Lift, campaign_lift
from core.attribution.revenue import Revenue, campaign_revenue
from core.attribution.settings import get_attribution_settings
from core.messaging.monitor import Figures, campaign_figures


def format_roi(roi: float) -> str:
    """+250 % reads well; a return of hundreds of times the cost reads better as a multiple."""
    return f"{roi:+.0%}" if abs(roi) < 10 else f"{roi:+,.0f}×"


@dataclass(frozen=True)
class Results:
    revenue: Revenue
    lift: Lift | None
    """None when the campaign kept no control group."""
    figures: Figures
    """How its messages fared (and what the providers charged for them)."""

    @property
    def cost_cents(self) -> float:
        """Sending plus the discounts its redeemed offers gave away."""
        return self.figures.cost_cents + self.revenue.discount_cents

    @property
    def roi_basis(self) -> str:
        """ "incremental" when a control group measured what it added, else "attributed"."""
        return "incremental" if self.lift and self.lift.incremental else "attributed"

    @property
    def return_cents(self) -> float:
        """What the campaign brought in: the incremental revenue when measured, else the
        attributed."""
        incremental = self.lift.incremental if self.lift else None
        return incremental.difference if incremental else self.revenue.total_cents

    @property
    def roi(self) -> float | None:
        """(Return − cost) / cost; None without cost."""
        if not self.cost_cents:
            return None
        return (self.return_cents - self.cost_cents) / self.cost_cents

    def as_dict(self) -> dict[str, Any]:
        incremental = self.lift.incremental if self.lift else None
        return {
            "revenue_code_cents": self.revenue.code_cents,
            "revenue_window_cents": round(self.revenue.window_cents),
            "orders_code": self.revenue.code_orders,
            "orders_window": round(self.revenue.window_orders, 2),
            "incremental_revenue_cents": round(incremental.difference) if incremental else None,
            "incremental_low_cents": round(incremental.low) if incremental else None,
            "incremental_high_cents": round(incremental.high) if incremental else None,
            "control_customers": self.lift.control if self.lift else 0,
            "cost_total_cents": round(self.cost_cents, 2),
            "roi": round(self.roi, 3) if self.roi is not None else None,
            "roi_basis": self.roi_basis,
        }


def campaign_results(
    *, session: Session, campaign_ids: list[int], now: datetime
) -> dict[int, Results]:
    settings = get_attribution_settings(session=session)
    revenue = campaign_revenue(session=session, campaign_ids=campaign_ids, settings=settings)
    figures = campaign_figures(session=session, campaign_ids=campaign_ids)
    return {
        campaign_id: Results(
            revenue=revenue[campaign_id],
            lift=campaign_lift(
                session=session, campaign_id=campaign_id, settings=settings, now=now
            ),
            figures=figures[campaign_id],
        )
        for campaign_id in campaign_ids
    }
