"""The proportional-hazards check of a Cox model: scaled Schoenfeld residuals and the Grambsch-Therneau test.

For each covariate, the test asks whether its scaled Schoenfeld residuals trend with (a transform of) time: a
trend means that the covariate's log hazard ratio changes with tenure, so one hazard ratio misdescribes it. The
statistic is the one of Grambsch & Therneau (1994) as R's ``survival::cox.zph`` computed it before version 3.0
(and lifelines' ``proportional_hazard_test``), here for (entry, exit] data with Efron's or Breslow's handling of
ties, so that it also serves left-truncated snapshots (lifelines refuses residuals with entry times).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["proportional_hazards_test", "schoenfeld_residuals"]

TRANSFORMS = ("km", "rank", "identity", "log")


def _risk_sums(x, entry, exit_, w, times):
    """Sums of w and w * x over the risk sets {entry < t <= exit} at each of ``times``."""
    order_exit = np.argsort(exit_, kind="stable")
    order_entry = np.argsort(entry, kind="stable")
    wx = w[:, None] * x

    def tail_sums(values, keys_sorted, order, side):
        # sum of values over rows whose key >= t ("left") or > t ("right"), via a reversed cumulative sum
        csum = np.concatenate([np.cumsum(values[order][::-1], axis=0)[::-1], np.zeros((1,) + values.shape[1:])])
        idx = np.searchsorted(keys_sorted, times, side=side)
        return csum[idx]

    exit_sorted, entry_sorted = exit_[order_exit], entry[order_entry]
    s0 = tail_sums(w, exit_sorted, order_exit, "left") - tail_sums(w, entry_sorted, order_entry, "left")
    s1 = tail_sums(wx, exit_sorted, order_exit, "left") - tail_sums(wx, entry_sorted, order_entry, "left")
    return s0, s1


def schoenfeld_residuals(x, entry, exit, event, beta, *, ties: str = "efron"):
    """Schoenfeld residuals of a fitted Cox model, one row per event (sorted by time).

    Parameters
    ----------
    x : array (n, p)
        Covariates (the design matrix, without intercept).
    entry, exit : array (n,)
        Risk interval (entry, exit] of each row; entry 0 for rows observed from the origin.
    event : array (n,) of bool
    beta : array (p,)
        Fitted coefficients.
    ties : {"efron", "breslow"}

    Returns
    -------
    times : array (d,)
    residuals : array (d, p)
        :math:`x_i - \\bar x(t_i)`, with :math:`\\bar x` the risk-weighted mean of the risk set; for ``ties=
        "efron"`` the mean over tied events is the average of Efron's successively reduced risk sets (as R's
        ``residuals.coxph(type="schoenfeld")``).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"The 'ties' parameter of schoenfeld_residuals must be 'efron' or 'breslow'. Got {ties!r} "
                         "instead.")
    x = np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    entry, exit_ = np.asarray(entry, float), np.asarray(exit, float)
    event = np.asarray(event, bool)
    eta = x @ np.asarray(beta, float)
    w = np.exp(eta - eta.max())  # scale-free: the means do not depend on the constant
    dead = np.flatnonzero(event)
    dead = dead[np.argsort(exit_[dead], kind="stable")]
    times, first, counts = np.unique(exit_[dead], return_index=True, return_counts=True)
    s0, s1 = _risk_sums(x, entry, exit_, w, times)
    if ties == "breslow":
        means = s1 / s0[:, None]
        mean_per_death = np.repeat(means, counts, axis=0)
    else:  # efron
        tie = np.repeat(np.arange(len(times)), counts)
        d0 = np.bincount(tie, weights=w[dead], minlength=len(times))
        d1 = np.vstack([np.bincount(tie, weights=w[dead] * x[dead, j], minlength=len(times))
                        for j in range(x.shape[1])]).T
        mean = np.zeros_like(s1)
        for k in range(int(counts.max())):
            frac = np.where(k < counts, k / counts, 0.0)
            active = k < counts
            m = (s1 - frac[:, None] * d1) / (s0 - frac * d0)[:, None]
            mean += np.where(active[:, None], m, 0.0)
        mean /= counts[:, None]
        mean_per_death = np.repeat(mean, counts, axis=0)
    return exit_[dead], x[dead] - mean_per_death


def _km_left(entry, exit_, event, times):
    """1 - S(t-), the Kaplan-Meier estimate (with the model's risk sets) just before each of ``times``."""
    ut = np.unique(exit_[event])
    exit_sorted, entry_sorted, dead_sorted = np.sort(exit_), np.sort(entry), np.sort(exit_[event])
    # at risk at t: exit >= t and entry < t
    n_risk = (len(exit_) - np.searchsorted(exit_sorted, ut, side="left")) - (
        len(entry) - np.searchsorted(entry_sorted, ut, side="left"))
    d = np.searchsorted(dead_sorted, ut, side="right") - np.searchsorted(dead_sorted, ut, side="left")
    surv = np.cumprod(1 - d / n_risk)
    before = np.concatenate([[1.0], surv[:-1]])
    return 1 - before[np.searchsorted(ut, times)]


def proportional_hazards_test(x, entry, exit, event, beta, variance, *, terms=None, ties: str = "efron",
                              transform: str = "km") -> pd.DataFrame:
    """Grambsch-Therneau test of proportional hazards per covariate and globally.

    Parameters
    ----------
    x, entry, exit, event, beta, ties
        As in :func:`schoenfeld_residuals`.
    variance : array (p, p)
        The model-based covariance matrix of ``beta`` (the inverse information).
    terms : list of str, optional
        Names of the covariates.
    transform : {"km", "rank", "identity", "log"}, default "km"
        The function of time the residuals are tested against: ``"km"`` is :math:`1 - \\hat S(t-)` (R's
        default), ``"rank"`` the rank of the event time.

    Returns
    -------
    pandas.DataFrame
        One row per term and a ``GLOBAL`` row: ``term``, ``rho`` (correlation of the scaled residuals with
        the transformed time), ``statistic`` (chi-square), ``dof``, ``p_value``.

    Notes
    -----
    With :math:`s_k` the Schoenfeld residual of the :math:`k`-th of :math:`d` events, :math:`V` the covariance
    of :math:`\\hat\\beta` and :math:`g_k` the centred transformed time, the scaled residuals are
    :math:`r_k = d\\,V s_k` and the statistic of covariate :math:`j` is
    :math:`(\\sum_k g_k r_{kj})^2 / (d\\,V_{jj} \\sum_k g_k^2)`, chi-square with 1 degree of freedom; the global
    statistic is :math:`d\\,(\\sum_k g_k s_k)^\\top V (\\sum_k g_k s_k) / \\sum_k g_k^2` with :math:`p`.
    This is the approximation of Grambsch & Therneau (1994) used by R ``survival`` before 3.0 (``cox.zph``
    now uses the full information matrix) and by lifelines.

    References
    ----------
    .. [1] Grambsch, P. M. and Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on
       weighted residuals. Biometrika 81, 515-526.
    """
    from scipy.special import chdtrc

    if transform not in TRANSFORMS:
        raise ValueError(f"The 'transform' parameter of proportional_hazards_test must be one of {TRANSFORMS}. "
                         f"Got {transform!r} instead.")
    times, resid = schoenfeld_residuals(x, entry, exit, event, beta, ties=ties)
    variance = np.atleast_2d(np.asarray(variance, float))
    p = resid.shape[1]
    terms = list(terms) if terms is not None else [f"x{j}" for j in range(p)]
    entry_a, exit_a, event_a = np.asarray(entry, float), np.asarray(exit, float), np.asarray(event, bool)
    if transform == "km":
        g = _km_left(entry_a, exit_a, event_a, times)
    elif transform == "rank":
        g = pd.Series(times).rank().to_numpy()
    elif transform == "log":
        g = np.log(times)
    else:
        g = times.astype(float)
    g = g - g.mean()
    ndead = len(times)
    scaled = resid @ variance * ndead
    gg = float(g @ g)
    test = g @ scaled
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = test ** 2 / (np.diag(variance) * ndead * gg)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.array([np.corrcoef(g, scaled[:, j])[0, 1] if scaled[:, j].std() > 0 else np.nan for j in range(p)])
    u = g @ resid
    # every event at one time (or one event): no variation in time to test against, so no statistic
    global_stat = float(u @ variance @ u) * ndead / gg if gg > 0 else np.nan
    if not gg > 0:
        stat = np.full(p, np.nan)
    return pd.DataFrame({
        "term": [*terms, "GLOBAL"],
        "rho": [*rho, np.nan],
        "statistic": [*stat, global_stat],
        "dof": [1] * p + [p],
        "p_value": [*chdtrc(1, stat), chdtrc(p, global_stat)],
    })
