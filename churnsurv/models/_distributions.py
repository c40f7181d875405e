"""The parametric families of :mod:`churnsurv.models.parametric`: log-density, log-survival and their derivatives.

The accelerated failure time (AFT) families are written as R's ``survreg`` writes them,

.. math:: \\log T = \\mu + \\sigma W, \\qquad \\mu = x^\\top \\beta,

with :math:`W` a standard minimum extreme value (Weibull), normal (log-normal) or logistic (log-logistic)
variable; the exponential is the Weibull with :math:`\\sigma = 1`. The generalised gamma is Prentice's
:math:`(\\mu, \\sigma, Q)` form, as ``flexsurv::dgengamma``. scipy is imported on first use only.

:class:`_Core` lays out the parameter vector of a model (cure block, location, shape) and evaluates its
log-density, log-survival, log-likelihood and, for the AFT and piecewise exponential families, the analytic score
and Hessian.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AFT_FAMILIES", "FAMILIES", "std_logpdf", "std_logsf", "std_dlogpdf", "std_dlogsf", "std_quantile",
           "gengamma_logpdf", "gengamma_logsf"]

AFT_FAMILIES = ("weibull", "exponential", "lognormal", "loglogistic")
FAMILIES = ("weibull", "exponential", "lognormal", "loglogistic", "gengamma", "piecewise")
#: the standard variable W of each location-scale family
_STD = {"weibull": "extreme", "exponential": "extreme", "lognormal": "normal", "loglogistic": "logistic"}
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _special():
    from scipy import special

    return special


def std_logpdf(family: str, w: np.ndarray) -> np.ndarray:
    """log f_W(w) of the standard variable."""
    kind = _STD[family]
    if kind == "extreme":
        return w - np.exp(w)
    if kind == "normal":
        return -0.5 * w * w - _LOG_SQRT_2PI
    aw = np.abs(w)
    return -aw - 2.0 * np.log1p(np.exp(-aw))


def std_logsf(family: str, w: np.ndarray) -> np.ndarray:
    """log S_W(w) = log P(W > w); 0 at w = -inf."""
    kind = _STD[family]
    if kind == "extreme":
        return -np.exp(w)
    if kind == "normal":
        return _special().log_ndtr(-w)
    return -np.logaddexp(0.0, w)


def std_dlogpdf(family: str, w: np.ndarray) -> np.ndarray:
    """d log f_W / dw."""
    kind = _STD[family]
    if kind == "extreme":
        return 1.0 - np.exp(w)
    if kind == "normal":
        return -w
    return 1.0 - 2.0 * _special().expit(w)


def std_dlogsf(family: str, w: np.ndarray) -> np.ndarray:
    """d log S_W / dw = -h_W(w) (minus the hazard of W)."""
    kind = _STD[family]
    if kind == "extreme":
        return -np.exp(w)
    if kind == "normal":
        sp = _special()
        return -np.exp(-0.5 * w * w - _LOG_SQRT_2PI - sp.log_ndtr(-w))
    return -_special().expit(w)


def std_quantile(family: str, p) -> np.ndarray:
    """The p-quantile of W (p = probability of W <= w)."""
    p = np.asarray(p, dtype=float)
    kind = _STD[family]
    if kind == "extreme":
        return np.log(-np.log1p(-p))
    if kind == "normal":
        return _special().ndtri(p)
    return np.log(p) - np.log1p(-p)


# ---------------------------------------------------------------------- generalised gamma (Prentice)
_Q_ZERO = 1e-6  # below this |Q| the log-normal limit is used (the gamma form loses digits to cancellation)


def _stirling_error(k: float) -> float:
    """log Gamma(k) - [(k - 1/2) log k - k + log(2 pi)/2], without cancellation for large k."""
    if np.isinf(k):
        return 0.0
    if k >= 10:
        k2 = k * k
        return (1 / 12 - (1 / 360 - (1 / 1260 - 1 / (1680 * k2)) / k2) / k2) / k
    return float(_special().gammaln(k) - (k - 0.5) * np.log(k) + k - _LOG_SQRT_2PI)


def _expm1_ratio(u):
    """expm1(u) / u, 1 at u = 0."""
    u = np.asarray(u, dtype=float)
    small = np.abs(u) < 1e-8
    safe = np.where(small, 1.0, u)
    return np.where(small, 1.0 + u / 2, np.expm1(safe) / safe)


def _phi(u):
    """(exp(u) - 1 - u) / u**2, accurate near u = 0 (value 1/2)."""
    u = np.asarray(u, dtype=float)
    small = np.abs(u) < 1e-2
    us = np.where(small, u, 0.0)
    series = 0.5 + us * (1 / 6 + us * (1 / 24 + us * (1 / 120 + us * (1 / 720 + us / 5040))))
    ub = np.where(small, 1.0, u)
    with np.errstate(over="ignore"):
        direct = (np.expm1(ub) - ub) / (ub * ub)
    return np.where(small, series, direct)


def gengamma_logpdf(t, mu, sigma, q):
    """log density of the generalised gamma of Prentice (1974), flexsurv's ``dgengamma(t, mu, sigma, Q)``.

    With :math:`w = (\\log t - \\mu)/\\sigma` and :math:`\\kappa = Q^{-2}`:
    :math:`\\log f = \\log|Q| + \\kappa\\log\\kappa + \\kappa(Qw - e^{Qw}) - \\log\\Gamma(\\kappa) - \\log(\\sigma t)`,
    evaluated as :math:`-\\tfrac12\\log 2\\pi - \\delta(\\kappa) - w^2 (e^{Qw} - 1 - Qw)/(Qw)^2 - \\log(\\sigma t)`
    (:math:`\\delta` the Stirling error), which is exact and has no cancellation as :math:`Q \\to 0`, where it
    becomes the log-normal.
    """
    logt = np.log(t)
    w = (logt - mu) / sigma
    k = np.inf if q == 0 else 1.0 / (q * q)
    return -_LOG_SQRT_2PI - _stirling_error(k) - w * w * _phi(q * w) - np.log(sigma) - logt


def gengamma_logsf(t, mu, sigma, q):
    """log survival of the generalised gamma: regularised incomplete gamma of :math:`\\kappa e^{Qw}`."""
    sp = _special()
    with np.errstate(divide="ignore"):
        logt = np.log(t)
    w = (logt - mu) / sigma
    if abs(q) < _Q_ZERO:
        return sp.log_ndtr(-w)
    k = 1.0 / (q * q)
    u = k * np.exp(q * w)
    s = sp.gammaincc(k, u) if q > 0 else sp.gammainc(k, u)
    with np.errstate(divide="ignore"):
        return np.log(s)


def std_d2logpdf(family: str, w: np.ndarray) -> np.ndarray:
    """d² log f_W / dw²."""
    kind = _STD[family]
    if kind == "extreme":
        return -np.exp(w)
    if kind == "normal":
        return np.full(np.shape(w), -1.0)
    p = _special().expit(w)
    return -2.0 * p * (1.0 - p)


def std_d2logsf(family: str, w: np.ndarray) -> np.ndarray:
    """d² log S_W / dw²."""
    kind = _STD[family]
    if kind == "extreme":
        return -np.exp(w)
    if kind == "normal":
        m = -std_dlogsf(family, w)  # the inverse Mills ratio
        return -m * (m - w)
    p = _special().expit(w)
    return -p * (1.0 - p)


# ====================================================================== the model core (shared with the cure model)
class _Core:
    """Parameter layout and the log-density / log-survival of one fitted specification.

    theta = [cure block (n_cure, logit of the cured share), location block, shape block]; the location block is
    beta (AFT, first column the intercept) or, for the piecewise exponential, the covariate log hazard ratios
    after the J log rates of the shape block.
    """

    def __init__(self, family: str, n_loc: int, n_cure: int = 0, cuts=None):
        self.family = family
        self.n_loc = n_loc
        self.n_cure = n_cure
        self.cuts = None if cuts is None else np.asarray(cuts, dtype=float)
        if family == "exponential":
            self.n_shape = 0
        elif family in ("weibull", "lognormal", "loglogistic"):
            self.n_shape = 1
        elif family == "gengamma":
            self.n_shape = 2
        else:  # piecewise: one log rate per interval
            self.n_shape = len(self.cuts) + 1
        self.n_params = n_cure + n_loc + self.n_shape

    def split(self, theta):
        c, n = self.n_cure, self.n_loc
        return theta[:c], theta[c:c + n], theta[c + n:]

    # ------------------------------------------------------------------ latency (the uncured part)
    def _lat_logsf(self, beta, shape, t, x):
        fam = self.family
        lin = x @ beta if x.shape[1] else np.zeros(len(t))
        if fam == "piecewise":
            return -np.exp(lin) * (_exposure(np.zeros_like(t), t, self.cuts) @ np.exp(shape))
        with np.errstate(divide="ignore"):
            logt = np.log(t)
        if fam == "gengamma":
            return gengamma_logsf(t, lin, np.exp(shape[0]), shape[1])
        sigma = 1.0 if fam == "exponential" else np.exp(shape[0])
        w = (logt - lin) / sigma
        out = std_logsf(fam, w)
        return np.where(t > 0, out, 0.0)

    def _lat_logpdf(self, beta, shape, t, x):
        fam = self.family
        lin = x @ beta if x.shape[1] else np.zeros(len(t))
        if fam == "piecewise":
            k = _interval(t, self.cuts)
            return shape[k] + lin + self._lat_logsf(beta, shape, t, x)
        if fam == "gengamma":
            return gengamma_logpdf(t, lin, np.exp(shape[0]), shape[1])
        log_sigma = 0.0 if fam == "exponential" else shape[0]
        logt = np.log(t)
        w = (logt - lin) / np.exp(log_sigma)
        return std_logpdf(fam, w) - log_sigma - logt

    # ------------------------------------------------------------------ the whole model
    def logsf(self, theta, t, x, z=None):
        gamma, beta, shape = self.split(theta)
        lsu = self._lat_logsf(beta, shape, t, x)
        if not self.n_cure:
            return lsu
        eta = z @ gamma
        log_pi, log_1mpi = -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)
        return np.logaddexp(log_pi, log_1mpi + lsu)

    def logpdf(self, theta, t, x, z=None):
        gamma, beta, shape = self.split(theta)
        lfu = self._lat_logpdf(beta, shape, t, x)
        if not self.n_cure:
            return lfu
        return -np.logaddexp(0.0, z @ gamma) + lfu

    def loglik(self, theta, data) -> float:
        """Weighted log-likelihood, conditional on survival to entry (left truncation)."""
        if not self.n_cure and self.family in AFT_FAMILIES:
            return self._aft_loglik(theta, data)
        groups = data.get("_groups")
        if groups is None:  # the event, censored and truncated rows, copied once per fit
            z = data.get("z")
            groups = []
            for kind, mask, times in (("pdf", data["ev"], data["t"]), ("sf", ~data["ev"], data["t"]),
                                      ("entry", data["tr"], data["entry"])):
                if mask.any():
                    groups.append((kind, data["w"][mask], times[mask], data["x"][mask],
                                   None if z is None else z[mask]))
            data["_groups"] = groups
        total = 0.0
        for kind, w, t, x, z in groups:
            if kind == "pdf":
                total += np.dot(w, self.logpdf(theta, t, x, z))
            elif kind == "sf":
                total += np.dot(w, self.logsf(theta, t, x, z))
            else:
                total -= np.dot(w, self.logsf(theta, t, x, z))
        return float(total)

    def quantile(self, theta, x, p):
        """Closed-form p-quantile of T (AFT families, generalised gamma) without a cured share; else None."""
        if self.n_cure or self.family == "piecewise":
            return None
        _, beta, shape = self.split(theta)
        lin = x @ beta
        if self.family == "gengamma":
            sigma, q = np.exp(shape[0]), shape[1]
            if abs(q) < _Q_ZERO:
                return np.exp(lin + sigma * std_quantile("lognormal", p))
            sp = _special()
            k = 1.0 / (q * q)
            u = sp.gammainccinv(k, 1.0 - p) if q > 0 else sp.gammaincinv(k, 1.0 - p)
            return np.exp(lin + sigma * np.log(u / k) / q)
        sigma = 1.0 if self.family == "exponential" else np.exp(shape[0])
        return np.exp(lin + sigma * std_quantile(self.family, p))

    def _aft_loglik(self, theta, data) -> float:
        fam = self.family
        _, beta, shape = self.split(theta)
        log_sigma = 0.0 if fam == "exponential" else shape[0]
        sigma = np.exp(log_sigma)
        lin = data["x"] @ beta
        wv = (data["logt"] - lin) / sigma
        ev, w = data["ev"], data["w"]
        per_row = np.where(ev, std_logpdf(fam, wv) - log_sigma - data["logt"], std_logsf(fam, wv))
        total = float(np.dot(w, per_row))
        tr = data["tr"]
        if tr.any():
            idx = np.flatnonzero(tr)
            total -= float(np.dot(w[idx], std_logsf(fam, (np.log(data["entry"][idx]) - lin[idx]) / sigma)))
        return total

    def _aft_parts(self, theta, data, order):
        """Per-row derivatives of the log-likelihood with respect to w (at exit and, truncated rows, at entry)."""
        fam = self.family
        _, beta, shape = self.split(theta)
        w, x, ev, tr, entry = data["w"], data["x"], data["ev"], data["tr"], data["entry"]
        log_sigma = 0.0 if fam == "exponential" else shape[0]
        sigma = np.exp(log_sigma)
        lin = x @ beta
        wv = (data["logt"] - lin) / sigma
        a1 = w * np.where(ev, std_dlogpdf(fam, wv), std_dlogsf(fam, wv))
        a2 = w * np.where(ev, std_d2logpdf(fam, wv), std_d2logsf(fam, wv)) if order > 1 else None
        parts = [(slice(None), wv, a1, a2)]  # a slice: x[idx] is then a view, not a copy
        if tr.any():
            idx = np.flatnonzero(tr)
            w0 = (np.log(entry[idx]) - lin[idx]) / sigma
            b1 = -w[idx] * std_dlogsf(fam, w0)
            b2 = -w[idx] * std_d2logsf(fam, w0) if order > 1 else None
            parts.append((idx, w0, b1, b2))
        return sigma, parts

    def score(self, theta, data):
        """Analytic gradient for the AFT location-scale families and the piecewise exponential; else None."""
        if self.n_cure:
            return None
        if self.family == "piecewise":
            return _piecewise_score(theta, data, self)
        if self.family == "gengamma":
            return self._gengamma_score(theta, data)
        sigma, parts = self._aft_parts(theta, data, 1)
        x = data["x"]
        g_beta = np.zeros(x.shape[1])
        g_ls = -np.dot(data["w"], data["ev"])
        for idx, wv, a1, _ in parts:
            g_beta -= x[idx].T @ a1 / sigma
            g_ls -= np.dot(a1, wv)
        return g_beta if self.family == "exponential" else np.append(g_beta, g_ls)

    def _gengamma_score(self, theta, data):
        """Score of the generalised gamma: analytic in (beta, log sigma), a central difference in Q."""
        sp = _special()
        _, beta, shape = self.split(theta)
        sigma, q = np.exp(shape[0]), shape[1]
        x, w, ev, tr = data["x"], data["w"], data["ev"], data["tr"]
        lin = x @ beta
        small = abs(q) < _Q_ZERO  # the log-normal limit

        def dlogpdf_dw(wv):  # (1 - exp(Qw)) / Q, -w at Q = 0
            return -wv if small else -wv * _expm1_ratio(q * wv)

        def dlogsf_dw(wv):  # -|Q| u^k e^-u / (Gamma(k) S), u = k exp(Qw)
            if small:
                return std_dlogsf("lognormal", wv)
            k = 1.0 / (q * q)
            u = k * np.exp(q * wv)
            with np.errstate(divide="ignore"):
                log_surv = np.log(sp.gammaincc(k, u) if q > 0 else sp.gammainc(k, u))
            return -abs(q) * np.exp(k * np.log(u) - u - sp.gammaln(k) - log_surv)

        wv = (data["logt"] - lin) / sigma
        a1 = w * np.where(ev, dlogpdf_dw(wv), 0.0)
        if (~ev).any():
            a1[~ev] = w[~ev] * dlogsf_dw(wv[~ev])
        parts = [(slice(None), wv, a1)]
        if tr.any():
            idx = np.flatnonzero(tr)
            w0 = (np.log(data["entry"][idx]) - lin[idx]) / sigma
            parts.append((idx, w0, -w[idx] * dlogsf_dw(w0)))
        g_beta = np.zeros(x.shape[1])
        g_ls = -np.dot(w, ev)
        for idx, wvv, aa in parts:
            g_beta -= x[idx].T @ aa / sigma
            g_ls -= np.dot(aa, wvv)
        h = 1e-4 * max(1.0, abs(q))
        up, down = theta.copy(), theta.copy()
        up[-1] += h
        down[-1] -= h
        g_q = (self.loglik(up, data) - self.loglik(down, data)) / (2 * h)
        return np.concatenate([g_beta, [g_ls, g_q]])

    def hessian(self, theta, data):
        """Analytic Hessian of the log-likelihood (AFT location-scale and piecewise exponential); else None."""
        if self.n_cure or self.family == "gengamma":
            return None
        if self.family == "piecewise":
            return _piecewise_hessian(theta, data, self)
        sigma, parts = self._aft_parts(theta, data, 2)
        x = data["x"]
        p = x.shape[1]
        h = np.zeros((p + 1, p + 1))
        for idx, wv, a1, a2 in parts:
            xi = x[idx]
            h[:p, :p] += (xi * (a2 / sigma ** 2)[:, None]).T @ xi
            h[:p, p] += xi.T @ ((a2 * wv + a1) / sigma)
            h[p, p] += np.dot(a2, wv * wv) + np.dot(a1, wv)
        h[p, :p] = h[:p, p]
        return h[:p, :p] if self.family == "exponential" else h


def _interval(t, cuts):
    """Index of the interval (c_j, c_{j+1}] holding t (the convention of R's survSplit)."""
    return np.searchsorted(cuts, t, side="left")


def _exposure(start, stop, cuts):
    """Time spent in each interval [c_j, c_{j+1}) between start and stop: an (n, J) matrix."""
    lo = np.concatenate([[0.0], cuts])
    hi = np.concatenate([cuts, [np.inf]])
    return np.clip(np.minimum(stop[:, None], hi) - np.maximum(start[:, None], lo), 0.0, None)


def _piecewise_score(theta, data, core):
    _, beta, alpha = core.split(theta)
    x, w, ev = data["x"], data["w"], data["ev"]
    expo = data["exposure"]
    lin = x @ beta if x.shape[1] else np.zeros(len(w))
    cum = np.exp(lin)[:, None] * expo * np.exp(alpha)[None, :]  # (n, J) expected events
    g_alpha = np.bincount(data["k"][ev], weights=w[ev], minlength=len(alpha)) - w @ cum
    resid = w * (ev - cum.sum(axis=1))
    g_beta = x.T @ resid
    return np.concatenate([g_beta, g_alpha])


def _piecewise_hessian(theta, data, core):
    _, beta, alpha = core.split(theta)
    x, w = data["x"], data["w"]
    lin = x @ beta if x.shape[1] else np.zeros(len(w))
    mu = (w * np.exp(lin))[:, None] * data["exposure"] * np.exp(alpha)[None, :]  # (n, J)
    p, n_j = x.shape[1], len(alpha)
    h = np.zeros((p + n_j, p + n_j))
    h[:p, :p] = -(x * mu.sum(axis=1)[:, None]).T @ x
    h[:p, p:] = -x.T @ mu
    h[p:, :p] = h[:p, p:].T
    h[p:, p:] = -np.diag(mu.sum(axis=0))
    return h


def _piecewise_loglik(theta, data, core):
    _, beta, alpha = core.split(theta)
    x, w, ev = data["x"], data["w"], data["ev"]
    lin = x @ beta if x.shape[1] else np.zeros(len(w))
    cum = np.exp(lin) * (data["exposure"] @ np.exp(alpha))
    return float(np.dot(w[ev], alpha[data["k"][ev]] + lin[ev]) - np.dot(w, cum))
