"""Churn risk: one band per customer that the customer's RFM name cannot contradict.

Three groups are judged three ways:
- Repeat buyers (two or more purchase days): 1 − P(alive) from BG/NBD, banded.
- One-time buyers: BG/NBD calls everyone without a repeat purchase certainly alive (death can
  only follow a purchase in that model), which is no news. Their band comes from how long they
  have been gone against the store's typical gap between purchase days; P(alive) is left empty.
- Customers without a purchase get no band at all (scored elsewhere as "No purchases yet").

Then the RFM name bounds the band: a customer named "Lost" is high risk whatever the model says,
one who has gone quiet ("At Risk", "Hibernating", …) is never low, and a recent buyer
("Champions", "New", …) is never high. So a profile never shows "Lost" beside "low risk".
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

LOW, MEDIUM, HIGH = "low", "medium", "high"
BANDS = (LOW, MEDIUM, HIGH)
CHURN_BANDS = ((0.35, LOW), (0.65, MEDIUM))
"""1 − P(alive) below 0.35 is low risk, below 0.65 medium, else high."""

ONE_TIME_GAPS = ((1.0, LOW), (2.0, MEDIUM))
"""A one-time buyer gone for less than one typical gap is low risk, less than two medium."""

RFM_BOUNDS: dict[str, tuple[str, str]] = {
    # name: (lowest band, highest band) the name allows
    "Champions": (LOW, MEDIUM),
    "Loyal": (LOW, MEDIUM),
    "New": (LOW, MEDIUM),
    "Promising": (LOW, MEDIUM),
    "Potential Loyalist": (LOW, MEDIUM),
    "About to Sleep": (MEDIUM, HIGH),
    "At Risk": (MEDIUM, HIGH),
    "Can't Lose Them": (MEDIUM, HIGH),
    "Hibernating": (MEDIUM, HIGH),
    "Lost": (HIGH, HIGH),
}


def days_between_purchases(summary: pd.DataFrame) -> pd.Series:
    """Each customer's average days between purchase days (empty for a single purchase day)."""
    gap = (summary["last"] - summary["first"]).dt.total_seconds() / 86400 / (summary["days"] - 1)
    return gap.where(summary["days"] > 1)


def typical_gap_days(summary: pd.DataFrame) -> float | None:
    """The median number of days between purchase days among repeat buyers (None without
    any): how long a customer who comes back usually takes."""
    gaps = days_between_purchases(summary).dropna()
    return float(gaps.median()) if not gaps.empty else None


def band_of(risk: np.ndarray | pd.Series) -> np.ndarray:
    """Low, medium or high for each 1 − P(alive)."""
    return np.select(
        [np.asarray(risk) < limit for limit, _ in CHURN_BANDS],
        [name for _, name in CHURN_BANDS],
        HIGH,
    )


def churn_risk(
    summary: pd.DataFrame,
    rfm_segment: pd.Series,
    until: datetime,
    *,
    p_alive: pd.Series | None,
    gap: float | None,
) -> pd.DataFrame:
    """`churn_risk` and `p_alive` per customer of `summary` (indexed alike), one-time buyers
    judged against `gap` (`typical_gap_days`). Without a fitted model (`p_alive` None) repeat
    buyers are judged like one-time buyers, by their absence against the typical gap (their
    own rhythm is not trusted on so little history)."""
    repeat = summary["days"] > 1
    gone_days = (pd.Timestamp(until) - summary["last"]).dt.total_seconds() / 86400
    if gap:
        by_absence = np.select(
            [gone_days < times * gap for times, _ in ONE_TIME_GAPS],
            [name for _, name in ONE_TIME_GAPS],
            HIGH,
        )
    else:  # nobody has come back yet: only the RFM name can say anything
        by_absence = np.full(len(summary), MEDIUM)
    bands = pd.Series(by_absence, index=summary.index, dtype="object")
    alive = pd.Series(np.nan, index=summary.index)
    if p_alive is not None:
        alive = p_alive.where(repeat)
        bands = bands.where(~repeat, pd.Series(band_of(1 - p_alive), index=summary.index))
    return pd.DataFrame(
        {"churn_risk": bounded_by_rfm(bands, rfm_segment), "p_alive": alive},
        index=summary.index,
    )


def bounded_by_rfm(bands: pd.Series, rfm_segment: pd.Series) -> pd.Series:
    """Each band moved into the range its RFM name allows."""
    rank = bands.map(BANDS.index)
    lowest = rfm_segment.map(lambda name: BANDS.index(RFM_BOUNDS.get(name, (LOW, HIGH))[0]))
    highest = rfm_segment.map(lambda name: BANDS.index(RFM_BOUNDS.get(name, (LOW, HIGH))[1]))
    kept = rank.clip(lower=lowest.reindex(bands.index), upper=highest.reindex(bands.index))
    return kept.map(lambda i: BANDS[int(i)])
