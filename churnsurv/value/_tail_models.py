r"""Model tails: a survival family fitted to a segment's counts continues its curve beyond the last time.

The value of a customer depends on how the survival curve continues past the data, which the data cannot tell.
Besides a hard stop and a constant hazard fitted to the last periods (:mod:`churnsurv.value._engine`), a
value calculation can continue the curve with a parametric family fitted to the whole curve, conditioned on the
last observed survival:

.. math:: S(\tau + x) = \hat S(\tau)\, \frac{S_\theta(\tau + x)}{S_\theta(\tau)}.

The family is fitted to the counts the curve carries (customers at risk :math:`n_j` and defections :math:`d_j`
at its times :math:`t_j`) by the grouped-data likelihood

.. math:: \ell(\theta) = \sum_j d_j \log h_j(\theta) + (n_j - d_j) \log\{1 - h_j(\theta)\},\qquad
          h_j(\theta) = 1 - S_\theta(t_j) / S_\theta(t_{j-1}),

with :math:`t_{-1} = 0`. The risk sets count customers once they have entered, so left-truncated (snapshot)
curves are fitted correctly; with whole-period tenures it is the exact likelihood of the discrete data, and for
the shifted-beta-geometric (sBG) and beta-discrete-Weibull (BdW) families it is their likelihood on individual
tenures (Fader & Hardie 2007; Fader et al. 2018). Because only counts are used, the fit runs on a life table of
any size and again on every bootstrap replicate.

Families (time :math:`x = t / p` in periods): ``exponential`` :math:`e^{-\lambda x}`; ``weibull``
:math:`\exp\{-(x/\alpha)^\gamma\}`; ``lognormal`` :math:`1 - \Phi\{(\log x - \mu)/\sigma\}`; ``loglogistic``
:math:`1 / \{1 + (x/\alpha)^\beta\}`; ``sbg`` :math:`B(a, b + x) / B(a, b)`; ``bdw``
:math:`B(a, b + x^c) / B(a, b)`; ``cure`` (a Weibull mixture cure model)
:math:`\pi + (1 - \pi)\exp\{-(x/\alpha)^\gamma\}`, a share :math:`\pi` that never leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, expit, log_ndtr

#: The model families a value tail can use, with their parameter names (in the order of ``params``).
FAMILIES = {
    "exponential": ("rate",),
    "weibull": ("shape", "scale"),
    "lognormal": ("mu", "sigma"),
    "loglogistic": ("shape", "scale"),
    "sbg": ("alpha", "beta"),
    "bdw": ("alpha", "beta", "c"),
    "cure": ("cure_share", "shape", "scale"),
}


def _log_surv(family: str, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log S(x) for unconstrained parameters ``theta`` (log scale for positive ones, logit for a share)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if family == "exponential":
            return -np.exp(theta[0]) * x
        if family == "weibull":
            return -np.power(x / np.exp(theta[1]), np.exp(theta[0]))
        if family == "lognormal":
            z = (np.log(np.where(x > 0, x, np.nan)) - theta[0]) / np.exp(theta[1])
            return np.where(x > 0, log_ndtr(-z), 0.0)
        if family == "loglogistic":
            return -np.log1p(np.power(x / np.exp(theta[1]), np.exp(theta[0])))
        if family == "sbg":
            a, b = np.exp(theta[0]), np.exp(theta[1])
            return betaln(a, b + x) - betaln(a, b)
        if family == "bdw":
            a, b, c = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
            return betaln(a, b + np.power(x, c)) - betaln(a, b)
        if family == "cure":
            pi = expit(theta[0])
            return np.logaddexp(np.log(pi), np.log1p(-pi) - np.power(x / np.exp(theta[2]), np.exp(theta[1])))
    raise ValueError(f"unknown tail family {family!r}")


def _natural(family: str, theta: np.ndarray) -> dict:
    names = FAMILIES[family]
    values = [expit(theta[0])] + list(np.exp(theta[1:])) if family == "cure" else (
        [theta[0], np.exp(theta[1])] if family == "lognormal" else list(np.exp(theta)))
    return {n: float(v) for n, v in zip(names, values, strict=True)}


def _start(family: str, hazard: float) -> np.ndarray:
    scale = np.log(1.0 / max(hazard, 1e-6))
    return {"exponential": np.array([np.log(max(hazard, 1e-6))]),
            "weibull": np.array([0.0, scale]),
            "lognormal": np.array([scale, 0.0]),
            "loglogistic": np.array([0.0, scale]),
            "sbg": np.array([0.0, np.log(max(1.0 / max(hazard, 1e-6) - 1.0, 1e-3))]),
            "bdw": np.array([0.0, np.log(max(1.0 / max(hazard, 1e-6) - 1.0, 1e-3)), 0.0]),
            "cure": np.array([-1.0, 0.0, scale])}[family]


@dataclass
class TailModel:
    """A family fitted to one curve's counts: ``log_surv(t)`` on the time scale of the curve."""

    family: str
    theta: np.ndarray
    period: float
    log_likelihood: float
    params: dict
    converged: bool

    def log_surv(self, t) -> np.ndarray:
        return _log_surv(self.family, self.theta, np.asarray(t, dtype=float) / self.period)


def _neg_loglik(family: str, theta, x, x_prev, n, d) -> float:
    ls, ls_prev = _log_surv(family, theta, x), _log_surv(family, theta, x_prev)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_r = ls - ls_prev  # log of the conditional survival over (t_{j-1}, t_j]
        log_h = np.log(-np.expm1(log_r))
        ll = np.where(d > 0, d * log_h, 0.0) + np.where(n - d > 0, (n - d) * log_r, 0.0)
    total = float(np.sum(ll))
    return -total if np.isfinite(total) else 1e300


def fit_tail_model(time: np.ndarray, n_at_risk: np.ndarray, n_events: np.ndarray, family: str,
                   period: float) -> TailModel:
    """Maximum-likelihood fit of ``family`` to a curve's counts (grouped-data likelihood, see the module)."""
    from scipy.optimize import minimize

    t = np.asarray(time, dtype=float)
    n = np.asarray(n_at_risk, dtype=float)
    d = np.asarray(n_events, dtype=float)
    use = n > 0
    t_prev = np.r_[0.0, t[:-1]]
    t, t_prev, n, d = t[use], t_prev[use], n[use], d[use]
    x, x_prev = t / period, t_prev / period
    exposure = float(np.sum(n * np.maximum(x - x_prev, 1e-12)))
    hazard = float(d.sum()) / exposure if exposure > 0 else 0.1

    def f(theta):
        return _neg_loglik(family, theta, x, x_prev, n, d)

    best = None
    for start in (_start(family, hazard), _start(family, hazard) + 0.5):
        res = minimize(f, start, method="BFGS", options={"gtol": 1e-7})
        if not (res.success and np.isfinite(res.fun)):  # a rough surface: simplex first, then polish
            res = minimize(f, res.x if np.isfinite(res.fun) else start, method="Nelder-Mead",
                           options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 2000 * len(start)})
            res = minimize(f, res.x, method="BFGS", options={"gtol": 1e-7})
        if best is None or res.fun < best.fun:
            best = res
    return TailModel(family=family, theta=np.asarray(best.x, float), period=float(period),
                     log_likelihood=-float(best.fun), params=_natural(family, best.x),
                     converged=bool(np.isfinite(best.fun) and best.fun < 1e299))


def model_tail_sum(log_surv: Callable, surv_tau: float, tau: float, t0: np.ndarray, k1: np.ndarray,
                   n_terms: np.ndarray, v: float, delta: int, period: float, margin_fn, max_terms: int,
                   eps: float = 1e-15) -> np.ndarray:
    r"""Discounted tail sums :math:`\sum_{j \ge 0} g(t_0 + (k_1 + j) p)\, S(t_0 + (k_1 + j) p)\, v^{k_1 + j +
    \delta}` with :math:`S(t) = S(\tau) \exp\{\log S_\theta(t) - \log S_\theta(\tau)\}`, per starting tenure,
    summed in blocks until the terms vanish (or for ``n_terms`` terms)."""
    out = np.zeros(len(t0))
    if surv_tau <= 0 or not len(t0):
        return out
    ls_tau = float(log_surv(np.array([tau]))[0])
    finite = np.isfinite(n_terms)
    block = 512
    j0 = 0
    while True:
        j = np.arange(j0, j0 + block)
        u = k1[:, None] + j[None, :]
        times = t0[:, None] + u * period
        use = np.where(finite[:, None], j[None, :] < np.where(finite, n_terms, 0)[:, None], True)
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            terms = surv_tau * np.exp(log_surv(times) - ls_tau) * np.power(v, u + delta)
            if margin_fn is not None:
                terms = terms * margin_fn(times)
        terms = np.where(use, np.nan_to_num(terms, nan=0.0), 0.0)
        out += terms.sum(axis=1)
        j0 += block
        last = np.abs(terms[:, -1])
        done_finite = ~finite | (j0 >= np.where(finite, n_terms, 0))
        converged = last <= eps * np.maximum(np.abs(out), 1e-300)
        if np.all(np.where(finite, done_finite, converged)):
            return out
        if j0 >= max_terms:
            raise ValueError("The model tail's discounted sum does not converge within "
                             f"{max_terms:,} periods (the fitted family keeps customers too long for this discount "
                             "rate, e.g. a cure share with no discounting). Pass a horizon or a discount rate > 0.")
        block = min(block * 2, 65_536)
