r"""Retention scenarios on the mixing distribution: who is saved when customers differ (the sBG argument).

:func:`~churnsurv.value.retention_scenario` cuts the *aggregate* hazard of the Kaplan-Meier curve. When customers
differ in their propensity to leave, the aggregate hazard falls with tenure only because the likeliest leavers go
first, and a programme that makes every customer a little more loyal does not cut the aggregate hazard by the same
fraction at every tenure. :func:`heterogeneity_scenario` fits a mixing model per segment, the shifted-beta-geometric
(sBG: each customer leaves at a renewal with probability :math:`\theta \sim \mathrm{Beta}(\alpha, \beta)`) or the
beta-discrete-Weibull (BdW: :math:`P(T > t \mid \theta) = (1 - \theta)^{t^c}`), and values the same relative cut
:math:`c` two ways:

* **aggregate**: the cohort's per-period hazard :math:`h(t) = 1 - S(t)/S(t-1)` becomes :math:`(1 - c)\,h(t)`, as
  :func:`~churnsurv.value.retention_scenario` does on the Kaplan-Meier curve;
* **individual**: every customer's :math:`\theta` becomes :math:`(1 - c)\,\theta`, so
  :math:`S_c(t) = E\{(1 - (1 - c)\theta)^{t^c}\}` over the mixing distribution (Gauss-Jacobi quadrature).

For a customer on the books after :math:`n` renewals the mixing distribution is updated by her survival:
:math:`\theta \mid T > n \sim \mathrm{Beta}(\alpha, \beta + n^c)` (:math:`c = 1` for the sBG), so the equity of the
current customers uses each one's own posterior. The two answers differ most where the customers differ most; the
gap is the size of the heterogeneity caveat that :data:`~churnsurv.value.HETEROGENEITY_CAVEAT` states in words.
Intervals come from draws of the model's parameters from their asymptotic normal distribution on the log scale
(seeded).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, find_stack_level, param_error
from churnsurv.data.tenures import Tenures
from churnsurv.exceptions import StatisticalWarning
from churnsurv.value._sources import _check_real

__all__ = ["heterogeneity_scenario"]

#: Quadrature nodes over the mixing distribution.
_NODES = 256
#: Periods summed for an infinite horizon stop when v^t S(t) falls below this (or at _MAX_PERIODS).
_EPS = 1e-13
_MAX_PERIODS = 100_000


def _nodes(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes theta and weights of E[f(theta)], theta ~ Beta(a, b) (Gauss-Jacobi on [-1, 1], theta = (1 + x) / 2)."""
    from scipy.special import roots_jacobi

    with np.errstate(all="ignore"):
        x, w = roots_jacobi(_NODES, b - 1.0, a - 1.0)  # weight (1 - x)^(b-1) (1 + x)^(a-1)
    if np.all(np.isfinite(w)) and np.all(np.isfinite(x)) and w.sum() > 0:
        return (1.0 + x) / 2.0, w / w.sum()
    # a concentrated Beta (large a and b) overflows the Jacobi weights: Gauss-Legendre around its mass instead
    from scipy.special import betaln, roots_legendre

    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    lo, hi = max(mean - 12 * sd, 1e-300), min(mean + 12 * sd, 1 - 1e-16)
    z, wz = roots_legendre(_NODES)
    theta = lo + (hi - lo) * (z + 1) / 2
    logpdf = (a - 1) * np.log(theta) + (b - 1) * np.log1p(-theta) - betaln(a, b)
    w = wz * np.exp(logpdf) * (hi - lo) / 2
    return theta, w / w.sum()


def _grid(n_periods: float, v: float, surv_fn) -> np.ndarray:
    """Periods 0..K-1 to sum: the horizon, or until the discounted survival is negligible."""
    if np.isfinite(n_periods):
        return np.arange(int(n_periods))
    k = 256
    while k < _MAX_PERIODS:
        t = np.arange(k)
        if v ** (k - 1) * surv_fn(np.array([k - 1.0]))[0] < _EPS:
            return t
        k *= 2
    raise ValueError("The value does not converge: the model keeps customers too long for this discount rate. "
                     "Pass a horizon or a discount rate > 0.")


def _surv_individual(a, b, gamma, cut, n0, t):
    """E[(1 - (1-cut) theta)^((n0 + t)^g - n0^g)] over theta ~ Beta(a, b + n0^g): survival after n0, individual cut."""
    theta, w = _nodes(a, b + n0 ** gamma)
    expo = (n0 + t) ** gamma - n0 ** gamma
    with np.errstate(divide="ignore"):
        log1 = np.log1p(-(1.0 - cut) * theta)
    return np.exp(np.outer(expo, log1)) @ w


def _surv_model(a, b, gamma, n0, t):
    """S(n0 + t) / S(n0) of the mixing model."""
    from scipy.special import betaln

    return np.exp(betaln(a, b + (n0 + t) ** gamma) - betaln(a, b + n0 ** gamma))


def _surv_aggregate(a, b, gamma, cut, n0, t):
    """Survival after n0 with the cohort's per-period hazard after n0 cut by the fraction ``cut``."""
    t = np.asarray(t, dtype=float)
    tt = np.arange(0, int(t.max()) + 1 if len(t) else 1, dtype=float)
    s = _surv_model(a, b, gamma, n0, tt)
    h = np.r_[0.0, 1.0 - s[1:] / np.where(s[:-1] > 0, s[:-1], 1.0)]
    return np.cumprod(1.0 - (1.0 - cut) * h)[t.astype(int)]


def _value(surv_fn, v, delta, u0, n_periods):
    t = _grid(n_periods, v, surv_fn)
    t = t[t >= u0]
    return float(np.sum(surv_fn(t.astype(float)) * v ** (t + delta)))


def _individual_sbg(a, b, cut, v, delta, u0, n_periods, n0s):
    """sBG, cut on each customer's theta: the geometric sum per node in closed form, one node set reweighted by
    (1 - theta)^n0 for each current tenure (the posterior Beta(a, b + n0)). Returns (value, equity per n0)."""
    theta, w = _nodes(a, b)
    qv = (1.0 - (1.0 - cut) * theta) * v
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        far = 0.0 if not np.isfinite(n_periods) else qv ** n_periods
        per_node = v ** delta * (qv ** u0 - far) / (1.0 - qv)
        first = float(per_node @ w)
        far0 = 0.0 if not np.isfinite(n_periods) else qv ** n_periods
        resid = v ** delta * (1.0 - far0) / (1.0 - qv)
        logw = np.log(w)[None, :] + np.outer(n0s, np.log1p(-theta))
        logw -= logw.max(axis=1, keepdims=True)
        post = np.exp(logw)
        post /= post.sum(axis=1, keepdims=True)
    return first, post @ resid


def _segment_values(x, gamma_fixed, cut, v, delta, u0, n_periods, tenures_now):
    a, b = np.exp(x[0]), np.exp(x[1])
    gamma = 1.0 if gamma_fixed else np.exp(x[2])
    n0s, counts = np.unique(tenures_now, return_counts=True)
    out = {}
    for name, fn in (("model", lambda n0: lambda t: _surv_model(a, b, gamma, n0, t)),
                     ("aggregate", lambda n0: lambda t: _surv_aggregate(a, b, gamma, cut, n0, t)),
                     ("individual", lambda n0: lambda t: _surv_individual(a, b, gamma, cut, n0, t))):
        if name == "individual" and gamma_fixed:
            first, per_n0 = _individual_sbg(a, b, cut, v, delta, u0, n_periods, n0s.astype(float))
            out["value_individual"] = first
            out["equity_individual"] = float(np.sum(counts * per_n0))
            continue
        out[f"value_{name}"] = _value(fn(0.0), v, delta, u0, n_periods)
        out[f"equity_{name}"] = float(sum(c * _value(fn(float(n0)), v, delta, 0, n_periods)
                                          for n0, c in zip(n0s, counts, strict=True)))
    return out


def heterogeneity_scenario(source, *, rate_cut: float, margin: float, discount_rate: float, model: str = "sbg",
                           by=None, horizon: float | None = None, timing: str = "start", first_period: bool = True,
                           n_draws: int = 200, conf_level: float = 0.95, random_state=None,
                           **frame_kwargs) -> pd.DataFrame:
    r"""A relative cut in churn valued on the aggregate hazard and on each customer's own churn probability.

    Parameters
    ----------
    source : Tenures or DataFrame
        Customer records in whole periods (renewals), with right censoring and left truncation as the tenure table
        has them; a DataFrame is read with ``frame_kwargs``.
    rate_cut : float
        Relative cut :math:`c \in [0, 1)` of the churn probability (0.05: churn 5% lower).
    margin : float
        Margin per period (the value is per customer and, for equity, summed over the current customers).
    discount_rate : float
        Discount rate per period.
    model : {"sbg", "bdw"}, default "sbg"
        The mixing model fitted per segment (:class:`~churnsurv.ShiftedBetaGeometric` or
        :class:`~churnsurv.BetaDiscreteWeibull`).
    by : str, optional
        Segment column; one model per segment.
    horizon : float, optional
        Count only the periods before ``horizon``; None: infinite.
    timing, first_period
        As :func:`~churnsurv.value.lifetime_value` (payment at the start of each period, first period included).
    n_draws : int, default 200
        Draws of the parameters for the intervals (0: none).
    conf_level : float, default 0.95
    random_state : int or numpy.random.Generator, optional
        Seed of the parameter draws.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, quantity): ``quantity`` in ``value_model`` (a new customer's value under the fitted
        model, no cut), ``value_aggregate``, ``value_individual`` (with the cut), ``value_gain_aggregate_pct``,
        ``value_gain_individual_pct`` and the same five for ``equity_*`` (the current customers, each valued from
        her own posterior); ``estimate, ci_lower, ci_upper``; ``attrs`` holds the model parameters per segment.

    Notes
    -----
    With payment at the start of each period, a new customer's value is :math:`m \sum_{k \ge u_0} S(k) v^k` and a
    current customer's after :math:`n` renewals :math:`m \sum_{u \ge 0} S(n+u)/S(n)\, v^u`. Which of the two cuts
    a real programme achieves is an assumption: a programme that reaches every customer alike cuts individual
    probabilities; one that only delays the likeliest leavers is closer to the aggregate cut.

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. Journal of Interactive
       Marketing 21(1), 76-90.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the perils of
       ignoring heterogeneity. Marketing Science 29(1), 85-93.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from churnsurv.value import heterogeneity_scenario
    >>> fh = pd.DataFrame({"t": np.r_[np.repeat(np.arange(1, 8), [369, 163, 86, 56, 37, 27, 21]), 7],
    ...                    "e": np.r_[np.ones(759), 0], "w": np.r_[np.ones(759), 241.0]})
    >>> r = heterogeneity_scenario(fh, rate_cut=0.05, margin=1, discount_rate=0.1, n_draws=0,
    ...                            duration="t", event="e", weights="w")
    >>> r.set_index("quantity").loc[["value_gain_aggregate_pct", "value_gain_individual_pct"], "estimate"].round(2)
    quantity
    value_gain_aggregate_pct     5.06
    value_gain_individual_pct    2.48
    Name: estimate, dtype: float64
    """
    from churnsurv.models.beta_geometric import BetaDiscreteWeibull, ShiftedBetaGeometric

    owner = "heterogeneity_scenario"
    c = _check_real(rate_cut, "rate_cut", owner, low=0.0, expected="a fraction in [0, 1)")
    if c >= 1:
        raise param_error("rate_cut", owner, "a fraction in [0, 1)", rate_cut)
    m = _check_real(margin, "margin", owner, expected="a real number (margin per period)")
    d = _check_real(discount_rate, "discount_rate", owner, low=0.0, expected="a float >= 0 (per period)")
    check_one_of(model, "model", owner, ("sbg", "bdw"))
    check_one_of(timing, "timing", owner, ("start", "end"))
    conf = check_conf_level(conf_level, owner)
    if not isinstance(n_draws, (int, np.integer)) or isinstance(n_draws, bool) or n_draws < 0:
        raise param_error("n_draws", owner, "an int >= 0", n_draws)
    if horizon is not None:
        horizon = _check_real(horizon, "horizon", owner, low=0.0, low_open=True, expected="None or a float > 0")
    tenures = source if isinstance(source, Tenures) else Tenures.from_frame(source, **frame_kwargs)
    fitted = (ShiftedBetaGeometric if model == "sbg" else BetaDiscreteWeibull)().fit(tenures, by=by)
    v, delta, u0 = 1.0 / (1.0 + d), (0 if timing == "start" else 1), (0 if first_period else 1)
    n_periods = np.inf if horizon is None else float(np.ceil(horizon - 1e-9))
    rng = np.random.default_rng(random_state)
    d_all = tenures.data
    rows, params = [], {}
    for key in fitted.segments_:
        fit = fitted._segment_fit(None if not fitted.by_ else (key[0] if len(key) == 1 else key))
        mask = ~d_all["event"].to_numpy(bool)
        if fitted.by_:
            seg = d_all[fitted.by_[0]].astype(object).to_numpy() == (key[0] if len(key) == 1 else key)
            mask &= seg
        now = d_all["exit"].to_numpy(float)[mask]
        w = d_all["weight"].to_numpy(float)[mask]
        now = np.repeat(now, np.round(w).astype(int)) if np.allclose(w, np.round(w)) else now
        point = _segment_values(fit.x, model == "sbg", c, v, delta, u0, n_periods, now)
        draws = []
        cov_ok = bool(np.all(np.isfinite(fit.cov)) and np.all(np.linalg.eigvalsh((fit.cov + fit.cov.T) / 2) > 0))
        if n_draws and not cov_ok:
            name = key or "(all customers)"
            warnings.warn(f"{owner}: the {model} fit of segment {name} has no usable covariance (a parameter at the "
                          "edge of its range, e.g. too few defections): its intervals are not computed.",
                          StatisticalWarning, stacklevel=find_stack_level())
        if n_draws and cov_ok:
            for x in rng.multivariate_normal(fit.x, fit.cov, size=n_draws):
                draws.append(_segment_values(x, model == "sbg", c, v, delta, u0, n_periods, now))
        label = {} if not fitted.by_ else {fitted.by_[0]: key[0] if len(key) == 1 else key}
        params[str(label.get(fitted.by_[0], "all")) if fitted.by_ else "all"] = np.exp(fit.x).tolist()
        for what in ("value", "equity"):
            for name in ("model", "aggregate", "individual"):
                q = f"{what}_{name}"
                rows.append(_row(label, q, m * point[q], [m * r[q] for r in draws], conf))
            for name in ("aggregate", "individual"):
                q = f"{what}_gain_{name}_pct"
                est = 100.0 * (point[f"{what}_{name}"] / point[f"{what}_model"] - 1.0) \
                    if point[f"{what}_model"] else np.nan
                reps = [100.0 * (r[f"{what}_{name}"] / r[f"{what}_model"] - 1.0) for r in draws
                        if r[f"{what}_model"]]
                rows.append(_row(label, q, est, reps, conf))
    out = pd.DataFrame(rows)
    out.attrs.update(model=model, rate_cut=c, discount_rate=d, margin=m, horizon=horizon, timing=timing,
                     first_period=bool(first_period), parameters=params, n_draws=int(n_draws), conf_level=conf)
    return out


def _row(label: dict, quantity: str, est: float, reps: list, conf: float) -> dict:
    if reps:
        lo, hi = np.nanpercentile(np.asarray(reps, float), [50 * (1 - conf), 50 * (1 + conf)])
    else:
        lo = hi = np.nan
    return {**label, "quantity": quantity, "estimate": float(est), "ci_lower": float(lo), "ci_upper": float(hi)}
