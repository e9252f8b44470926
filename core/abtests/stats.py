"""The statistics of a test, the same functions for the command line and the pages.

Rates (click, conversion) are compared with the two-proportion z-test (pooled, two-sided) and a
Wald interval for the difference; revenue per recipient with Welch's t-test; the chance that a
variant is really better from Beta(1 + successes, 1 + failures) posteriors. With more than two
variants each is compared with the first and the p-values corrected by Holm's method. The rule
is a fixed horizon: no winner is declared before every variant reached the sample the test was
sized for, so looking early cannot produce a false winner.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, stats

from core.errors import ValidationError

CONFIDENCE = 0.95
POWER = 0.80


@dataclass(frozen=True)
class RateComparison:
    a_n: int
    a_conversions: int
    b_n: int
    b_conversions: int
    difference: float
    """B's rate less A's."""
    low: float
    high: float
    p_value: float
    probability_b_better: float
    confidence: float

    @property
    def a_rate(self) -> float:
        return self.a_conversions / self.a_n

    @property
    def b_rate(self) -> float:
        return self.b_conversions / self.b_n

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.confidence

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "a_n": self.a_n,
            "a_conversions": self.a_conversions,
            "a_rate": round(self.a_rate, 6),
            "b_n": self.b_n,
            "b_conversions": self.b_conversions,
            "b_rate": round(self.b_rate, 6),
            "difference": round(self.difference, 6),
            "low": round(self.low, 6),
            "high": round(self.high, 6),
            "p_value": round(self.p_value, 6),
            "probability_b_better": round(self.probability_b_better, 4),
            "confidence": self.confidence,
            "significant": self.significant,
        }


def _check_counts(n: int, conversions: int, name: str) -> None:
    if n <= 0:
        raise ValidationError(f"{name}: the number of recipients must be above 0 (got {n}).")
    if not 0 <= conversions <= n:
        raise ValidationError(
            f"{name}: conversions must be between 0 and the recipients ({n}); got {conversions}."
        )


def compare_rates(
    a_n: int, a_conversions: int, b_n: int, b_conversions: int, confidence: float = CONFIDENCE
) -> RateComparison:
    _check_counts(a_n, a_conversions, "A")
    _check_counts(b_n, b_conversions, "B")
    if not 0.5 <= confidence < 1:
        raise ValidationError(f"Confidence must be between 0.5 and 1 (got {confidence}).")
    a_rate, b_rate = a_conversions / a_n, b_conversions / b_n
    pooled = (a_conversions + b_conversions) / (a_n + b_n)
    pooled_error = math.sqrt(pooled * (1 - pooled) * (1 / a_n + 1 / b_n))
    difference = b_rate - a_rate
    z = difference / pooled_error if pooled_error else 0.0  # no spread at all: no evidence
    p_value = float(2 * stats.norm.sf(abs(z)))
    error = math.sqrt(a_rate * (1 - a_rate) / a_n + b_rate * (1 - b_rate) / b_n)
    margin = float(stats.norm.ppf(0.5 + confidence / 2)) * error
    return RateComparison(
        a_n=a_n,
        a_conversions=a_conversions,
        b_n=b_n,
        b_conversions=b_conversions,
        difference=difference,
        low=difference - margin,
        high=difference + margin,
        p_value=p_value,
        probability_b_better=probability_b_better(a_n, a_conversions, b_n, b_conversions),
        confidence=confidence,
    )


def probability_b_better(a_n: int, a_conversions: int, b_n: int, b_conversions: int) -> float:
    """P(B's true rate > A's) under Beta(1 + conversions, 1 + the rest) posteriors:
    the integral of B's density times A's distribution function."""
    a = stats.beta(1 + a_conversions, 1 + a_n - a_conversions)
    b = stats.beta(1 + b_conversions, 1 + b_n - b_conversions)
    spread = 12 * max(a.std(), b.std())
    low = max(0.0, min(a.mean(), b.mean()) - spread)
    high = min(1.0, max(a.mean(), b.mean()) + spread)
    found, _ = integrate.quad(
        lambda x: b.pdf(x) * a.cdf(x), low, high, points=[a.mean(), b.mean()], limit=200
    )
    return float(min(max(found, 0.0), 1.0))


DRAWS = 40_000


def probability_best(recipients: Sequence[int], conversions: Sequence[int]) -> list[float]:
    """Each variant's chance to have the highest true rate, from Beta(1 + conversions, 1 + the
    rest) posteriors: the share of joint draws in which it comes out on top (a fixed seed, so
    the same counts always give the same figures)."""
    for n, hits in zip(recipients, conversions, strict=True):
        _check_counts(n, hits, "A variant")
    rng = np.random.default_rng(20_261_130)
    draws = np.column_stack(
        [
            rng.beta(1 + hits, 1 + n - hits, DRAWS)
            for n, hits in zip(recipients, conversions, strict=True)
        ]
    )
    wins = np.bincount(draws.argmax(axis=1), minlength=len(recipients))
    return (wins / DRAWS).tolist()


@dataclass(frozen=True)
class MeanComparison:
    difference: float
    low: float
    high: float
    p_value: float


def compare_means(
    a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE
) -> MeanComparison:
    """Revenue per recipient, B less A: Welch's t-test and interval."""
    a_values, b_values = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a_values) < 2 or len(b_values) < 2:
        raise ValidationError("Each variant needs at least two recipients to compare revenue.")
    result = stats.ttest_ind(b_values, a_values, equal_var=False)
    interval = result.confidence_interval(confidence)
    return MeanComparison(
        difference=float(b_values.mean() - a_values.mean()),
        low=float(interval.low),
        high=float(interval.high),
        p_value=float(result.pvalue),
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of several variants' p-values (each against the control)."""
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def sample_size(
    baseline: float, effect: float, confidence: float = CONFIDENCE, power: float = POWER
) -> int:
    """Recipients needed per variant to detect a change of `effect` (absolute, 0.02 = 2 pts)
    from a `baseline` rate with a two-sided test at `confidence` and `power`."""
    if not 0 < baseline < 1 or not 0 < baseline + effect < 1 or effect == 0:
        raise ValidationError(
            f"The baseline ({baseline:.1%}) and the change ({effect:+.1%}) must keep the rate "
            "between 0 and 100 %, and the change cannot be 0."
        )
    other = baseline + effect
    mean = (baseline + other) / 2
    z_alpha = stats.norm.ppf(0.5 + confidence / 2)
    z_power = stats.norm.ppf(power)
    needed = (
        z_alpha * math.sqrt(2 * mean * (1 - mean))
        + z_power * math.sqrt(baseline * (1 - baseline) + other * (1 - other))
    ) ** 2 / effect**2
    return math.ceil(needed)


def detectable_effect(
    baseline: float, per_variant: int, confidence: float = CONFIDENCE, power: float = POWER
) -> float:
    """The smallest rise from `baseline` a test of `per_variant` recipients each can detect."""
    if per_variant < 2:
        raise ValidationError("A variant needs at least two recipients.")
    top = 1 - baseline - 1e-9
    if sample_size(baseline, top, confidence, power) > per_variant:
        return top
    return float(
        optimize.brentq(
            lambda e: sample_size(baseline, e, confidence, power) - per_variant, 1e-6, top
        )
    )


def verdict(found: RateComparison, *, needed: int, metric: str = "click rate") -> str:
    """The comparison in a marketer's words, under the fixed-horizon rule."""
    smallest = min(found.a_n, found.b_n)
    if smallest < needed:
        return (
            f"Not decided yet: {smallest:,} of the {needed:,} recipients per variant the test "
            "needs have been reached."
        )
    points = f"{found.difference * 100:+.1f} pts {metric}"
    interval = f"{found.low * 100:+.1f} to {found.high * 100:+.1f} pts"
    if not found.significant:
        return (
            f"No winner: {points} ({interval} at {found.confidence:.0%}, p = "
            f"{found.p_value:.2f}) could be chance."
        )
    winner, chance = (
        ("B", found.probability_b_better)
        if found.difference > 0
        else ("A", 1 - found.probability_b_better)
    )
    return (
        f"{winner} wins with {found.confidence:.0%} confidence: {points} ({interval}, p = "
        f"{found.p_value:.3f}; a {chance:.1%} chance {winner} is really better)."
    )
