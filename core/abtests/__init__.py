"""A/B tests: a campaign step's variants, which one each customer gets (a hash of test and
customer, by weight), the results per variant, the statistics that say whether one won, and the
decision (declared at the fixed horizon or chosen by a marketer)."""

from core.abtests.assignment import in_test, variant_for
from core.abtests.decision import choose_winner, judge, waiting_rollouts
from core.abtests.design import (
    Sizing,
    TestSpec,
    VariantSpec,
    baseline_from_history,
    get_test,
    locked_test,
    remove_test,
    save_test,
    size_test,
    spec_of,
    step_sizing,
    test_of_step,
    tests_of_campaign,
)
from core.abtests.results import (
    ENDED,
    TestResults,
    VariantResult,
    test_results,
    waiting_for_judgement,
)
from core.abtests.stats import (
    MeanComparison,
    RateComparison,
    compare_means,
    compare_rates,
    detectable_effect,
    holm,
    probability_b_better,
    probability_best,
    sample_size,
    verdict,
)

__all__ = [
    "ENDED",
    "MeanComparison",
    "RateComparison",
    "Sizing",
    "TestResults",
    "TestSpec",
    "VariantResult",
    "VariantSpec",
    "baseline_from_history",
    "choose_winner",
    "compare_means",
    "compare_rates",
    "detectable_effect",
    "get_test",
    "holm",
    "in_test",
    "judge",
    "locked_test",
    "probability_b_better",
    "probability_best",
    "remove_test",
    "sample_size",
    "save_test",
    "size_test",
    "spec_of",
    "step_sizing",
    "test_of_step",
    "test_results",
    "tests_of_campaign",
    "variant_for",
    "verdict",
    "waiting_for_judgement",
    "waiting_rollouts",
]
