"""A/B test statistics against statsmodels and scipy, and the assignment's shares and stickiness."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

from core import abtests
from core.cli import main
from core.errors import ValidationError

CASES = [(1000, 100, 1000, 130), (5200, 61, 4800, 49), (300, 0, 280, 4), (80, 40, 95, 60)]


@pytest.mark.parametrize(("a_n", "a_conv", "b_n", "b_conv"), CASES)
def test_rates_match_statsmodels(a_n: int, a_conv: int, b_n: int, b_conv: int) -> None:
    found = abtests.compare_rates(a_n, a_conv, b_n, b_conv)
    _, p_value = proportions_ztest([b_conv, a_conv], [b_n, a_n])
    low, high = confint_proportions_2indep(
        b_conv, b_n, a_conv, a_n, method="wald", compare="diff", alpha=0.05
    )
    assert found.p_value == pytest.approx(p_value, rel=1e-9)
    assert (found.low, found.high) == (
        pytest.approx(low, abs=1e-12),
        pytest.approx(high, abs=1e-12),
    )
    assert found.difference == pytest.approx(b_conv / b_n - a_conv / a_n)


@pytest.mark.parametrize(("a_n", "a_conv", "b_n", "b_conv"), CASES)
def test_chance_b_is_better_matches_a_simulation(
    a_n: int, a_conv: int, b_n: int, b_conv: int
) -> None:
    rng = np.random.default_rng(5)
    draws = 400_000
    a = rng.beta(1 + a_conv, 1 + a_n - a_conv, draws)
    b = rng.beta(1 + b_conv, 1 + b_n - b_conv, draws)
    simulated = float((b > a).mean())
    assert abtests.probability_b_better(a_n, a_conv, b_n, b_conv) == pytest.approx(
        simulated, abs=0.004
    )


def test_equal_variants_are_a_coin_toss_and_no_spread_is_no_evidence() -> None:
    assert abtests.probability_b_better(500, 50, 500, 50) == pytest.approx(0.5, abs=1e-6)
    none = abtests.compare_rates(200, 0, 200, 0)
    assert none.p_value == 1.0 and not none.significant


def test_revenue_per_recipient_matches_welch() -> None:
    rng = np.random.default_rng(2)
    a = rng.exponential(4.0, 900) * (rng.random(900) < 0.2)
    b = rng.exponential(4.5, 1100) * (rng.random(1100) < 0.22)
    found = abtests.compare_means(a, b)
    reference = stats.ttest_ind(b, a, equal_var=False)
    assert found.p_value == pytest.approx(reference.pvalue)
    assert found.difference == pytest.approx(b.mean() - a.mean())
    assert found.low < found.difference < found.high


def test_holm_matches_statsmodels() -> None:
    p_values = [0.01, 0.04, 0.03, 0.20]
    assert abtests.holm(p_values) == pytest.approx(
        multipletests(p_values, method="holm")[1].tolist()
    )


def test_sample_size_and_detectable_effect() -> None:
    # 10 % → 12 % at 95 % and 80 % power: the textbook two-proportion answer.
    needed = abtests.sample_size(0.10, 0.02)
    assert needed == 3841
    # statsmodels sizes the same test by Cohen's h (an arcsine scale): within 2 %.
    by_h = NormalIndPower().solve_power(
        proportion_effectsize(0.12, 0.10), alpha=0.05, power=0.8, ratio=1.0
    )
    assert needed == pytest.approx(by_h, rel=0.02)
    # The inverse: what 1,200 per variant can detect, and that it needs those 1,200.
    effect = abtests.detectable_effect(0.10, 1200)
    assert 0.03 < effect < 0.04
    assert abtests.sample_size(0.10, effect) == pytest.approx(1200, abs=1)
    with pytest.raises(ValidationError, match="between 0 and 100"):
        abtests.sample_size(0.95, 0.10)


def test_the_verdict_waits_for_the_sample_and_says_who_won() -> None:
    found = abtests.compare_rates(1000, 100, 1000, 130)
    assert abtests.verdict(found, needed=1850).startswith(
        "Not decided yet: 1,000 of the 1,850 recipients"
    )
    said = abtests.verdict(found, needed=1000)
    assert said.startswith("B wins with 95% confidence: +3.0 pts click rate")
    assert "98.2% chance B is really better" in said
    worse = abtests.verdict(abtests.compare_rates(1000, 130, 1000, 100), needed=1000)
    assert worse.startswith("A wins")
    tie = abtests.verdict(abtests.compare_rates(1000, 100, 1000, 104), needed=1000)
    assert tie.startswith("No winner: +0.4 pts click rate") and "could be chance" in tie


def test_bad_counts_are_named() -> None:
    with pytest.raises(ValidationError, match=r"B: conversions must be between 0 and the"):
        abtests.compare_rates(100, 10, 100, 101)
    with pytest.raises(ValidationError, match="A: the number of recipients must be above 0"):
        abtests.compare_rates(0, 0, 100, 1)


def test_assignment_follows_the_weights_and_sticks() -> None:
    weights = (50, 30, 20)
    got = np.bincount(
        [abtests.variant_for(7, customer, weights) for customer in range(100_000)], minlength=3
    )
    expected = np.array(weights) / 100 * 100_000
    assert stats.chisquare(got, expected).pvalue > 0.001
    assert [abtests.variant_for(7, c, weights) for c in range(50)] == [
        abtests.variant_for(7, c, weights) for c in range(50)
    ]
    other = [abtests.variant_for(8, c, weights) for c in range(1000)]
    assert other != [abtests.variant_for(7, c, weights) for c in range(1000)], "per test"
    with pytest.raises(ValidationError, match="two or more variants"):
        abtests.variant_for(7, 1, (1,))


def test_the_command_line_prints_the_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["abtest-stats", "--a-n", "1000", "--a-conv", "100", "--b-n", "1000", "--b-conv", "130"]
    assert main([*argv, "--min-sample", "1000", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert (said["difference"], said["significant"]) == (0.03, True)
    assert said["p_value"] == pytest.approx(0.035488, abs=1e-6)
    assert said["verdict"].startswith("B wins")
    assert (
        main(["abtest-stats", "--a-n", "10", "--a-conv", "11", "--b-n", "5", "--b-conv", "1"]) == 2
    )
    assert "A: conversions must be between 0 and the recipients (10); got 11." in (
        capsys.readouterr().err
    )


def test_the_share_in_the_test_is_drawn_apart_from_the_variant() -> None:
    customers = range(100_000)
    inside = [c for c in customers if abtests.in_test(7, c, 20)]
    assert stats.binomtest(len(inside), 100_000, 0.2).pvalue > 0.001
    variants = np.bincount([abtests.variant_for(7, c, (1, 1)) for c in inside], minlength=2)
    assert stats.chisquare(variants).pvalue > 0.001, "the variants split the share evenly"
    assert all(abtests.in_test(7, c, 100) for c in range(100))


def test_the_chance_to_be_best_agrees_with_the_pairwise_integral_and_sums_to_one() -> None:
    b_better = abtests.probability_b_better(1000, 100, 1000, 130)
    two = abtests.probability_best([1000, 1000], [100, 130])
    assert two[1] == pytest.approx(b_better, abs=0.01) and sum(two) == pytest.approx(1)
    three = abtests.probability_best([500, 500, 500], [20, 22, 60])
    assert three[2] > 0.99 and three == abtests.probability_best([500, 500, 500], [20, 22, 60])
