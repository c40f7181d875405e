r"""How many customers a retention test needs to detect a difference in restricted mean lifetime.

:func:`rmst_sample_size` gives the number of customers for a two-arm test of the RMST difference at horizon
:math:`\tau` (the Wald test of :func:`~churnsurv.effects.ab_test`), and :func:`rmst_power` the power of a given
number; both from the asymptotic variance of the Kaplan-Meier restricted mean under assumed survival and
censoring curves.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, param_error

__all__ = ["rmst_power", "rmst_sample_size"]


def _number(value, name, owner, *, low=0.0, strict=True, high=None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error(name, owner, "a number", value, type_error=True)
    v = float(value)
    ok = np.isfinite(v) and (v > low if strict else v >= low) and (high is None or v < high)
    if not ok:
        rng = f"{'>' if strict else '>='} {low:g}" + (f" and < {high:g}" if high is not None else "")
        raise param_error(name, owner, f"a finite number {rng}", value)
    return v


def _survival_fn(survival, owner):
    """The control arm's survival as a vectorised function of time, and the times where it jumps."""
    if isinstance(survival, numbers.Real) and not isinstance(survival, bool):
        rate = _number(survival, "survival", owner)
        return (lambda t: np.exp(-rate * np.asarray(t, dtype=float))), np.array([])
    if isinstance(survival, pd.DataFrame):
        if not {"time", "estimate"} <= set(survival.columns):
            raise ValueError(f"{owner}: a survival table needs the columns 'time' and 'estimate' (got "
                             f"{list(survival.columns)}).")
        t = survival["time"].to_numpy(float)
        s = survival["estimate"].to_numpy(float)
        order = np.argsort(t, kind="stable")
        t, s = t[order], s[order]
        if np.isnan(s).any() or (np.diff(s) > 1e-12).any() or (s < 0).any() or (s > 1).any():
            raise ValueError(f"{owner}: the survival table's 'estimate' must be non-increasing values in [0, 1] "
                             "without NaN.")

        def step(u, t=t, s=s):
            pos = np.searchsorted(t, np.asarray(u, dtype=float), side="right") - 1
            return np.where(pos >= 0, s[np.clip(pos, 0, None)], 1.0)

        return step, t
    if callable(survival):
        return (lambda u: np.asarray(survival(np.asarray(u, dtype=float)), dtype=float)), np.array([])
    raise param_error("survival", owner, "a constant hazard (float), a callable S(t) or a table with 'time' and "
                      "'estimate'", type(survival).__name__, type_error=True)


def _grid(tau, jumps, n=4000):
    g = np.linspace(0.0, tau, n + 1)
    return np.union1d(g, jumps[(jumps > 0) & (jumps < tau)])


def _censoring(t, accrual, follow_up, dropout):
    """Probability of still being observed at ``t``: uniform accrual then ``follow_up``, exponential dropout."""
    admin = np.ones_like(t) if accrual == 0 else np.clip((follow_up + accrual - t) / accrual, 0.0, 1.0)
    if accrual == 0:
        admin = np.where(t <= follow_up, 1.0, 0.0)
    return admin * np.exp(-dropout * t)


def _rmst_and_sd(S, t, G):
    """RMST up to ``t[-1]`` and the asymptotic standard deviation of :math:`\\sqrt{n}\\,\\hat\\mu` (per customer)."""
    w = np.diff(t)
    s_left = S[:-1]
    area = w * s_left
    mu = float(area.sum())
    tail = np.r_[np.cumsum(area[::-1])[::-1][1:], 0.0]  # area from t_{k+1} to tau
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(s_left > 0, 1.0 - S[1:] / s_left, 0.0)
        contrib = np.where((h > 0) & (h < 1), tail ** 2 * h / ((1.0 - h) * s_left * G[:-1]), 0.0)
    if np.any((h > 0) & (G[:-1] <= 0)):
        return mu, np.inf
    return mu, float(np.sqrt(np.sum(contrib)))


def _design(difference, tau, survival, hazard_ratio, accrual, follow_up, dropout, owner):
    tau = _number(tau, "tau", owner)
    accrual = _number(accrual, "accrual", owner, strict=False)
    follow_up = tau if follow_up is None else _number(follow_up, "follow_up", owner)
    dropout = _number(dropout, "dropout", owner, strict=False)
    s0_fn, jumps = _survival_fn(survival, owner)
    t = _grid(tau, jumps)
    S0 = np.clip(s0_fn(t), 0.0, 1.0)
    G = _censoring(t, accrual, follow_up, dropout)
    mu0, sd0 = _rmst_and_sd(S0, t, G)

    def treated(hr):
        return np.where(S0 > 0, S0 ** hr, 0.0)

    if hazard_ratio is None:
        if difference is None:
            raise ValueError(f"{owner} needs the RMST 'difference' to detect or the 'hazard_ratio' of the action.")
        difference = _number(difference, "difference", owner, low=-np.inf)
        if difference == 0:
            raise param_error("difference", owner, "a non-zero number", difference)
        from scipy.optimize import brentq

        def gap(log_hr):
            return _rmst_and_sd(treated(np.exp(log_hr)), t, G)[0] - mu0 - difference

        lo, hi = (-20.0, 0.0) if difference > 0 else (0.0, 20.0)
        if gap(lo) * gap(hi) > 0:
            raise ValueError(f"{owner}: no proportional-hazards alternative gives an RMST difference of "
                             f"{difference:g} at tau={tau:g} (the control RMST is {mu0:.4g}, at most {tau:g}).")
        hazard_ratio = float(np.exp(brentq(gap, lo, hi, xtol=1e-12)))
    else:
        hazard_ratio = _number(hazard_ratio, "hazard_ratio", owner)
    S1 = treated(hazard_ratio)
    mu1, sd1 = _rmst_and_sd(S1, t, G)
    return {"tau": tau, "hazard_ratio": hazard_ratio, "rmst_control": mu0, "rmst_treated": mu1,
            "difference": mu1 - mu0, "sd_control": sd0, "sd_treated": sd1}


def rmst_sample_size(difference: float | None = None, *, tau: float, survival, hazard_ratio: float | None = None,
                     power: float = 0.8, conf_level: float = 0.95, allocation: float = 0.5, accrual: float = 0.0,
                     follow_up: float | None = None, dropout: float = 0.0) -> pd.DataFrame:
    r"""Customers needed for a two-arm test to detect a difference in restricted mean lifetime.

    Parameters
    ----------
    difference : float, optional
        RMST difference (treated minus control, in time units) to detect. The treated curve is taken as
        :math:`S_1 = S_0^{\theta}` (proportional hazards) with :math:`\theta` solved to give this difference.
    tau : float
        Horizon of the restricted mean.
    survival : float, callable or pandas.DataFrame
        The control arm's survival: a constant hazard per time unit (exponential), a function of time, or a
        survival table with ``time`` and ``estimate`` (e.g. ``KaplanMeier(...).survival_`` of past customers).
    hazard_ratio : float, optional
        The action's hazard ratio :math:`\theta`, instead of ``difference``.
    power : float, default 0.8
    conf_level : float, default 0.95
        One minus the two-sided significance level.
    allocation : float, default 0.5
        Share of customers in the treated arm.
    accrual : float, default 0
        Customers join uniformly over ``accrual`` time units...
    follow_up : float, optional
        ...and are analysed ``follow_up`` units after the last one joined (default ``tau``): a customer who joined
        at :math:`a` is censored at :math:`\text{accrual} + \text{follow\_up} - a`.
    dropout : float, default 0
        Hazard of loss to follow-up (exponential censoring), per time unit.

    Returns
    -------
    pandas.DataFrame
        One row: ``n_total, n_treated, n_control, power, tau, hazard_ratio, rmst_control, rmst_treated,
        difference, sd_control, sd_treated`` (``sd_*``: the asymptotic standard deviation of
        :math:`\sqrt{n}\,\hat\mu` in each arm; ``n_*`` rounded up).

    See Also
    --------
    rmst_power : the power of a given number of customers.
    churnsurv.effects.ab_test : the analysis the sample size is for.

    Notes
    -----
    The Kaplan-Meier restricted mean :math:`\hat\mu_j` of arm :math:`j` with :math:`n_j` customers is
    asymptotically normal with variance :math:`\sigma_j^2 / n_j`,

    .. math::

        \sigma_j^2 = \int_0^\tau \frac{\big(\int_t^\tau S_j(u)\,du\big)^2}{S_j(t)\,G(t)}\,d\Lambda_j(t),

    with :math:`G` the probability of still being under observation (accrual, follow-up, dropout) and
    :math:`\Lambda_j` the cumulative hazard [1]_; the integral is evaluated on a fine grid (discrete hazards
    :math:`h/(1-h)` for a step curve, which gives Greenwood's variance). The Wald test of
    :math:`\Delta = \mu_1 - \mu_0` at two-sided level :math:`\alpha` has power :math:`1-\beta` when

    .. math::

        N = \frac{(z_{1-\alpha/2} + z_{1-\beta})^2}{\Delta^2}
            \Big(\frac{\sigma_1^2}{p} + \frac{\sigma_0^2}{1-p}\Big),

    :math:`p` the allocation to the treated arm [2]_. Checked by simulation in ``tests/effects/test_randomised.py``
    (the power of the computed :math:`N` is within a few points of the target).

    References
    ----------
    .. [1] Andersen, P. K., Borgan, Ø., Gill, R. D. & Keiding, N. (1993). *Statistical Models Based on Counting
       Processes*, section IV.3. Springer.
    .. [2] Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time: an alternative to the hazard
       ratio for the design and analysis of randomized trials with a time-to-event outcome. *BMC Medical
       Research Methodology* 13, 152.

    Examples
    --------
    Monthly churn of 5%, a 12-month horizon, an offer that should add half a month of tenure:

    >>> out = rmst_sample_size(0.5, tau=12, survival=0.05)
    >>> int(out.loc[0, "n_total"]), round(float(out.loc[0, "hazard_ratio"]), 3)
    (1918, 0.802)
    """
    owner = "rmst_sample_size"
    power = _number(power, "power", owner, high=1.0)
    conf_level = check_conf_level(conf_level, owner)
    allocation = _number(allocation, "allocation", owner, high=1.0)
    d = _design(difference, tau, survival, hazard_ratio, accrual, follow_up, dropout, owner)
    from scipy.special import ndtri

    z = ndtri(1 - (1 - conf_level) / 2) + ndtri(power)
    var = d["sd_treated"] ** 2 / allocation + d["sd_control"] ** 2 / (1 - allocation)
    n = z ** 2 * var / d["difference"] ** 2
    n_t = int(np.ceil(n * allocation - 1e-9))
    n_c = int(np.ceil(n * (1 - allocation) - 1e-9))
    return pd.DataFrame([{"n_total": n_t + n_c, "n_treated": n_t, "n_control": n_c, "power": power, **d}])


def rmst_power(n_total: int, difference: float | None = None, *, tau: float, survival,
               hazard_ratio: float | None = None, conf_level: float = 0.95, allocation: float = 0.5,
               accrual: float = 0.0, follow_up: float | None = None, dropout: float = 0.0) -> float:
    r"""Power of the two-arm RMST test with ``n_total`` customers (see :func:`rmst_sample_size`).

    .. math::

        1 - \beta = \Phi\Big(\frac{|\Delta|}{\sqrt{\sigma_1^2/(pN) + \sigma_0^2/((1-p)N)}} - z_{1-\alpha/2}\Big)

    (the far tail of the two-sided test ignored).

    Returns
    -------
    float
    """
    owner = "rmst_power"
    n_total = _number(n_total, "n_total", owner)
    conf_level = check_conf_level(conf_level, owner)
    allocation = _number(allocation, "allocation", owner, high=1.0)
    d = _design(difference, tau, survival, hazard_ratio, accrual, follow_up, dropout, owner)
    from scipy.special import ndtr, ndtri

    se = np.sqrt(d["sd_treated"] ** 2 / (allocation * n_total) + d["sd_control"] ** 2 / ((1 - allocation) * n_total))
    return float(ndtr(abs(d["difference"]) / se - ndtri(1 - (1 - conf_level) / 2)))
