"""Lifetime quantiles and restricted mean lifetime of Kaplan-Meier curves, per segment.

The computations behind :meth:`KaplanMeier.quantile <churnsurv.KaplanMeier.quantile>`,
:meth:`~churnsurv.KaplanMeier.rmst` and :meth:`~churnsurv.KaplanMeier.compare_rmst`:
R's quantile rule (``survival:::findq``, with its tolerance and midpoints over flat stretches) and the restricted
mean with R's standard error (``print.survfit(rmean=)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.lifetable.counts import _Counts, _group_cumsum, _group_sum
from churnsurv.nonparametric.intervals import log_normal_confint, normal_confint, two_sided_p_value

#: R's ``quantile.survfit`` tolerance, ``sqrt(.Machine$double.eps)``.
_R_TOL = float(np.sqrt(np.finfo(float).eps))


# ====================================================================== R's quantile rule
def _findq(x: np.ndarray, y: np.ndarray, probs: np.ndarray, tol: float = _R_TOL) -> np.ndarray:
    """R ``survival:::findq``: the time where the curve ``y = 1 - S`` reaches each ``p``.

    ``x`` and ``y`` start with the origin (``x[0] = 0``, ``y[0] = 0``). Where ``y`` equals ``p`` (within
    ``tol``) over a flat stretch the answer is the midpoint of the stretch; at the last point, the midpoint with
    the last time. ``y`` may hold NaN (confidence limits where ``S = 0``) and need not be monotone (R sorts it).
    """
    out = np.full(len(probs), np.nan)
    if np.all(np.isnan(y)) or np.nanmax(y) < probs.min():
        return out
    xmax = x[-1]
    first = np.sort(np.unique(y, return_index=True)[1])  # R duplicated(): first occurrences (NaN once)
    xd, yd = x[first], y[first]
    ok = np.flatnonzero(~np.isnan(yd))
    order = ok[np.argsort(yd[ok], kind="stable")]
    ys = yd[order]

    def approx_index(shift):
        grid = ys + shift
        j = np.searchsorted(grid, probs, side="left")
        valid = (probs >= grid[0]) & (j < len(grid))
        return np.where(valid, order[np.minimum(j, len(grid) - 1)], -1)

    i1, i2 = approx_index(tol), approx_index(-tol)
    both = (i1 >= 0) & (i2 >= 0)
    out[both] = (xd[i1[both]] + xd[i2[both]]) / 2.0
    out[probs == 0] = x[0]
    if not np.isnan(yd[-1]):
        last = (np.abs(probs - yd[-1]) < tol) & (i1 >= 0)
        out[last] = (xd[i1[last]] + xmax) / 2.0
        out[(np.abs(probs - yd[-1]) < tol) & (i1 < 0)] = np.nan
    return out


def _check_probs(probs, owner: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(probs, dtype=float)).ravel()
    except (TypeError, ValueError) as err:
        raise param_error("probs", owner, "an array-like of probabilities in [0, 1]", probs,
                          type_error=True) from err
    if arr.size == 0 or np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
        raise param_error("probs", owner, "an array-like of probabilities in [0, 1]", probs)
    return arr


def _check_tau(tau, owner: str, default: float, single: bool = False) -> np.ndarray | float:
    """The horizons ``tau`` as an array (``default`` when None); with ``single``, the one horizon as a float."""
    if tau is None:
        return default if single else np.array([default])
    try:
        arr = np.atleast_1d(np.asarray(tau, dtype=float)).ravel()
    except (TypeError, ValueError) as err:
        raise param_error("tau", owner, "a non-negative number or an array-like of them", tau,
                          type_error=True) from err
    if arr.size == 0 or not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise param_error("tau", owner, "a non-negative number or an array-like of them", tau)
    if single:
        if len(arr) != 1:
            raise param_error("tau", owner, "a single non-negative number", tau)
        return float(arr[0])
    return arr


def _segment_quantiles(c: _Counts, probs: np.ndarray, surv, lower, upper) -> pd.DataFrame:
    """Quantiles of the curve ``surv`` and of its confidence limits, per segment (R ``quantile.survfit``)."""
    G, m = c.n_groups, len(probs)
    est = np.empty((G, m))
    lo = np.empty((G, m))
    hi = np.empty((G, m))
    for g in range(G):  # cheap: a few NumPy calls per segment
        s = slice(c.starts[g], c.stops[g])
        x = np.r_[0.0, c.time[s]]
        est[g] = _findq(x, np.r_[0.0, 1.0 - surv[s]], probs)
        lo[g] = _findq(x, np.r_[0.0, 1.0 - lower[s]], probs)
        hi[g] = _findq(x, np.r_[0.0, 1.0 - upper[s]], probs)
    codes = np.repeat(np.arange(G), m)
    out = c.frame(codes, {
        "prob": np.tile(probs, G),
        "estimate": est.ravel(),
        "ci_lower": lo.ravel(),
        "ci_upper": hi.ravel(),
    })
    return out


def _median(c: _Counts, surv, lower, upper, notes: dict[int, list[str]]) -> tuple[pd.DataFrame, dict]:
    """The median table of :class:`KaplanMeier` and its notes per segment label: the risk-set ``notes`` plus
    why a median is NaN; the median table's ``attrs["notes"]`` keeps the segments whose notes mention it."""
    med = _segment_quantiles(c, np.array([0.5]), surv, lower, upper)
    n_ev = _group_sum(c.n_events, c)
    med_nan = np.isnan(med["estimate"].to_numpy())
    all_notes = {}
    if notes or med_nan.any():
        labels = c.labels()
        all_notes = {labels[g]: list(msgs) for g, msgs in notes.items()}
        for g in np.flatnonzero(med_nan):
            if n_ev[g] == 0:
                msg = "no defections: S = 1 throughout, the median is NaN"
            else:
                msg = f"median not reached: the curve stays above 0.5 (last value {surv[c.stops[g] - 1]:.3f})"
            all_notes.setdefault(labels[g], []).append(msg)
    median = med.drop(columns="prob")
    median.attrs["notes"] = {k: v for k, v in all_notes.items()
                             if any("median" in m for m in v)}
    return median, all_notes


# ====================================================================== restricted mean
def _rmst_arrays(c: _Counts, surv: np.ndarray, greenwood: np.ndarray, tau: float):
    """Restricted mean up to ``tau`` and its standard error (R ``print.survfit(rmean=)``), per segment."""
    t = c.time
    last_row = np.zeros(len(t), dtype=bool)
    last_row[c.stops - 1] = True
    nxt = np.where(last_row, np.inf, np.r_[t[1:], np.inf])
    inwin = t <= tau
    width = np.where(inwin, np.minimum(nxt, tau) - t, 0.0)
    rect = surv * width  # area of the rectangle starting at each row, up to tau
    est = _group_sum(rect, c)
    tail = _group_cumsum(rect, c, reverse=True)  # area from each row's time to tau
    var = _group_sum(np.where(inwin, tail * tail * greenwood, 0.0), c)
    return est, np.sqrt(var)


def _rmst_frame(c: _Counts, surv: np.ndarray, greenwood: np.ndarray, taus: np.ndarray,
                conf_level: float) -> pd.DataFrame:
    """The tidy table of :meth:`KaplanMeier.rmst`: one row per (segment, horizon)."""
    G, m = c.n_groups, len(taus)
    est = np.empty((G, m))
    se = np.empty((G, m))
    for k, tau in enumerate(taus):
        est[:, k], se[:, k] = _rmst_arrays(c, surv, greenwood, float(tau))
    lo, hi = normal_confint(est.ravel(), se.ravel(), conf_level)
    return c.frame(np.repeat(np.arange(G), m), {
        "tau": np.tile(taus, G),
        "estimate": est.ravel(),
        "std_error": se.ravel(),
        "ci_lower": lo,
        "ci_upper": hi,
    })


def _compare_rmst_frame(c: _Counts, surv: np.ndarray, greenwood: np.ndarray, tau: float, ref_code: int,
                        conf_level: float) -> pd.DataFrame:
    """The tidy table of :meth:`KaplanMeier.compare_rmst`: differences and ratios against ``ref_code``."""
    est, se = _rmst_arrays(c, surv, greenwood, tau)
    others = np.array([g for g in range(c.n_groups) if g != ref_code])
    e1, s1, e0, s0 = est[others], se[others], est[ref_code], se[ref_code]
    diff = e1 - e0
    diff_se = np.sqrt(s1 ** 2 + s0 ** 2)
    d_lo, d_hi = normal_confint(diff, diff_se, conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = e1 / e0
        log_se = np.sqrt((s1 / e1) ** 2 + (s0 / e0) ** 2)
        r_lo, r_hi = log_normal_confint(ratio, log_se, conf_level)
        p_diff = two_sided_p_value(diff / diff_se)
        p_ratio = two_sided_p_value(np.log(ratio) / log_se)
    k = len(others)
    out = c.frame(np.repeat(others, 2), {
        "reference": c.labels()[ref_code] if len(c.by) > 1 else c.keys[c.by[0]].iloc[ref_code],
        "tau": tau,
        "measure": np.tile(["difference", "ratio"], k),
        "estimate": np.column_stack([diff, ratio]).ravel(),
        "std_error": np.column_stack([diff_se, ratio * log_se]).ravel(),
        "ci_lower": np.column_stack([d_lo, r_lo]).ravel(),
        "ci_upper": np.column_stack([d_hi, r_hi]).ravel(),
        "p_value": np.column_stack([p_diff, p_ratio]).ravel(),
    })
    return out
