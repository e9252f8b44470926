"""The dashboard's cards: each key figure for the period beside the period before, with the
change between them, or the reason it cannot be measured. The Analytics page, its CSV and the
report are all made from these rows."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.analytics.kpis import CHURN_DAYS, Kpis, kpis
from core.analytics.periods import Period
from core.analytics.snapshots import kpis_from_json, kpis_key, recalled
from core.attribution import data_stamp, format_roi
from core.db import UnitOfWork
from core.infra.csv_safe import write_csv
from core.infra.money import format_dollars


class Unit(StrEnum):
    CENTS = "cents"
    COUNT = "count"
    RATE = "rate"
    """A share between 0 and 1; its change is in percentage points."""


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: Unit
    value: float | None
    """None when the period gives nothing to measure; `why` says why."""
    previous: float | None
    help: str
    why: str = ""
    lower_is_better: bool = False
    comparable: bool = True
    """False for a figure whose change means nothing as a number (a return on cost swings
    by thousands of points on a few dollars of cost): it is shown beside, not subtracted."""
    margin: float | None = None
    """For an estimate (incremental revenue), the 95 % margin of `value`: shown with it, since
    "$249" alone claims a certainty that "$249 ±$267" does not."""

    @property
    def change(self) -> float | None:
        """Against the previous period: a fraction for amounts and counts, a difference for
        rates; None when either side is missing, or an amount was not above 0 before (a
        fraction of nothing, or of a loss, says nothing)."""
        if self.value is None or self.previous is None or not self.comparable:
            return None
        if self.unit == Unit.RATE:
            return self.value - self.previous
        return self.value / self.previous - 1 if self.previous > 0 else None

    def text(self, value: float | None) -> str:
        """`value` (the figure's, or the previous period's) as a card shows it."""
        if value is None:
            return "—"
        if self.unit == Unit.CENTS:
            return format_dollars(value)
        if self.key == "roi":
            return format_roi(value)
        if self.unit == Unit.RATE:
            return f"{value:.1%}"
        return f"{value:,.0f}"

    def value_text(self) -> str:
        """The figure's value as a card shows it, with its margin when it is an estimate."""
        shown = self.text(self.value)
        if self.value is None or self.margin is None:
            return shown
        return f"{shown} ±{self.text(self.margin)}"

    def change_text(self) -> str | None:
        """ "+12.5%", or "+0.7 pts" for a rate; None without a change to show."""
        change = self.change
        if change is None:
            return None
        if self.unit == Unit.RATE:
            return f"{change * 100:+.1f} pts"
        return f"{change:+.1%}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit.value,
            "value": _rounded(self.value),
            "margin": _rounded(self.margin),
            "previous": _rounded(self.previous),
            "change": _rounded(self.change, 4),
            "why": self.why,
        }


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    current: Kpis
    previous: Kpis
    figures: list[Figure]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "previous_from": self.period.previous().first.isoformat(),
            "previous_to": self.period.previous().last.isoformat(),
            "campaigns": [c.name for c in self.current.campaigns],
            "figures": [f.as_dict() for f in self.figures],
        }


def dashboard(
    *,
    session: Session,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    unit_of_work: UnitOfWork | None = None,
) -> Dashboard:
    """The period's figures beside the previous period's, each kept for the state of the data
    it was computed from (`cache`, `snapshots`). With `unit_of_work`, the previous period is
    measured meanwhile in a read-only transaction of its own: a range with no snapshot (a
    custom one) then takes the time of one period, not two."""
    stamp = data_stamp(session, now)

    def measured(p: Period, own: Session) -> Kpis:
        return recalled(
            own,
            kpis_key(p, zone),
            stamp,
            lambda: kpis(session=own, period=p, zone=zone, now=now),
            kpis_from_json,
        )

    if unit_of_work is None:
        current, previous = measured(period, session), measured(period.previous(), session)
    else:
        opened = unit_of_work

        def previous_apart() -> Kpis:
            with opened(read_only=True) as own:
                return measured(period.previous(), own)

        with ThreadPoolExecutor(max_workers=1) as pool:
            later = pool.submit(previous_apart)
            current = measured(period, session)
            previous = later.result()
    return Dashboard(period, current, previous, key_figures(current, previous))


Measure = Callable[[Kpis], float | None]


def key_figures(current: Kpis, previous: Kpis) -> list[Figure]:
    def figure(
        key: str,
        label: str,
        unit: Unit,
        measure: Measure,
        help: str,
        why: Callable[[Kpis], str] = lambda _: "",
        lower_is_better: bool = False,
        comparable: bool = True,
        margin: Measure | None = None,
    ) -> Figure:
        value = measure(current)
        return Figure(
            key,
            label,
            unit,
            value,
            measure(previous),
            help,
            why(current) if value is None else "",
            lower_is_better,
            comparable,
            margin(current) if margin and value is not None else None,
        )

    return [
        figure("revenue", "Revenue", Unit.CENTS, lambda k: k.revenue_cents, "Orders' totals."),
        figure("orders", "Orders", Unit.COUNT, lambda k: k.orders, "Orders rung up."),
        figure(
            "customers",
            "Customers who bought",
            Unit.COUNT,
            lambda k: k.customers,
            "Customers with at least one order.",
        ),
        figure(
            "average_order",
            "Average order",
            Unit.CENTS,
            lambda k: k.average_order_cents,
            "Revenue per order.",
            lambda _: "No orders in this period.",
        ),
        figure(
            "repeat_rate",
            "Repeat rate",
            Unit.RATE,
            lambda k: k.repeat_rate,
            "Of the customers who bought, the share who had bought before the period began.",
            lambda _: "No orders in this period.",
        ),
        figure(
            "churn_rate",
            "Churn rate",
            Unit.RATE,
            lambda k: k.churn_rate,
            f"Of the customers whose {CHURN_DAYS} days without an order could run out in the "
            f"period, the share who then went {CHURN_DAYS} days without buying.",
            lambda _: f"Nobody ordered in the {CHURN_DAYS} days before the period.",
            lower_is_better=True,
        ),
        figure(
            "messages_sent",
            "Messages sent",
            Unit.COUNT,
            lambda k: k.messages_sent or None,
            "Emails and texts that really went out (test mode's are not counted).",
            _why_no_messages,
        ),
        figure(
            "click_rate",
            "Click rate",
            Unit.RATE,
            lambda k: k.click_rate,
            "Messages clicked, of those sent in the period.",
            _why_no_messages,
        ),
        figure(
            "unsubscribe_rate",
            "Unsubscribe rate",
            Unit.RATE,
            lambda k: k.unsubscribe_rate,
            "Messages their recipient opted out from, of those sent in the period.",
            _why_no_messages,
            lower_is_better=True,
        ),
        figure(
            "attributed_revenue",
            "Attributed revenue",
            Unit.CENTS,
            lambda k: k.attributed_cents if k.campaigns else None,
            "What the campaigns that started in the period brought in: by offer code and "
            "inside the attribution window.",
            _why_no_campaigns,
        ),
        figure(
            "incremental_revenue",
            "Incremental revenue",
            Unit.CENTS,
            lambda k: k.incremental_cents,
            "What those campaigns made beyond their control groups (never messaged), with its "
            "95 % margin: a margin wider than the figure means it may be nothing.",
            lambda k: (
                _why_no_campaigns(k)
                or "No campaign that started in the period has a measured lift yet."
            ),
            margin=lambda k: k.incremental_margin_cents,
        ),
        figure(
            "cost",
            "Campaign cost",
            Unit.CENTS,
            lambda k: k.cost_cents if k.campaigns else None,
            "Those campaigns' sending cost and the discounts their redeemed offers gave away.",
            _why_no_campaigns,
            lower_is_better=True,
        ),
        figure(
            "roi",
            "Return on cost",
            Unit.RATE,
            lambda k: k.roi,
            "(Return − cost) / cost, the return being incremental revenue where a control "
            "group measured it, else attributed revenue.",
            lambda k: _why_no_campaigns(k) or "Those campaigns cost nothing.",
            comparable=False,
        ),
    ]


def _why_no_messages(k: Kpis) -> str:
    if k.sent_in_test_mode:
        return (
            f"{k.sent_in_test_mode:,} messages went through test mode in this period; "
            "nothing really left."
        )
    return "No message went out in this period."


def _why_no_campaigns(k: Kpis) -> str:
    return "" if k.campaigns else "No campaign started in this period."


def write_figures_csv(out: TextIO, board: Dashboard) -> int:
    """The dashboard's figures as CSV, amounts in dollars, safe to open in Excel."""
    previous = board.period.previous()

    def shown(figure: Figure, value: float | None) -> object:
        if value is None:
            return ""
        return round(value / 100, 2) if figure.unit == Unit.CENTS else round(value, 4)

    return write_csv(
        out,
        [
            "figure",
            "unit",
            f"{board.period.first} to {board.period.last}",
            f"{previous.first} to {previous.last}",
            "change",
            "why missing",
            "margin (95 %)",
        ],
        (
            [
                f.label,
                "dollars" if f.unit == Unit.CENTS else f.unit.value,
                shown(f, f.value),
                shown(f, f.previous),
                "" if f.change is None else round(f.change, 4),
                f.why,
                shown(f, f.margin),
            ]
            for f in board.figures
        ),
    )
