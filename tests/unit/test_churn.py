"""Churn bands: the three groups of customers, and the RFM names that bound them."""

from datetime import UTC, datetime, timedelta

import pandas as pd

from core.scoring import churn_risk, typical_gap_days

UNTIL = datetime(2026, 11, 30, tzinfo=UTC)


def summary(*people: tuple[int, int, int]) -> pd.DataFrame:
    """(purchase days, days from first to last purchase, days since the last purchase) each."""
    rows = []
    for days, span, gone in people:
        last = UNTIL - timedelta(days=gone)
        rows.append({"days": days, "first": last - timedelta(days=span), "last": last})
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="customer_id"))


def test_the_typical_gap_is_the_median_among_repeat_buyers() -> None:
    # Gaps of 10, 30 and 40 days between purchase days; a one-time buyer does not count.
    people = summary((2, 10, 5), (3, 60, 5), (5, 160, 5), (1, 0, 5))
    assert typical_gap_days(people) == 30
    assert typical_gap_days(summary((1, 0, 5))) is None


def test_one_time_buyers_are_judged_by_their_absence_not_the_model() -> None:
    # Repeat buyers every 30 days; one-time buyers gone 10, 45 and 365 days.
    people = summary((3, 60, 5), (3, 60, 5), (1, 0, 10), (1, 0, 45), (1, 0, 365))
    named = pd.Series("Need Attention", index=people.index)  # a name that bounds nothing
    model = pd.Series(1.0, index=people.index)  # BG/NBD: certainly alive without a repeat
    result = churn_risk(people, named, UNTIL, p_alive=model, gap=typical_gap_days(people))
    assert list(result["churn_risk"]) == ["low", "low", "low", "medium", "high"]
    assert result["p_alive"].iloc[:2].tolist() == [1.0, 1.0]
    assert result["p_alive"].iloc[2:].isna().all(), "no P(alive) shown for a single purchase"


def test_repeat_buyers_take_the_model_band() -> None:
    people = summary((3, 60, 5), (3, 60, 5), (3, 60, 5))
    named = pd.Series("Need Attention", index=people.index)
    model = pd.Series([0.9, 0.5, 0.2], index=people.index)
    result = churn_risk(people, named, UNTIL, p_alive=model, gap=typical_gap_days(people))
    assert list(result["churn_risk"]) == ["low", "medium", "high"]


def test_the_rfm_name_bounds_the_band() -> None:
    people = summary((3, 60, 300), (3, 60, 100), (3, 60, 1))
    named = pd.Series(["Lost", "At Risk", "Champions"], index=people.index)
    model = pd.Series([0.99, 0.99, 0.01], index=people.index)
    result = churn_risk(people, named, UNTIL, p_alive=model, gap=typical_gap_days(people))
    assert list(result["churn_risk"]) == ["high", "medium", "medium"]


def test_without_a_model_everyone_is_judged_by_absence() -> None:
    people = summary((3, 60, 5), (3, 60, 100), (1, 0, 5))
    named = pd.Series("Need Attention", index=people.index)
    result = churn_risk(people, named, UNTIL, p_alive=None, gap=typical_gap_days(people))
    assert list(result["churn_risk"]) == ["low", "high", "low"]
    assert result["p_alive"].isna().all()
