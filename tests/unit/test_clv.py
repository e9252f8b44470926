"""The lifetime-value models: likelihoods checked by hand, fits checked on simulated stores."""

import math

import numpy as np
import pytest

from core.errors import ValidationError
from core.scoring import clv


def test_bgnbd_likelihood_matches_the_paper_by_hand() -> None:
    r, alpha, a, b = 0.5, 10.0, 1.5, 3.0
    params = clv.BgNbd(r, alpha, a, b)
    for x, t_x, T in ((2, 30.0, 60.0), (0, 0.0, 45.0)):
        gamma = math.gamma
        a1 = gamma(r + x) * alpha**r / gamma(r)
        a2 = gamma(a + b) * gamma(b + x) / (gamma(b) * gamma(a + b + x))
        a3 = (alpha + T) ** -(r + x)
        a4 = (a / (b + x - 1)) * (alpha + t_x) ** -(r + x) if x > 0 else 0.0
        by_hand = math.log(a1 * a2 * (a3 + a4))
        computed = clv.bgnbd_log_likelihood(params, np.array([x]), np.array([t_x]), np.array([T]))
        assert computed[0] == pytest.approx(by_hand, rel=1e-12)


def test_gamma_gamma_likelihood_by_hand() -> None:
    p, q, v, x, m = 6.0, 4.0, 15.0, 3.0, 42.0
    by_hand = (
        math.lgamma(p * x + q)
        - math.lgamma(p * x)
        - math.lgamma(q)
        + q * math.log(v)
        + (p * x - 1) * math.log(m)
        + p * x * math.log(x)
        - (p * x + q) * math.log(x * m + v)
    )
    computed = clv.gamma_gamma_log_likelihood(clv.GammaGamma(p, q, v), np.array([x]), np.array([m]))
    assert computed[0] == pytest.approx(by_hand, rel=1e-12)


def simulate_bgnbd(
    params: clv.BgNbd, n: int, rng: np.random.Generator, horizon: float = 0.0
) -> tuple[np.ndarray, ...]:
    """Customers following the BG/NBD story, observed for T days after their first purchase;
    also how many purchases each makes in the `horizon` days after that."""
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    T = rng.uniform(180, 365, n)
    x, t_x, later = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t, alive = 0.0, True
        while alive:
            t += rng.exponential(1 / lam[i])
            if t > T[i] + horizon:
                break
            if t <= T[i]:
                x[i], t_x[i] = x[i] + 1, t
            else:
                later[i] += 1
            alive = rng.random() >= drop[i]
    return x, t_x, T, later


def test_bgnbd_fit_recovers_known_parameters() -> None:
    true = clv.BgNbd(r=0.8, alpha=30.0, a=0.9, b=3.0)
    x, t_x, T, _ = simulate_bgnbd(true, 8000, np.random.default_rng(11))
    fit = clv.fit_bgnbd(x, t_x, T)
    assert fit.r == pytest.approx(true.r, rel=0.15)
    assert fit.alpha == pytest.approx(true.alpha, rel=0.15)
    assert fit.a / (fit.a + fit.b) == pytest.approx(true.a / (true.a + true.b), rel=0.2)


def test_predictions_match_what_simulated_customers_do_next() -> None:
    true = clv.BgNbd(r=1.2, alpha=20.0, a=0.5, b=2.5)  # a < 1: the closed form still holds
    x, t_x, T, later = simulate_bgnbd(true, 6000, np.random.default_rng(5), horizon=90)
    predicted = clv.expected_purchases(true, 90, x, t_x, T)
    assert predicted.sum() == pytest.approx(later.sum(), rel=0.06)
    alive = clv.p_alive(true, x, t_x, T)
    assert alive[x == 0].min() == 1.0 and 0 < alive.min() < alive.max() <= 1


def test_gamma_gamma_fit_recovers_known_parameters() -> None:
    rng = np.random.default_rng(3)
    true = clv.GammaGamma(p=6.0, q=4.0, v=15.0)
    n = 20_000
    nu = rng.gamma(true.q, 1 / true.v, n)
    x = rng.integers(1, 10, n).astype(float)
    m = rng.gamma(true.p * x, 1 / (nu * x))  # the mean of x Gamma(p, ν) orders
    fit = clv.fit_gamma_gamma(x, m)
    assert fit.p == pytest.approx(true.p, rel=0.15)
    assert fit.q == pytest.approx(true.q, rel=0.15)
    assert fit.v == pytest.approx(true.v, rel=0.2)
    value = clv.expected_order_value(fit, np.array([0.0, 50.0]), np.array([0.0, 30.0]))
    assert value[0] == pytest.approx(fit.p * fit.v / (fit.q - 1))
    assert value[1] == pytest.approx(30.0, rel=0.05), "a long history speaks for itself"


def test_too_little_history_is_refused() -> None:
    with pytest.raises(ValidationError, match="repeat customers"):
        clv.fit_bgnbd(np.zeros(100), np.zeros(100), np.full(100, 30.0))
    with pytest.raises(ValidationError, match="order values"):
        clv.fit_gamma_gamma(np.zeros(5), np.ones(5))


@pytest.mark.slow
def test_both_models_recover_their_parameters_and_predict_the_holdout() -> None:
    """20,000 customers who buy by the BG/NBD story and spend by the Gamma-Gamma one: fitted
    as the scoring run fits them (repeat purchase days, mean spend per repeat day), the models
    find the parameters again and predict the next 90 days' purchases and spend within 5 %."""
    rng = np.random.default_rng(2026)
    buying, spending = clv.BgNbd(r=0.9, alpha=35.0, a=0.4, b=2.5), clv.GammaGamma(6.0, 4.0, 1500.0)
    n = 20_000
    rate = rng.gamma(buying.r, 1 / buying.alpha, n)
    drop = rng.beta(buying.a, buying.b, n)
    nu = rng.gamma(spending.q, 1 / spending.v, n)
    T = rng.uniform(180, 540, n)
    x, t_x, m = np.zeros(n), np.zeros(n), np.zeros(n)
    later, later_spend = np.zeros(n), np.zeros(n)
    for i in range(n):
        t, spent = 0.0, 0.0
        while True:
            t += rng.exponential(1 / rate[i])
            if t > T[i] + 90:
                break
            value = rng.gamma(spending.p, 1 / nu[i])
            if t <= T[i]:
                x[i], t_x[i], spent = x[i] + 1, t, spent + value
            else:
                later[i], later_spend[i] = later[i] + 1, later_spend[i] + value
            if rng.random() < drop[i]:
                break
        m[i] = spent / x[i] if x[i] else 0.0

    bgnbd, gamma_gamma = clv.fit_bgnbd(x, t_x, T), clv.fit_gamma_gamma(x, m)
    assert bgnbd.r == pytest.approx(buying.r, rel=0.15)
    assert bgnbd.alpha == pytest.approx(buying.alpha, rel=0.15)
    assert bgnbd.a / (bgnbd.a + bgnbd.b) == pytest.approx(buying.a / (buying.a + buying.b), rel=0.2)
    assert gamma_gamma.p == pytest.approx(spending.p, rel=0.2)
    assert gamma_gamma.q == pytest.approx(spending.q, rel=0.2)
    purchases = clv.expected_purchases(bgnbd, 90, x, t_x, T)
    spend = purchases * clv.expected_order_value(gamma_gamma, x, m)
    assert purchases.sum() == pytest.approx(later.sum(), rel=0.05)
    assert spend.sum() == pytest.approx(later_spend.sum(), rel=0.05)


def test_the_spend_model_sees_repeat_days_only() -> None:
    """m is the mean spend per *repeat* purchase day: the first day is left out, as the
    published model defines it (the first visit's basket is not what a returning customer
    spends), and a one-day customer has none."""
    import pandas as pd

    from core.scoring.run import model_inputs

    first = pd.Timestamp("2026-01-01", tz="UTC")
    summary = pd.DataFrame(
        {
            "days": [3, 1],
            "first": [first, first],
            "last": [first + pd.Timedelta(days=40), first],
            "spent": [10_000 + 2_000 + 4_000, 5_000],
            "first_day_spent": [10_000, 5_000],
        }
    )
    x, t_x, T, m = model_inputs(summary, pd.Timestamp("2026-03-02", tz="UTC").to_pydatetime())
    assert x.tolist() == [2.0, 0.0] and t_x.tolist() == [40.0, 0.0] and T.tolist() == [60.0, 60.0]
    assert m.tolist() == [3_000.0, 0.0]


def test_a_prediction_the_arithmetic_cannot_give_is_left_empty() -> None:
    """A model fitted on degenerate data (q barely above 1: the mean order value explodes)
    must not store a made-up figure, nor fail on one: the value is left empty."""
    import pandas as pd

    from core.scoring.run import predict

    first = pd.Timestamp("2025-01-01", tz="UTC")
    summary = pd.DataFrame(
        {
            "days": [1, 3],
            "first": [first, first],
            "last": [first, first + pd.Timedelta(days=30)],
            "spent": [4_000, 9_000],
            "first_day_spent": [4_000, 3_000],
            "orders": [1, 3],
        },
        index=[1, 2],
    )
    fitted = {
        "bgnbd": clv.BgNbd(r=0.9, alpha=35.0, a=0.4, b=2.5),
        "gamma_gamma": clv.GammaGamma(6.0, 1.0 + 1e-12, 1500.0),
    }
    until = pd.Timestamp("2025-06-01", tz="UTC").to_pydatetime()
    predicted = predict(fitted, summary, until, 365)["predicted_clv_cents"]
    assert predicted.isna().tolist() == [True, False]
