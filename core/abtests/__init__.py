"""A/B tests: which variant a customer gets, and the statistics that say whether one won."""

from core.abtests.assignment import variant_for
from core.abtests.stats import (
    MeanComparison,
    RateComparison,
    compare_means,
    compare_rates,
    detectable_effect,
    holm,
    probability_b_better,
    sample_size,
    verdict,
)

__all__ = [
    "MeanComparison",
    "RateComparison",
    "compare_means",
    "compare_rates",
    "detectable_effect",
    "holm",
    "probability_b_better",
    "sample_size",
    "variant_for",
    "verdict",
]
