"""A test's results: per variant, who was sent it, who clicked, who bought and for how much,
and the comparison of each variant with A under the fixed-horizon rule.

A recipient converts when they buy within the store's click window after their message was sent
(whatever they clicked), or redeem the message's code at any time. The variants were drawn at
random from one audience, so this plain window compares like with like; the campaign's lift
against its control group is measured apart (`attribution`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.abtests.stats import (
    MeanComparison,
    RateComparison,
    compare_means,
    compare_rates,
    holm,
    probability_best,
)
from core.attribution.settings import get_attribution_settings
from core.infra.money import format_cents
from core.models import ABTest, Campaign, CampaignStatus, Message, Metric, Order, TestStatus

ENDED = (CampaignStatus.COMPLETED, CampaignStatus.ARCHIVED)


@dataclass(frozen=True)
class VariantResult:
    position: int
    recipients: int
    clicks: int
    conversions: int
    revenue_cents: int
    revenue: tuple[float, ...]
    """Each recipient's spend in the window, in dollars (for Welch's test)."""

    @property
    def name(self) -> str:
        return chr(ord("A") + self.position)

    def hits(self, metric: Metric) -> int:
        return self.clicks if metric == Metric.CLICK_RATE else self.conversions

    def rate(self, metric: Metric) -> float | None:
        return self.hits(metric) / self.recipients if self.recipients else None

    @property
    def per_recipient_cents(self) -> float | None:
        return self.revenue_cents / self.recipients if self.recipients else None


@dataclass(frozen=True)
class Comparison:
    """A variant against A: the rate (click or conversion, as the metric says) and revenue."""

    position: int
    rates: RateComparison
    revenue: MeanComparison | None
    p_value: float
    """The metric's p-value, Holm-adjusted when several variants are compared with A."""

    @property
    def name(self) -> str:
        return chr(ord("A") + self.position)


@dataclass(frozen=True)
class TestResults:
    test_id: int
    metric: Metric
    confidence: float
    needed: int
    variants: list[VariantResult]
    comparisons: list[Comparison]
    last_sent_at: datetime | None
    wait: timedelta
    chance_best: list[float]
    """Each variant's chance to be the best on the test's rate (Bayesian, for reading along:
    the verdict is the fixed-horizon test's)."""

    __test__ = False  # not a pytest class

    @property
    def sample_reached(self) -> bool:
        return all(v.recipients >= self.needed for v in self.variants)

    def judgeable(self, now: datetime) -> bool:
        """The fixed horizon: every variant reached its sample and the wait after the last
        test message is over (its buyers had time to buy)."""
        return (
            self.sample_reached
            and self.last_sent_at is not None
            and now >= self.last_sent_at + self.wait
        )

    def leader(self) -> int | None:
        """The winning variant's position, when one is significantly better than every
        other at the test's confidence (Holm-adjusted); else None."""
        alpha = 1 - self.confidence
        better = [c for c in self.comparisons if c.p_value < alpha and _gain(self.metric, c) > 0]
        if not self.comparisons:
            return None
        if not better:
            worse_all = all(
                c.p_value < alpha and _gain(self.metric, c) < 0 for c in self.comparisons
            )
            return 0 if worse_all else None
        best = max(better, key=lambda c: _gain(self.metric, c))
        rivals = [c for c in better if c is not best]
        if any(_pairwise_tie(self, best, rival) for rival in rivals):
            return None
        return best.position

    def verdict(self, now: datetime) -> str:
        """The result in a marketer's words."""
        smallest = min((v.recipients for v in self.variants), default=0)
        if not self.sample_reached:
            return (
                f"Not decided yet: {smallest:,} of the {self.needed:,} recipients per variant "
                "the test needs have been sent it (the verdict waits for all of them, so "
                "looking early cannot name a false winner)."
            )
        if not self.judgeable(now):
            assert self.last_sent_at is not None
            ready = self.last_sent_at + self.wait
            hours = max(1, round((ready - now).total_seconds() / 3600))
            return f"Sample reached; waiting {hours} more hours for purchases before judging."
        leader = self.leader()
        if leader is None:
            return (
                f"No winner at {self.confidence:.0%} confidence: {self._spread()} could be chance."
            )
        return self.winner_sentence(leader)

    def cut_short(self) -> str:
        """Why a test whose campaign ended before its sample was in has no winner."""
        smallest = min((v.recipients for v in self.variants), default=0)
        return (
            f"No winner: the campaign ended with {smallest:,} of the {self.needed:,} recipients "
            "per variant the test needed, too few to tell chance from a difference."
        )

    def winner_sentence(self, position: int) -> str:
        winner = self.variants[position]
        if position == 0:
            return (
                f"A wins with {self.confidence:.0%} confidence: every other variant did worse "
                f"({self._spread()})."
            )
        found = next(c for c in self.comparisons if c.position == position)
        chance = found.rates.probability_b_better
        parts = [f"{found.rates.difference * 100:+.1f} pts {self._rate_words}"]
        if found.revenue is not None:
            parts.append(f"{_signed_cents(found.revenue.difference * 100)} per recipient")
        return (
            f"{winner.name} wins with {self.confidence:.0%} confidence: {', '.join(parts)} "
            f"against A ({_p(found.p_value)}; {_chance(chance)} chance it is really better)."
        )

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "confidence": self.confidence,
            "needed_per_variant": self.needed,
            "sample_reached": self.sample_reached,
            "judgeable": self.judgeable(now),
            "verdict": self.verdict(now),
            "chance_best": [round(c, 4) for c in self.chance_best],
            "variants": [
                {
                    "name": v.name,
                    "recipients": v.recipients,
                    "clicks": v.clicks,
                    "conversions": v.conversions,
                    "revenue_cents": v.revenue_cents,
                    "click_rate": v.rate(Metric.CLICK_RATE),
                    "conversion_rate": v.rate(Metric.CONVERSION_RATE),
                    "revenue_per_recipient_cents": v.per_recipient_cents,
                }
                for v in self.variants
            ],
            "against_a": [
                {
                    "name": c.name,
                    **c.rates.as_dict(),
                    "p_value_adjusted": round(c.p_value, 6),
                    "revenue_per_recipient_difference_cents": (
                        round(c.revenue.difference * 100, 2) if c.revenue else None
                    ),
                    "revenue_interval_cents": (
                        [round(c.revenue.low * 100, 2), round(c.revenue.high * 100, 2)]
                        if c.revenue
                        else None
                    ),
                }
                for c in self.comparisons
            ],
        }

    @property
    def _rate_words(self) -> str:
        return "click rate" if self.metric == Metric.CLICK_RATE else "conversion rate"

    def _spread(self) -> str:
        said = []
        for c in self.comparisons:
            if self.metric == Metric.REVENUE_PER_RECIPIENT and c.revenue is not None:
                low, high = c.revenue.low * 100, c.revenue.high * 100
                said.append(
                    f"{c.name} against A {_signed_cents(low)} to {_signed_cents(high)} "
                    "per recipient"
                )
            else:
                said.append(
                    f"{c.name} against A {c.rates.low * 100:+.1f} to {c.rates.high * 100:+.1f} "
                    f"pts {self._rate_words}"
                )
        return "; ".join(said)


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _chance(value: float) -> str:
    """A probability as people say it, never a certainty the data cannot give."""
    return "an over 99%" if value > 0.99 else f"a {value:.0%}"


def _signed_cents(cents: float) -> str:
    """`42.4` → `+$0.42`: a change per recipient, to the cent."""
    return ("+" if cents >= 0 else "") + format_cents(round(cents))


def _gain(metric: Metric, comparison: Comparison) -> float:
    if metric == Metric.REVENUE_PER_RECIPIENT and comparison.revenue is not None:
        return comparison.revenue.difference
    return comparison.rates.difference


def _pairwise_tie(results: TestResults, best: Comparison, rival: Comparison) -> bool:
    """Two variants both beat A: the best wins only if it also beats the other."""
    a = results.variants[best.position]
    b = results.variants[rival.position]
    found = compare_rates(
        b.recipients,
        b.hits(results.metric),
        a.recipients,
        a.hits(results.metric),
        results.confidence,
    )
    return not found.significant


def test_results(*, session: Session, test: ABTest) -> TestResults:
    """Measure the test from its messages that were sent and the orders that followed."""
    window = get_attribution_settings(session=session).click_window
    sent = pd.DataFrame(
        session.execute(
            select(
                Message.id,
                Message.variant,
                Message.customer_id,
                Message.sent_at,
                Message.clicked_at.is_not(None).label("clicked"),
                Message.offer_code,
            ).where(
                Message.step_id == test.step_id,
                Message.variant.is_not(None),
                Message.sent_at.is_not(None),
            )
        ).all(),
        columns=["id", "variant", "customer_id", "sent_at", "clicked", "offer_code"],
    )
    spend = _spend(session, test, sent, window)
    variants = []
    for variant in test.variants:
        mine = sent[sent["variant"] == variant.position]
        dollars = spend.reindex(mine["id"]).fillna(0.0)
        variants.append(
            VariantResult(
                position=variant.position,
                recipients=len(mine),
                clicks=int(mine["clicked"].astype(bool).sum()),
                conversions=int((dollars > 0).sum()),
                revenue_cents=round(float(dollars.sum()) * 100),
                revenue=tuple(dollars.tolist()),
            )
        )
    return TestResults(
        test_id=test.id,
        metric=test.metric,
        confidence=test.confidence,
        needed=test.sample_per_variant,
        variants=variants,
        comparisons=_compare(test, variants),
        chance_best=_chance_best(test.metric, variants),
        last_sent_at=None if sent.empty else pd.Timestamp(sent["sent_at"].max()).to_pydatetime(),
        wait=timedelta(hours=test.wait_hours),
    )


def _spend(session: Session, test: ABTest, sent: pd.DataFrame, window: timedelta) -> pd.Series:
    """Dollars each message's recipient spent: orders in the window after it was sent, or
    with its code; by message id."""
    if sent.empty:
        return pd.Series(dtype=float)
    first = sent["sent_at"].min()
    orders = pd.DataFrame(
        session.execute(
            select(Order.customer_id, Order.ordered_at, Order.total_cents, Order.promo_code)
            .join(Message, Message.customer_id == Order.customer_id)
            .where(
                Message.step_id == test.step_id,
                Message.variant.is_not(None),
                Message.sent_at.is_not(None),
                or_(Order.ordered_at >= first, Order.promo_code == Message.offer_code),
            )
            .distinct()
        ).all(),
        columns=["customer_id", "ordered_at", "total_cents", "promo_code"],
    )
    if orders.empty:
        return pd.Series(dtype=float)
    joined = sent.merge(orders, on="customer_id")
    sent_at = pd.to_datetime(joined["sent_at"], utc=True)
    ordered_at = pd.to_datetime(joined["ordered_at"], utc=True)
    inside = (ordered_at >= sent_at) & (ordered_at <= sent_at + window)
    coded = joined["promo_code"].notna() & (joined["promo_code"] == joined["offer_code"])
    counted = joined[inside | coded]
    return counted.groupby("id")["total_cents"].sum() / 100


def _compare(test: ABTest, variants: list[VariantResult]) -> list[Comparison]:
    control = variants[0] if variants else None
    if control is None or control.recipients == 0:
        return []
    found = []
    for variant in variants[1:]:
        if variant.recipients == 0:
            continue
        rates = compare_rates(
            control.recipients,
            control.hits(test.metric),
            variant.recipients,
            variant.hits(test.metric),
            test.confidence,
        )
        revenue = None
        if control.recipients >= 2 and variant.recipients >= 2:
            revenue = compare_means(control.revenue, variant.revenue, test.confidence)
        p = (
            revenue.p_value
            if test.metric == Metric.REVENUE_PER_RECIPIENT and revenue
            else rates.p_value
        )
        found.append(Comparison(variant.position, rates, revenue, p))
    adjusted = holm([c.p_value for c in found]) if len(found) > 1 else [c.p_value for c in found]
    return [
        Comparison(c.position, c.rates, c.revenue, p) for c, p in zip(found, adjusted, strict=True)
    ]


def _chance_best(metric: Metric, variants: list[VariantResult]) -> list[float]:
    """Empty until every variant was sent and one of them had a click (or a purchase): before
    that, the chances would only restate the prior."""
    rate = Metric.CLICK_RATE if metric == Metric.CLICK_RATE else Metric.CONVERSION_RATE
    if not variants or any(v.recipients == 0 for v in variants):
        return []
    if not any(v.hits(rate) for v in variants):
        return []
    return probability_best([v.recipients for v in variants], [v.hits(rate) for v in variants])


def waiting_for_judgement(*, session: Session, now: datetime) -> list[int]:
    """Running tests at their horizon (every variant was sent its planned sample and the wait
    after the last one is over), or cut short (their campaign ended before the sample was in).
    Counts only: cheap enough for the minute clock."""
    running = {
        test.id: test
        for test in session.scalars(select(ABTest).where(ABTest.status == TestStatus.RUNNING))
    }
    if not running:
        return []
    ended = set(
        session.scalars(
            select(ABTest.id)
            .join(Campaign, Campaign.id == ABTest.campaign_id)
            .where(ABTest.id.in_(running), Campaign.status.in_(ENDED))
        )
    )
    sent = session.execute(
        select(ABTest.id, Message.variant, func.count(), func.max(Message.sent_at))
        .join(Message, Message.step_id == ABTest.step_id)
        .where(
            ABTest.id.in_(running),
            Message.variant.is_not(None),
            Message.sent_at.is_not(None),
        )
        .group_by(ABTest.id, Message.variant)
    ).all()
    reached: dict[int, set[int | None]] = {}
    last: dict[int, datetime] = {}
    for test_id, variant, count, newest in sent:
        if count >= running[test_id].sample_per_variant:
            reached.setdefault(test_id, set()).add(variant)
        if newest is not None:
            last[test_id] = max(newest, last.get(test_id, newest))
    at_horizon = {
        test_id
        for test_id, variants in reached.items()
        if len(variants) == len(running[test_id].variants)
        and test_id in last
        and now >= last[test_id] + timedelta(hours=running[test_id].wait_hours)
    }
    short = {t for t in ended if len(reached.get(t, ())) < len(running[t].variants)}
    return sorted(at_horizon | short)
