"""Customer lifetime value models, fitted by maximum likelihood on the store's own orders.

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive, a
  customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop
  out with probability p ~ Beta(a, b). From (x, t_x, T) it gives P(alive) and expected orders.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's transaction values are
  Gamma(p, ν) with ν ~ Gamma(q, γ), independent of how often they buy. From (x, m) it gives the
  expected value of their future orders.

Inputs per customer, in days: x = repeat purchase days (distinct purchase days − 1), t_x = days
from first to last purchase, T = days from first purchase to the end of the period; m = mean
order value. All functions take and return numpy arrays (one entry per customer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import gammaln, hyp2f1

from core.errors import ValidationError


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def bgnbd_log_likelihood(
    params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Each customer's log-likelihood (equation 6 of the BG/NBD paper, in logs for stability)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
) -> BgNbd:
    """Maximum-likelihood parameters. Identical (x, t_x, T) rows may be passed once with a
    weight. Raises ValidationError when the data cannot identify the model."""
    weights = np.ones_like(x, dtype=float) if weights is None else weights
    if weights[x > 0].sum() < 10:
        raise ValidationError("Too few repeat customers to fit purchase and dropout rates.")

    def loss(log_params: np.ndarray) -> float:
        params = BgNbd(*np.exp(log_params))
        return -float(np.sum(weights * bgnbd_log_likelihood(params, x, t_x, T)))

    start = np.log([1.0, max(float(np.average(T, weights=weights)), 1.0), 1.0, 1.0])
    return BgNbd(*np.exp(_minimize(loss, start)))


def p_alive(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Probability the customer is still buying at T (1 for one-time buyers, by the model)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = np.log(a / (b + x - 1)) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        alive = 1.0 / (1.0 + np.exp(log_odds))
    return np.where(x > 0, alive, 1.0)


def expected_purchases(
    params: BgNbd, days: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchase days in the next `days`, given each customer's history (equation 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1) < 1e-6:  # the closed form divides by a − 1; it holds on either side of 1
        a += 2e-6
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, days / (alpha + T + days))
    first = (a + b + x - 1) / (a - 1)
    second = 1 - hyp * ((alpha + T) / (alpha + T + days)) ** (r + x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(x > 0, (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return first * second / (1 + odds)


def gamma_gamma_log_likelihood(params: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood of their mean order value m over x orders (x ≥ 1)."""
    p, q, v = params.p, params.q, params.v
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + (p * x) * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> GammaGamma:
    """Maximum-likelihood parameters from customers with at least one order of value m > 0."""
    keep = (x >= 1) & (m > 0)
    if keep.sum() < 10:
        raise ValidationError("Too few customers with order values to fit spend.")
    x, m = x[keep], m[keep]

    def loss(log_params: np.ndarray) -> float:
        return -float(np.sum(gamma_gamma_log_likelihood(GammaGamma(*np.exp(log_params)), x, m)))

    start = np.log([1.0, 2.0, float(np.mean(m))])
    return GammaGamma(*np.exp(_minimize(loss, start)))


def expected_order_value(params: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[value of a future order | x orders averaging m]: the customer's own mean, shrunk
    towards the population's by how little we have seen of them."""
    p, q, v = params.p, params.q, params.v
    population = p * v / (q - 1)  # the mean order value across customers (needs q > 1)
    own = (p * (v + x * m)) / (p * x + q - 1)
    return np.where(x >= 1, own, population)


def _minimize(loss: object, start: np.ndarray) -> np.ndarray:
    """Nelder-Mead on log-parameters (positive by construction), polished by L-BFGS-B."""
    from scipy.optimize import minimize  # slow to import: only when a model is fitted

    coarse = minimize(loss, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-6})
    fine = minimize(loss, coarse.x, method="L-BFGS-B", bounds=[(-12, 12)] * len(start))
    best = fine if fine.fun <= coarse.fun else coarse
    if not np.all(np.isfinite(best.x)) or not np.isfinite(best.fun):
        raise ValidationError("The model could not be fitted to these orders.")
    return best.x
