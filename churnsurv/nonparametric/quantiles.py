"""Lifetime quantiles and restricted mean lifetime of Kaplan-Meier curves, per segment.

The computations behind :meth:`KaplanMeier.quantile <churnsurv.KaplanMeier.quantile>`,
:meth:`~churnsurv.KaplanMeier.rmst` and :meth:`~churnsurv.KaplanMeier.compare_rmst`:
R's quantile rule (``survival:::findq``, with its tolerance and midpoints over flat stretches) and the restricted
mean with R's standard error (``print.survfit(rmean=)``); and the "no false certainty" helpers shared by
:class:`~churnsurv.KaplanMeier` and :class:`~churnsurv.NelsonAalen`: the zero-defection stretches (where the
Greenwood interval collapses to a point and an exact one-sided bound replaces it), the ``min_at_risk`` flags and
the common RMST horizon with its warnings.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import find_stack_level, param_error
from churnsurv.exceptions import StatisticalWarning
from churnsurv.lifetable.counts import _Counts, _group_accumulate, _group_cumsum, _group_sum, _locate
from churnsurv.nonparametric.intervals import (
    log_normal_confint,
    normal_confint,
    two_sided_p_value,
    zero_event_survival_bound,
)

#: R's ``quantile.survfit`` tolerance, ``sqrt(.Machine$double.eps)``.
_R_TOL = float(np.sqrt(np.finfo(float).eps))


# ====================================================================== no false certainty
def _check_min_at_risk(value, owner: str) -> float:
    """``min_at_risk`` as a float; None and 0 disable the flag (returned as 0)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error("min_at_risk", owner, "a non-negative number or None", value, type_error=True)
    if not (np.isfinite(value) and value >= 0):
        raise param_error("min_at_risk", owner, "a non-negative number or None", value)
    return float(value)


def _below(n_at_risk, min_at_risk: float) -> np.ndarray:
    """True where fewer than ``min_at_risk`` customers are at risk (never when the flag is disabled)."""
    n = np.asarray(n_at_risk, dtype=float)
    return (n < min_at_risk) if min_at_risk > 0 else np.zeros(n.shape, dtype=bool)


@dataclass
class _ZeroEvents:
    """Per life-table row: whether the segment has had no defection yet (``zero``), whether anyone has been at
    risk after time 0 yet (``started``; False on the leading rows of a curve conditional on a late first entry),
    the cumulative events, and the smallest number at risk over the zero-defection stretch so far (``m_min``)."""

    zero: np.ndarray
    started: np.ndarray
    cum_events: np.ndarray
    m_min: np.ndarray


def _zero_events(c: _Counts) -> _ZeroEvents:
    """The zero-defection stretches of every segment (see :func:`zero_event_survival_bound`).

    The risk set is constant between consecutive life-table times (every entry and exit is a row), and the row
    at :math:`t_k` counts the customers at risk on :math:`(t_{k-1}, t_k]`; so the smallest count over the rows
    :math:`0 < t_k \\le t` is the smallest risk set of the stretch :math:`(0, t]`. Leading rows where nobody is at
    risk yet (a curve conditional on the first entry) are skipped; a gap where the risk set empties gives 0.
    """
    n, t = c.n_at_risk, c.time
    cum_events = _group_cumsum(c.n_events, c)
    pos = ((n > 0) & (t > 0)).astype(float)
    started = _group_cumsum(pos, c) > 0
    m_eff = np.where(started & (t > 0), n, np.inf)
    m_min = _group_accumulate(m_eff, c, np.minimum, "cummin")
    zero = started & (t > 0) & (cum_events <= 0)
    return _ZeroEvents(zero=zero, started=started, cum_events=cum_events, m_min=m_min)


def _zero_events_at(c: _Counts, z: _ZeroEvents, times: np.ndarray):
    """For every (segment, requested time), segment-major: ``(zero, m_min, n_at_risk, beyond)`` of the step
    function at ``t`` (``beyond``: ``t`` after the segment's last life-table time, where nobody is at risk)."""
    g, q, last, nxt = _locate(c, times)
    li = np.maximum(last, 0)
    n_next = np.where(nxt >= 0, c.n_at_risk[np.maximum(nxt, 0)], 0.0)
    has = last >= 0
    started = (has & z.started[li]) | ((q > 0) & (n_next > 0))
    m_prev = np.where(has & z.started[li] & (c.time[li] > 0), z.m_min[li], np.inf)
    m_min = np.minimum(m_prev, np.where(q > 0, n_next, np.inf))
    no_events = ~has | (z.cum_events[li] <= 0)
    zero = (q > 0) & started & no_events
    beyond = q > c.time[c.stops - 1][g]
    return zero, m_min, n_next, beyond


def _reliable_horizon(c: _Counts, z: _ZeroEvents, min_at_risk: float):
    """Per segment: the last life-table time and the time at which fewer than ``min_at_risk`` customers are
    first at risk (after the leading rows of a conditional curve; the last time when it never happens)."""
    last_time = c.time[c.stops - 1]
    low = z.started & (c.time > 0) & _below(c.n_at_risk, min_at_risk)
    first_low = np.full(c.n_groups, np.inf)
    np.minimum.at(first_low, c.gcode[low], c.time[low])
    return last_time, np.minimum(first_low, last_time)


def _default_tau(c: _Counts, z: _ZeroEvents, min_at_risk: float) -> float:
    """The common RMST horizon: the smallest over the segments of the time where the number at risk first falls
    below ``min_at_risk`` (of the last time when ``min_at_risk`` is disabled)."""
    return float(_reliable_horizon(c, z, min_at_risk)[1].min())


def _warn_rmst(owner: str, c: _Counts, z: _ZeroEvents, min_at_risk: float, taus, se: np.ndarray) -> None:
    """One :class:`StatisticalWarning` naming the segments whose horizon is extrapolated, rests on fewer than
    ``min_at_risk`` customers, or whose standard error is 0 because nobody defected before it."""
    taus = np.atleast_1d(np.asarray(taus, dtype=float))
    se = np.asarray(se, dtype=float).reshape(c.n_groups, len(taus))
    last_time, horizon = _reliable_horizon(c, z, min_at_risk)
    labels = c.labels()
    msgs = []
    for k, tau in enumerate(taus):
        past = np.flatnonzero(tau > last_time)
        thin = np.flatnonzero((tau > horizon) & (tau <= last_time))
        flat = np.flatnonzero((se[:, k] == 0) & (tau > 0))
        if len(past):
            names = ", ".join(f"{labels[g]} (last time {last_time[g]:g})" for g in past)
            msgs.append(f"tau={tau:g} passes the last observed time of {names}: the curve is extended at its last "
                        "value, an assumption, not an estimate")
        if len(thin):
            names = ", ".join(f"{labels[g]} (from {horizon[g]:g})" for g in thin)
            msgs.append(f"tau={tau:g} passes the time where fewer than {min_at_risk:g} customers are at risk in "
                        f"{names}")
        if len(flat):
            names = ", ".join(labels[g] for g in flat)
            msgs.append(f"no defection before tau={tau:g} in {names}: the standard error is 0, which is not "
                        "certainty; read the one-sided bound in ci_lower (zero_events=True) instead")
    if msgs:
        warnings.warn(f"{owner}: " + "; ".join(msgs) + ".", StatisticalWarning, stacklevel=find_stack_level())


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


def _segment_quantiles(c: _Counts, probs: np.ndarray, surv, lower, upper, min_at_risk: float = 0.0) -> pd.DataFrame:
    """Quantiles of the curve ``surv`` and of its confidence limits, per segment (R ``quantile.survfit``), with
    ``below_min_at_risk``: the curve reaches the quantile at a time where fewer than ``min_at_risk`` are at risk
    (the number at risk of the last life-table row at or before the quantile)."""
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
    flat = est.ravel()
    row = np.full(len(flat), -1, dtype=np.int64)
    ok = ~np.isnan(flat)
    for g in range(G):  # each segment's block of quantiles only: linear in the number of segments
        s = slice(c.starts[g], c.stops[g])
        block = slice(g * m, (g + 1) * m)
        sel = ok[block]
        row[block][sel] = c.starts[g] + np.searchsorted(c.time[s], flat[block][sel], side="right") - 1
    n_row = np.where(row >= 0, c.n_at_risk[np.maximum(row, 0)], np.inf)
    out = c.frame(codes, {
        "prob": np.tile(probs, G),
        "estimate": flat,
        "ci_lower": lo.ravel(),
        "ci_upper": hi.ravel(),
        "below_min_at_risk": ok & _below(n_row, min_at_risk),
    })
    return out


def _median(c: _Counts, surv, lower, upper, notes: dict[int, list[str]],
            min_at_risk: float = 0.0) -> tuple[pd.DataFrame, dict]:
    """The median table of :class:`KaplanMeier` and its notes per segment label: the risk-set ``notes`` plus
    why a median is NaN; the median table's ``attrs["notes"]`` keeps the segments whose notes mention it."""
    med = _segment_quantiles(c, np.array([0.5]), surv, lower, upper, min_at_risk)
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
                conf_level: float, z: _ZeroEvents) -> pd.DataFrame:
    """The tidy table of :meth:`KaplanMeier.rmst`: one row per (segment, horizon).

    Where nobody defected before ``tau`` (``zero_events``), the estimate is ``tau`` with standard error 0 (as R);
    the interval is then the exact one-sided bound :math:`[\\tau S_L(\\tau), \\tau]`: with confidence
    ``conf_level``, :math:`S(u) \\ge S(\\tau) \\ge S_L(\\tau)` for every :math:`u \\le \\tau`."""
    G, m = c.n_groups, len(taus)
    est = np.empty((G, m))
    se = np.empty((G, m))
    for k, tau in enumerate(taus):
        est[:, k], se[:, k] = _rmst_arrays(c, surv, greenwood, float(tau))
    lo, hi = normal_confint(est.ravel(), se.ravel(), conf_level)
    # the area up to tau uses S on [0, tau): read the stretch just before tau
    before = np.where(np.asarray(taus, dtype=float) > 0, np.nextafter(np.asarray(taus, dtype=float), -np.inf), 0.0)
    zero, m_min, _, _ = _zero_events_at(c, z, before)
    tau_rows = np.tile(np.asarray(taus, dtype=float), G)
    lo = np.where(zero, tau_rows * zero_event_survival_bound(m_min, conf_level), lo)
    hi = np.where(zero, tau_rows, hi)
    return c.frame(np.repeat(np.arange(G), m), {
        "tau": tau_rows,
        "estimate": est.ravel(),
        "std_error": se.ravel(),
        "ci_lower": lo,
        "ci_upper": hi,
        "zero_events": zero,
    }), se


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
