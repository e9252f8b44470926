"""RFM: recency, frequency and spend quintiles, and the eleven named segments they make."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

RFM_SEGMENTS = (
    # (recency scores, frequency scores, name) in priority order; R and F are quintiles 1–5.
    ((5,), (4, 5), "Champions"),
    ((3, 4, 5), (4, 5), "Loyal"),
    ((5,), (1,), "New"),
    ((4,), (1,), "Promising"),
    ((4, 5), (2, 3), "Potential Loyalist"),
    ((3,), (3,), "Need Attention"),
    ((3,), (1, 2), "About to Sleep"),
    ((1, 2), (5,), "Can't Lose Them"),
    ((1, 2), (3, 4), "At Risk"),
    ((1,), (1,), "Lost"),
    ((1, 2), (1, 2), "Hibernating"),
)
RFM_SEGMENT_NAMES = tuple(name for _, _, name in RFM_SEGMENTS)


# --- scores --------------------------------------------------------------------------------


def _quintile(values: pd.Series, *, higher_is_better: bool) -> pd.Series:
    """1–5 by rank, so ties and skew cannot leave a quintile empty or break the cut."""
    ranks = values.rank(method="first", ascending=higher_is_better)
    return pd.Series(np.ceil(ranks / len(values) * 5), index=values.index).clip(1, 5).astype(int)


def rfm_scores(summary: pd.DataFrame, until: datetime) -> pd.DataFrame:
    recency_days = (pd.Timestamp(until) - summary["last"]).dt.days
    scores = pd.DataFrame(
        {
            "r_score": _quintile(-recency_days, higher_is_better=True),
            "f_score": _quintile(summary["orders"], higher_is_better=True),
            "m_score": _quintile(summary["spent"], higher_is_better=True),
        },
        index=summary.index,
    )
    scores["rfm_segment"] = rfm_segment(scores["r_score"], scores["f_score"])
    return scores


def rfm_segment(r: pd.Series, f: pd.Series) -> pd.Series:
    """The named segment for each (R, F) pair; the first rule that matches wins."""
    names = pd.Series(pd.NA, index=r.index, dtype="object")
    for recencies, frequencies, name in RFM_SEGMENTS:
        hit = names.isna() & r.isin(recencies) & f.isin(frequencies)
        names[hit] = name
    return names.fillna("Need Attention")


# --- writing -------------------------------------------------------------------------------

NO_PURCHASES = "No purchases yet"
