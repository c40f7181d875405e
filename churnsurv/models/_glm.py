"""Binomial GLM (IRLS / Fisher scoring) and multinomial logit (Newton) on aggregated binomial counts.

Both work on rows ``(x, trials, successes)``: a row with ``m`` trials and ``y`` successes contributes exactly
what its ``m`` Bernoulli person-period rows contribute, so the log-likelihood reported is the Bernoulli one
(no binomial coefficient), equal to R's ``logLik(glm(...))`` on the person-period data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GLMResult", "RowDesign", "binomial_glm", "inverse_link", "multinomial_logit"]


class RowDesign:
    """The design matrix ``[base[period_index], z]`` without forming it.

    Aggregated rows share a few period rows of the baseline design; the cross-products are accumulated per
    period with ``bincount`` first, so an iteration costs O(rows x q^2) for q covariate columns instead of
    O(rows x (periods + q)^2).
    """

    def __init__(self, base: np.ndarray, index: np.ndarray, z: np.ndarray):
        self.base = np.asarray(base, float)
        self.index = np.asarray(index, np.int64)
        self.z = np.asarray(z, float).reshape(len(self.index), -1)
        self.n_base = self.base.shape[1]
        self.shape = (len(self.index), self.n_base + self.z.shape[1])

    def dot(self, beta: np.ndarray) -> np.ndarray:
        return (self.base @ beta[:self.n_base])[self.index] + self.z @ beta[self.n_base:]

    def _by_period(self, values: np.ndarray) -> np.ndarray:
        n = self.base.shape[0]
        if values.ndim == 1:
            return np.bincount(self.index, weights=values, minlength=n)
        return np.stack([np.bincount(self.index, weights=values[:, c], minlength=n)
                         for c in range(values.shape[1])], axis=1).reshape(n, values.shape[1])

    def tdot(self, v: np.ndarray) -> np.ndarray:
        """X' v for a vector v over rows."""
        return np.r_[self.base.T @ self._by_period(v), self.z.T @ v]

    def crossprod(self, w: np.ndarray) -> np.ndarray:
        """X' diag(w) X."""
        wb = self._by_period(w)
        bb = (self.base.T * wb) @ self.base
        bz = self.base.T @ self._by_period(self.z * w[:, None]) if self.z.shape[1] else np.zeros((self.n_base, 0))
        zz = (self.z.T * w) @ self.z
        return np.block([[bb, bz], [bz.T, zz]])


@dataclass
class GLMResult:
    coef: np.ndarray
    vcov: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def inverse_link(eta: np.ndarray, link: str) -> np.ndarray:
    """Per-period hazard from the linear predictor."""
    if link == "cloglog":
        return -np.expm1(-np.exp(eta))
    return 0.5 * (1.0 + np.tanh(0.5 * eta))  # logistic, without overflow


def _log_h_and_log_1mh(eta, link):
    if link == "cloglog":
        e = np.exp(eta)
        return np.log(-np.expm1(-e)), -e
    return -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)


def _dh_deta(eta, link):
    if link == "cloglog":
        return np.exp(eta - np.exp(eta))
    h = inverse_link(eta, link)
    return h * (1.0 - h)


def _xlogy(y, logp):
    return np.where(y > 0, y * np.where(y > 0, logp, 0.0), 0.0)


def binomial_loglik(eta, y, m, link) -> float:
    lh, l1h = _log_h_and_log_1mh(eta, link)
    return float(np.sum(_xlogy(y, lh) + _xlogy(m - y, l1h)))


def _solve_spd(a, b):
    # symmetric positive definite solve with column equilibration (covariates on very different scales)
    s = np.sqrt(np.diag(a))
    s[s == 0] = 1.0
    return np.linalg.solve(a / np.outer(s, s), b / (s if b.ndim == 1 else s[:, None])) / (
        s if b.ndim == 1 else s[:, None])


def binomial_glm(x: np.ndarray, y: np.ndarray, m: np.ndarray, link: str, *, max_iter: int = 100,
                 tol: float = 1e-13) -> GLMResult:
    """Maximum likelihood for ``y ~ Binomial(m, h(x'b))`` by Fisher scoring (R's ``glm.fit``).

    Stops when the coefficients move by less than ``tol`` (relative), or by less than 1e-10 while the
    log-likelihood no longer changes in the 15th digit (R's ``glm`` stops on the deviance alone, which leaves
    cloglog coefficients about 1e-8 short).

    Starting values as in R's ``binomial()$initialize`` (``mustart = (m y + 0.5) / (m + 1)`` on the proportion
    scale); step halving when the deviance does not decrease. The covariance is the inverse Fisher information
    at the estimate (what ``summary.glm`` reports; equal to the observed information for the logit link).
    """
    if not isinstance(x, RowDesign):
        x = RowDesign(np.zeros((1, 0)), np.zeros(len(y), np.int64), x)
    y = np.asarray(y, float)
    m = np.asarray(m, float)
    prop = (y + 0.5) / (m + 1.0)
    eta = np.log(-np.log1p(-prop)) if link == "cloglog" else np.log(prop / (1 - prop))
    beta = None
    ll_old = -np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        h = inverse_link(eta, link)
        g = _dh_deta(eta, link)
        var = np.maximum(h * (1.0 - h), 1e-300)
        w = m * g * g / var
        z = eta + (y / np.where(m > 0, m, 1.0) - h) / np.where(g > 0, g, 1e-300)
        new = _solve_spd(x.crossprod(w), x.tdot(w * z))
        ll = binomial_loglik(x.dot(new), y, m, link)
        step = 1.0
        while beta is not None and (not np.isfinite(ll) or ll < ll_old - 1e-10 * abs(ll_old)) and step > 1e-8:
            step /= 2
            cand = beta + step * (new - beta)
            ll = binomial_loglik(x.dot(cand), y, m, link)
            new = cand
        change = np.inf if beta is None else np.max(np.abs(new - beta) / (np.abs(new) + 1e-3))
        beta = new
        eta = x.dot(beta)
        floor = change < 1e-10 and abs(ll - ll_old) <= 1e-15 * abs(ll)  # at the rounding floor of the likelihood
        ll_old = ll
        if change < tol or floor:
            converged = True
            break
    g = _dh_deta(eta, link)
    h = inverse_link(eta, link)
    w = m * g * g / np.maximum(h * (1.0 - h), 1e-300)
    info = x.crossprod(w)
    vcov = _solve_spd(info, np.eye(len(beta)))
    return GLMResult(beta, (vcov + vcov.T) / 2, binomial_loglik(eta, y, m, link), it, converged)


def _multinomial_probs(x, theta, k):
    eta = np.column_stack([x.dot(b) for b in theta.reshape(k, -1)])  # (rows, k)
    top = np.maximum(eta.max(axis=1, keepdims=True), 0.0)
    e = np.exp(eta - top)
    denom = np.exp(-top) + e.sum(axis=1, keepdims=True)
    return e / denom, np.exp(-top[:, 0]) / denom[:, 0]


def multinomial_loglik(x, theta, d, m, k) -> float:
    p, p0 = _multinomial_probs(x, theta, k)
    stay = m - d.sum(axis=1)
    with np.errstate(divide="ignore"):
        return float(np.sum(_xlogy(d, np.log(p))) + np.sum(_xlogy(stay, np.log(p0))))


def multinomial_logit(x: np.ndarray, d: np.ndarray, m: np.ndarray, *, max_iter: int = 100,
                      tol: float = 1e-13) -> GLMResult:
    """Multinomial logit over {stay, cause 1..K} (stay the reference) by Newton-Raphson.

    ``d`` holds the counts of each cause (rows x K), ``m`` the trials. Parameters are stacked cause-major:
    ``theta = (b_1, ..., b_K)``. For this canonical link the observed and expected information coincide.
    """
    if not isinstance(x, RowDesign):
        x = RowDesign(np.zeros((1, 0)), np.zeros(len(m), np.int64), x)
    d = np.asarray(d, float)
    m = np.asarray(m, float)
    n_rows, p = x.shape
    k = d.shape[1]
    # start: a weighted least-squares fit of the smoothed empirical log odds of each cause versus staying
    share = (d + 0.5 / (k + 1)) / (m + 0.5)[:, None]
    stay = np.maximum(1.0 - share.sum(axis=1), 1e-3)
    target = np.log(share / stay[:, None])
    xtx = x.crossprod(m) + 1e-8 * np.eye(p)
    theta = np.concatenate([_solve_spd(xtx, x.tdot(m * target[:, j])) for j in range(k)])
    ll_old = multinomial_loglik(x, theta, d, m, k)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        prob, _ = _multinomial_probs(x, theta, k)
        resid = d - m[:, None] * prob
        grad = np.concatenate([x.tdot(resid[:, j]) for j in range(k)])
        hess = _multinomial_information(x, prob, m, k)
        delta = _solve_spd(hess, grad)
        step = 1.0
        cand = theta + delta
        ll = multinomial_loglik(x, cand, d, m, k)
        while (not np.isfinite(ll) or ll < ll_old - 1e-10 * abs(ll_old)) and step > 1e-8:
            step /= 2
            cand = theta + step * delta
            ll = multinomial_loglik(x, cand, d, m, k)
        change = np.max(np.abs(cand - theta) / (np.abs(cand) + 1e-3))
        theta = cand
        floor = change < 1e-10 and abs(ll - ll_old) <= 1e-15 * abs(ll)  # at the rounding floor of the likelihood
        ll_old = ll
        if change < tol or floor:
            converged = True
            break
    prob, _ = _multinomial_probs(x, theta, k)
    info = _multinomial_information(x, prob, m, k)
    vcov = _solve_spd(info, np.eye(len(theta)))
    return GLMResult(theta, (vcov + vcov.T) / 2, multinomial_loglik(x, theta, d, m, k), it, converged)


def _multinomial_information(x, prob, m, k):
    p = x.shape[1]
    info = np.empty((k * p, k * p))
    for a in range(k):
        for b in range(a, k):
            w = m * (prob[:, a] * ((a == b) - prob[:, b]))
            blk = x.crossprod(w)
            info[a * p:(a + 1) * p, b * p:(b + 1) * p] = blk
            info[b * p:(b + 1) * p, a * p:(a + 1) * p] = blk.T
    return info
