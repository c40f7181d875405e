"""Validation of survival predictions on a holdout: discrimination, calibration, Brier scores, projection error.

The functions are model-agnostic: they take the holdout outcomes and the *predictions* (risk scores, predicted
survival at a few times, projected survivor counts) as arrays or frames, so any churnsurv model, or any other
model, can be scored. Every result is a tidy DataFrame.

* :func:`holdout_split` cuts a tenure table into a training table (followed up to a cutoff) and an evaluation
  table (what happened later), by sign-up cohort or by calendar time.
* :func:`concordance`: Harrell's C or Uno's C, with the standard error of R's ``survival::concordance``.
* :func:`time_dependent_auc`: cumulative/dynamic AUC(t) with inverse probability of censoring weights (IPCW).
* :func:`brier_score`, :func:`integrated_brier_score`: IPCW Brier score (Graf et al. 1999), with the Kaplan-Meier
  ("null model") reference, as ``riskRegression::Score`` reports them.
* :func:`calibration`: predicted vs observed risk at a horizon by risk group, and a calibration slope.
* :func:`projection_error`: mean absolute percentage error of projected survivor counts.

Only numpy and pandas are imported here; scipy and matplotlib are imported inside the functions that need them.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, data_error, param_error
from churnsurv.data.tenures import Tenures
from churnsurv.exceptions import TenureDataError

__all__ = [
    "brier_score",
    "calibration",
    "concordance",
    "holdout_split",
    "integrated_brier_score",
    "plot_calibration",
    "plot_projection_error",
    "projection_error",
    "time_dependent_auc",
]


# ---------------------------------------------------------------------------------------------------- inputs
class _Outcome:
    """Validated holdout outcomes: entry, exit time, event flag, case weight, row ids."""

    def __init__(self, entry, time, event, weight, ids, cause=None):
        self.entry = entry
        self.time = time
        self.event = event
        self.weight = weight
        self.ids = ids
        self.cause = cause

    @property
    def n(self) -> int:
        return len(self.time)

    @property
    def truncated(self) -> bool:
        return self.entry is not None and bool(np.any(self.entry > 0))


def _numeric(values, name: str, owner: str, ids) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"The {name!r} argument of {owner} must be numeric; could not convert it to float.") from err
    if arr.ndim != 1:
        raise param_error(name, owner, "one-dimensional", f"an array of shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise data_error(name, "missing or infinite values", bad, ids, "Drop or fill these rows first.")
    return arr


def _outcome(time, event, owner: str, *, entry=None, weights=None) -> _Outcome:
    """Read the outcomes from a :class:`Tenures`, a ``(time, event)`` / ``(entry, time, event)`` tuple or arrays."""
    if isinstance(time, Tenures):
        if event is not None:
            raise ValueError(f"{owner}: pass either a Tenures table or time and event arrays, not both.")
        d = time.data
        if time.spells:
            raise ValueError(f"{owner} needs one row per customer; this Tenures table has spells (several rows per "
                             "id). Score each spell as its own row by rebuilding it with spells=False.")
        ids = d["id"].to_numpy()
        entry_a = d["entry"].to_numpy(float)
        out = _Outcome(entry_a if np.any(entry_a > 0) else None, d["exit"].to_numpy(float),
                       d["event"].to_numpy(bool), d["weight"].to_numpy(float), ids,
                       d["cause"].astype(object).to_numpy() if "cause" in d else None)
        if weights is not None:
            out.weight = _weights(weights, out.n, owner, ids)
        return out
    if isinstance(time, tuple):
        if event is not None:
            raise ValueError(f"{owner}: pass either a (time, event) tuple or time and event arrays, not both.")
        if len(time) == 2:
            time, event = time
        elif len(time) == 3:
            entry, time, event = time
        else:
            raise param_error("outcome", owner, "a Tenures table, (time, event) or (entry, time, event)",
                              f"a tuple of length {len(time)}")
    if event is None:
        raise ValueError(f"{owner} needs the event indicator: pass event= (1 or True for a defection, "
                         "0 or False for censored).")
    if isinstance(time, pd.Series):
        ids = time.index.to_numpy()
    else:
        ids = np.arange(len(np.atleast_1d(np.asarray(time))))
    t = _numeric(time, "time", owner, ids)
    if len(t) == 0:
        raise TenureDataError(f"{owner} got no rows: the holdout outcomes are empty.", n_rows=0)
    if (t < 0).any():
        raise data_error("time", "negative times", t < 0, ids, "Times are tenures (>= 0).")
    ev_raw = np.asarray(event)
    if ev_raw.shape != t.shape:
        raise ValueError(f"{owner}: 'event' has {ev_raw.size} values but 'time' has {t.size}; they must align.")
    if ev_raw.dtype == bool:
        ev = ev_raw
    else:
        ev_f = _numeric(ev_raw, "event", owner, ids)
        bad = ~np.isin(ev_f, (0.0, 1.0))
        if bad.any():
            raise data_error("event", "values other than 0/1", bad, ids,
                             "Code defections as 1 (or True) and censored customers as 0. For competing causes "
                             "pass event as 0/1 and the cause separately.")
        ev = ev_f == 1.0
    e = None
    if entry is not None:
        e = _numeric(entry, "entry", owner, ids)
        if e.shape != t.shape:
            raise ValueError(f"{owner}: 'entry' has {e.size} values but 'time' has {t.size}; they must align.")
        bad = e > t
        if bad.any():
            raise data_error("entry", "entry after the exit time", bad, ids, "Check that entry and time are not "
                             "swapped.")
        if not np.any(e > 0):
            e = None
    w = _weights(weights, len(t), owner, ids) if weights is not None else np.ones(len(t))
    return _Outcome(e, t, ev, w, ids)


def _weights(weights, n, owner, ids) -> np.ndarray:
    w = _numeric(weights, "weights", owner, ids)
    if len(w) != n:
        raise ValueError(f"{owner}: 'weights' has {len(w)} values for {n} rows.")
    if (w < 0).any():
        raise data_error("weights", "negative weights", w < 0, ids, "Case weights must be >= 0.")
    return w


def _score(values, n: int, name: str, owner: str, ids) -> np.ndarray:
    arr = _numeric(values, name, owner, ids)
    if len(arr) != n:
        raise ValueError(f"{owner}: {name!r} has {len(arr)} values for {n} holdout rows; one per row is needed.")
    return arr


def _times(times, owner: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(times, dtype=float))
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise param_error("times", owner, "a non-empty list of positive finite times", times)
    if np.any(np.diff(arr) <= 0):
        raise param_error("times", owner, "strictly increasing", times)
    return arr


def _prediction_matrix(pred, n: int, times: np.ndarray, name: str, owner: str, ids, *, probability: bool):
    """An (n, len(times)) matrix from a 1-d score (same for every time), a 2-d array or a frame."""
    if isinstance(pred, pd.DataFrame):
        cols = list(pred.columns)
        try:
            keyed = [float(c) for c in cols]
        except (TypeError, ValueError):
            keyed = None
        if keyed is not None and len(keyed) == len(cols) and set(keyed) >= set(times.tolist()):
            pred = pred[[cols[keyed.index(t)] for t in times]]
        pred = pred.to_numpy(dtype=float)
    arr = np.asarray(pred, dtype=float)
    if arr.ndim == 1:
        arr = np.repeat(arr[:, None], len(times), axis=1)
    if arr.ndim != 2 or arr.shape != (n, len(times)):
        raise ValueError(f"{owner}: {name!r} must have one row per holdout row ({n}) and one column per time "
                         f"({len(times)}); got shape {arr.shape}.")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise data_error(name, "missing or infinite predictions", bad, ids, "Every row needs a prediction.")
    if probability:
        bad = ((arr < 0) | (arr > 1)).any(axis=1)
        if bad.any():
            raise data_error(name, "probabilities outside [0, 1]", bad, ids,
                             "Pass predicted survival probabilities S(t | x), not risk scores.")
    return arr


def _z(conf_level: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(0.5 + conf_level / 2))


def _p_value(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return 2 * ndtr(-np.abs(z))


# ---------------------------------------------------------------------------------------------------- censoring KM
def _censoring_km(time: np.ndarray, event: np.ndarray, weight: np.ndarray | None = None):
    """Reverse Kaplan-Meier G of the censoring distribution: (jump times, G just after each jump).

    Censorings are the "events"; defections tied with a censoring are taken to come first, so the risk set for
    censoring at s is every row with exit > s plus those censored at s (prodlim ``reverse = TRUE``, as
    riskRegression uses it, and survival's concordance).
    """
    w = np.ones_like(time) if weight is None else weight
    cens = ~event
    ut = np.unique(time[cens])
    if len(ut) == 0:
        return ut, ut.copy()
    order = np.argsort(time, kind="stable")
    ts, ws = time[order], w[order]
    at_risk = np.concatenate([ws[::-1].cumsum()[::-1], [0.0]])
    c = np.bincount(np.searchsorted(ut, time[cens]), weights=w[cens], minlength=len(ut))
    n_risk = at_risk[np.searchsorted(ts, ut, side="right")] + c  # exit > s, plus censored at s
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumprod(1.0 - np.where(n_risk > 0, c / n_risk, 0.0))
    return ut, g


def _step(jump_t: np.ndarray, values: np.ndarray, at: np.ndarray, *, left: bool = False) -> np.ndarray:
    """Right-continuous step function starting at 1 (``left=True``: its value just before ``at``)."""
    idx = np.searchsorted(jump_t, at, side="left" if left else "right")
    return np.concatenate([[1.0], values])[idx]


def _km(time: np.ndarray, event: np.ndarray, at: np.ndarray, weight: np.ndarray | None = None):
    """Kaplan-Meier S(at) and Greenwood variance of log S (R's ``fit$std.err`` squared)."""
    w = np.ones_like(time) if weight is None else weight
    ut = np.unique(time[event])
    if len(ut) == 0:
        return np.ones(len(at)), np.zeros(len(at))
    ts = np.sort(time)
    ws = w[np.argsort(time, kind="stable")]
    at_risk = ws[::-1].cumsum()[::-1]
    n_risk = at_risk[np.searchsorted(ts, ut, side="left")]
    d = np.bincount(np.searchsorted(ut, time[event]), weights=w[event], minlength=len(ut))
    s = np.cumprod(1.0 - d / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(n_risk > d, d / (n_risk * (n_risk - d)), np.inf))
    idx = np.searchsorted(ut, at, side="right")
    return np.concatenate([[1.0], s])[idx], np.concatenate([[0.0], gw])[idx]


# ---------------------------------------------------------------------------------------------------- concordance
def concordance(outcome, risk_score, *, method: str = "harrell", tau: float | None = None, weights=None,
                conf_level: float = 0.95) -> pd.DataFrame:
    r"""Concordance index (Harrell's or Uno's C) of a risk score on holdout outcomes, with its standard error.

    Parameters
    ----------
    outcome : Tenures or tuple
        The holdout outcomes: a :class:`~churnsurv.Tenures` table (one row per customer; left truncation and case
        weights are read from it), ``(time, event)`` or ``(entry, time, event)``.
    risk_score : array-like
        One score per row; **higher means earlier defection** (a linear predictor, a predicted risk, a hazard
        ratio). Pass ``-expected_lifetime`` for a score where higher means longer survival.
    method : {"harrell", "uno"}
        ``"harrell"`` weights every comparable pair equally; ``"uno"`` weights a pair anchored at the event time
        :math:`t` by :math:`1/G(t)^2`, with :math:`G` the Kaplan-Meier estimate of the censoring distribution,
        which makes the estimate free of the censoring pattern (Uno et al. 2011). Uno's C needs right-censored
        data without left truncation.
    tau : float, optional
        Only pairs whose earlier time is an event at or before ``tau`` count (R's ``ymax``). Set it to the last
        time with enough customers at risk; Uno's C is consistent for the :math:`\tau`-restricted C.
    weights : array-like, optional
        Case weights (default: the ``weight`` column of a Tenures table, else 1).
    conf_level : float
        Level of the Wald interval.

    Returns
    -------
    pandas.DataFrame
        One row: ``method, estimate, std_error, ci_lower, ci_upper, z, p_value`` (Wald test of C = 0.5, no
        discrimination), ``n, n_events, tau`` and the weighted pair counts ``concordant, discordant, tied_risk``
        (comparable, same score), ``tied_time`` (defections at the same time, not comparable), ``tied_both``.

    Notes
    -----
    A pair :math:`(i, j)` is comparable when :math:`i` defects at :math:`T_i` while :math:`j` is still a customer
    (:math:`T_j > T_i`, or :math:`T_j = T_i` and :math:`j` censored, and with left truncation :math:`j` entered
    before :math:`T_i`). With score :math:`x`,

    .. math::

        C = \frac{\sum_{i,j} w_{ij} \left[ 1(x_i > x_j) + \tfrac12 1(x_i = x_j) \right]}{\sum_{i,j} w_{ij}},
        \qquad w_{ij} = w_i w_j \, \omega(T_i),

    with :math:`\omega = 1` (Harrell) or :math:`\omega(t) = 1/G(t)^2` (Uno). Pairs of defections at the same
    time are not comparable (``tied_time``). This is exactly ``survival::concordance(Surv(time, event) ~ x,
    reverse = TRUE, timewt = "n" | "n/G2", ymax = tau)``, and ``Surv(entry, time, event)`` with truncation;
    the standard error is R's infinitesimal-jackknife one (it treats :math:`G` as known), checked to 1e-6.

    References
    ----------
    .. [1] Harrell F.E., Lee K.L., Mark D.B. (1996). Multivariable prognostic models. Statistics in Medicine
       15, 361-387.
    .. [2] Uno H., Cai T., Pencina M.J., D'Agostino R.B., Wei L.J. (2011). On the C-statistics for evaluating
       overall adequacy of risk prediction procedures with censored survival data. Statistics in Medicine 30,
       1105-1117.
    .. [3] Therneau T., Atkinson E. (2023). The concordance statistic. Vignette of the R package survival.

    Examples
    --------
    >>> import numpy as np
    >>> from churnsurv.models.validation import concordance
    >>> time = np.array([2, 4, 6, 8]); event = np.array([1, 1, 0, 1])
    >>> concordance((time, event), risk_score=[3, 2, 1, 0])["estimate"].item()
    1.0
    """
    owner = "concordance"
    check_one_of(method, "method", owner, ("harrell", "uno"))
    conf_level = check_conf_level(conf_level, owner)
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not tau > 0):
        raise param_error("tau", owner, "a positive number or None", tau)
    out = _outcome(outcome, None, owner, weights=weights) if isinstance(outcome, (Tenures, tuple)) else None
    if out is None:
        raise param_error("outcome", owner, "a Tenures table, (time, event) or (entry, time, event)",
                          type(outcome).__name__, type_error=True)
    x = _score(risk_score, out.n, "risk_score", owner, out.ids)
    if method == "uno" and out.truncated:
        raise ValueError("Uno's concordance (method='uno') needs right-censored data; these outcomes are "
                         "left-truncated. Use method='harrell', which handles truncation.")
    if out.truncated:
        bad = out.entry >= out.time
        if bad.any():
            raise data_error("entry", "entry not before the exit time", bad, out.ids,
                             "With left truncation a row is at risk on (entry, time]; drop rows of zero length.")
    counts, infl = _concordance_counts(out, x, method, tau)
    conc, disc, tx, ty, txy = counts
    npair = conc + disc + tx
    if npair <= 0:
        raise ValueError(f"{owner}: no comparable pairs (no defection is followed by a customer still at risk"
                         + (f" before tau={tau}" if tau is not None else "") + ").")
    somer = (conc - disc) / npair
    dfbeta = out.weight * ((infl[:, 0] - infl[:, 1]) / npair - somer / npair * infl.sum(axis=1))
    se = float(np.sqrt(np.sum(dfbeta**2) / 4))
    est = (somer + 1) / 2
    z = _z(conf_level)
    z_stat = (est - 0.5) / se if se > 0 else np.nan
    return pd.DataFrame({
        "method": [method], "estimate": [est], "std_error": [se],
        "ci_lower": [max(0.0, est - z * se)], "ci_upper": [min(1.0, est + z * se)],
        "z": [z_stat], "p_value": [float(_p_value(np.array([z_stat]))[0])],
        "n": [out.n], "n_events": [int(out.event.sum())], "tau": [np.nan if tau is None else float(tau)],
        "concordant": [conc], "discordant": [disc], "tied_risk": [tx], "tied_time": [ty], "tied_both": [txy],
    })


def _dominance(xr_pts: np.ndarray, v_pts: np.ndarray, m: np.ndarray, yr: np.ndarray, n_ranks: int):
    """For each query q, over the first ``m[q]`` points: the weight with rank below ``yr[q]``, equal, and in all.

    A merge-sort tree built level by level with numpy: the prefix ``[0, m)`` splits into one aligned block of
    size :math:`2^\\ell` per set bit :math:`\\ell` of ``m``; inside a block, points are sorted by rank, so a
    ``searchsorted`` on the key ``block * (n_ranks + 1) + rank`` gives the weight below a rank. O(n log^2 n).
    """
    n = len(xr_pts)
    lt = np.zeros(len(m))
    eq = np.zeros(len(m))
    tot = np.concatenate([[0.0], np.cumsum(v_pts)])[m]
    if n == 0:
        return lt, eq, tot
    k = np.int64(n_ranks + 1)
    idx = np.arange(n, dtype=np.int64)
    xr_pts = xr_pts.astype(np.int64)
    yr = yr.astype(np.int64)
    m = m.astype(np.int64)
    level = 0
    while (1 << level) <= n:
        block = idx >> level
        keys = block * k + xr_pts  # already sorted by block; sort by rank inside each block
        order = np.argsort(keys, kind="stable")
        skeys = keys[order]
        cumv = np.concatenate([[0.0], np.cumsum(v_pts[order])])
        q = np.flatnonzero((m >> level) & 1)
        if len(q):
            bid = ((m[q] >> (level + 1)) << 1)  # block id at this level of [start, start + 2^level)
            base = bid * k
            start = np.searchsorted(skeys, base, side="left")
            lo = np.searchsorted(skeys, base + yr[q], side="left")
            hi = np.searchsorted(skeys, base + yr[q], side="right")
            lt[q] += cumv[lo] - cumv[start]
            eq[q] += cumv[hi] - cumv[lo]
        level += 1
    return lt, eq, tot


def _concordance_counts(out: _Outcome, x: np.ndarray, method: str, tau):
    """Weighted pair counts and each row's share of concordant/discordant/tied-risk pairs (R's influence).

    For an event row i, its partners are the rows still at risk after it: later exits, rows censored at the same
    time, and (with left truncation) entered before :math:`T_i`. Both sides of every pair are counted with
    :func:`_dominance` queries, in O(n log^2 n).
    """
    t, ev, w, entry, n = out.time, out.event, out.weight, out.entry, out.n
    uniq, xr = np.unique(x, return_inverse=True)
    nr = len(uniq)
    if method == "uno":
        gt, gv = _censoring_km(t, ev, w)
        g = _step(gt, gv, t, left=True)
        with np.errstate(divide="ignore"):
            tw_all = np.where(ev, 1.0 / g**2, 0.0)
    else:
        tw_all = ev.astype(float)
    if tau is not None:
        tw_all = np.where(t <= tau, tw_all, 0.0)
    is_ev = tw_all > 0
    ev_idx = np.flatnonzero(is_ev)
    tw = tw_all[ev_idx]
    infl = np.zeros((n, 3))

    # rows ordered by (time, events before censorings): the partners of event i are a suffix
    order = np.lexsort((~ev, t))
    rev = order[::-1]  # suffix of `order` = prefix of `rev`
    pos_in_rev = np.empty(n, dtype=np.int64)
    pos_in_rev[rev] = np.arange(n)
    # the suffix of event i: rows with time > T_i, plus rows censored at T_i
    n_after = (n - np.searchsorted(np.sort(t), t[ev_idx], side="right")) + _censored_at(t, ev, t[ev_idx])
    lt, eq, tot = _dominance(xr[rev], w[rev], n_after, xr[ev_idx], nr)
    # event side: concordant = partner scores below x_i
    conc_i, tie_i, disc_i = lt, eq, tot - lt - eq
    # partner side: events i with row j in their suffix, i.e. position of j in rev < n_after_i
    ev_order = np.argsort(-n_after, kind="stable")  # events sorted by decreasing suffix length
    m_j = len(ev_idx) - np.searchsorted(np.sort(n_after), pos_in_rev, side="right")  # events with n_after > pos_j
    v_ev = (w[ev_idx] * tw)[ev_order]
    plt_, peq, ptot = _dominance(xr[ev_idx][ev_order], v_ev, m_j, xr, nr)
    # for partner j: concordant pairs are events with x_i > x_j
    p_conc, p_tie, p_disc = ptot - plt_ - peq, peq, plt_
    if entry is not None:
        # remove partners that entered at or after T_i (not yet at risk)
        e_order = np.argsort(-entry, kind="stable")
        m_e = np.searchsorted(-entry[e_order], -t[ev_idx], side="right")  # rows with entry >= T_i
        lt2, eq2, tot2 = _dominance(xr[e_order], w[e_order], m_e, xr[ev_idx], nr)
        conc_i, tie_i, disc_i = conc_i - lt2, tie_i - eq2, disc_i - (tot2 - lt2 - eq2)
        t_order = np.argsort(t[ev_idx], kind="stable")
        m_t = np.searchsorted(t[ev_idx][t_order], entry, side="right")  # events with T_i <= entry_j
        lt3, eq3, tot3 = _dominance(xr[ev_idx][t_order], (w[ev_idx] * tw)[t_order], m_t, xr, nr)
        p_conc, p_tie, p_disc = p_conc - (tot3 - lt3 - eq3), p_tie - eq3, p_disc - lt3
    wt_i = w[ev_idx] * tw
    totals = np.zeros(5)
    totals[0] = np.sum(wt_i * conc_i)
    totals[1] = np.sum(wt_i * disc_i)
    totals[2] = np.sum(wt_i * tie_i)
    infl[ev_idx, 0] += tw * conc_i
    infl[ev_idx, 1] += tw * disc_i
    infl[ev_idx, 2] += tw * tie_i
    infl[:, 0] += p_conc
    infl[:, 1] += p_disc
    infl[:, 2] += p_tie
    # pairs of events at the same time: not comparable (tied in time), counted once per pair
    frame = pd.DataFrame({"t": t[ev_idx], "x": xr[ev_idx], "w": w[ev_idx], "tw": tw})
    frame["w2"] = frame["w"] ** 2
    by_t = frame.groupby("t").agg(s=("w", "sum"), s2=("w2", "sum"), tw=("tw", "first"))
    by_tx = frame.groupby(["t", "x"]).agg(s=("w", "sum"), s2=("w2", "sum"), tw=("tw", "first"))
    all_tied = float(np.sum((by_t["s"] ** 2 - by_t["s2"]) / 2 * by_t["tw"]))
    totals[4] = float(np.sum((by_tx["s"] ** 2 - by_tx["s2"]) / 2 * by_tx["tw"]))
    totals[3] = all_tied - totals[4]
    return totals, infl


def _censored_at(t, ev, at):
    """Number of censored rows at each time of ``at``."""
    tc = np.sort(t[~ev])
    return np.searchsorted(tc, at, side="right") - np.searchsorted(tc, at, side="left")


# ---------------------------------------------------------------------------------------------------- AUC / Brier
def _ipcw(out: _Outcome, times: np.ndarray):
    """IPCW weights of riskRegression: G(T_i-) per row and G(t) per time (marginal reverse Kaplan-Meier)."""
    gt, gv = _censoring_km(out.time, out.event)
    return _step(gt, gv, out.time, left=True), _step(gt, gv, times)


def _check_no_truncation(out: _Outcome, owner: str):
    if out.truncated:
        raise ValueError(f"{owner} supports right-censored outcomes only; these are left-truncated (entry > 0). "
                         "Score the cohort followed from sign-up, or use concordance(), which handles truncation.")
    if not np.all(out.weight == 1):
        raise ValueError(f"{owner} does not support case weights (the Tenures table has weights other than 1), "
                         "as riskRegression::Score does not; expand the weighted rows or score them unweighted.")


def time_dependent_auc(time, event, risk_score, times, *, conf_level: float = 0.95) -> pd.DataFrame:
    r"""Cumulative/dynamic time-dependent AUC with inverse probability of censoring weights.

    Parameters
    ----------
    time, event : array-like
        Holdout exit times and event flags (1 = defected). ``time`` may also be a :class:`~churnsurv.Tenures`
        table, with ``event=None``.
    risk_score : array-like or DataFrame
        Higher means earlier defection. A 1-d score is used at every time; a 2-d array (or a frame with one
        column per time) gives one score per time, e.g. the predicted risk :math:`1 - S(t \mid x)`.
    times : list of float
        Horizons :math:`t`.
    conf_level : float
        Level of the Wald interval.

    Returns
    -------
    pandas.DataFrame
        One row per time: ``time, estimate, std_error, ci_lower, ci_upper, n_cases, n_controls``.

    Notes
    -----
    Cases defected by :math:`t` (:math:`T_i \le t`, event), controls are still customers at :math:`t`
    (:math:`T_j > t`); censored rows before :math:`t` get weight 0, cases :math:`1/\hat G(T_i-)`, controls
    :math:`1/\hat G(t)`, with :math:`\hat G` the reverse Kaplan-Meier of the holdout:

    .. math::

        \widehat{AUC}(t) = \frac{\sum_i \sum_j W_i W_j \left[1(x_i > x_j) + \tfrac12 1(x_i = x_j)\right]
        1(T_i \le t, \delta_i = 1)\, 1(T_j > t)}{\sum_i W_i 1(T_i \le t, \delta_i = 1) \sum_j W_j 1(T_j > t)}.

    Point estimates equal ``riskRegression::Score(..., metrics = "auc")`` (Blanche et al. 2013); the standard
    error is its influence function ignoring the estimation of :math:`G` (``conservative = TRUE``), which
    differs from its default (``conservative = FALSE``) by less than 1e-6 on the reference data.

    References
    ----------
    .. [1] Heagerty P.J., Lumley T., Pepe M.S. (2000). Time-dependent ROC curves for censored survival data and
       a diagnostic marker. Biometrics 56, 337-344.
    .. [2] Blanche P., Dartigues J.-F., Jacqmin-Gadda H. (2013). Estimating and comparing time-dependent areas
       under receiver operating characteristic curves for censored event times with competing risks. Statistics
       in Medicine 32, 5381-5397.
    """
    owner = "time_dependent_auc"
    conf_level = check_conf_level(conf_level, owner)
    out = _outcome(time, event, owner)
    _check_no_truncation(out, owner)
    times = _times(times, owner)
    x = _prediction_matrix(risk_score, out.n, times, "risk_score", owner, out.ids, probability=False)
    g_sub, g_t = _ipcw(out, times)
    n = out.n
    z = _z(conf_level)
    rows = []
    for k, t in enumerate(times):
        case = (out.time <= t) & out.event
        ctrl = out.time > t
        wc = np.where(case, 1.0 / (g_sub * n), 0.0)
        wd = np.where(ctrl, 1.0 / (g_t[k] * n), 0.0)
        m = x[:, k]
        if not case.any() or not ctrl.any():
            rows.append((t, np.nan, np.nan, np.nan, np.nan, int(case.sum()), int(ctrl.sum())))
            continue
        # for each row: control weight below its score (+ half the ties), and case weight above (+ half)
        xs_d, cw_d = _sorted_cum(m[ctrl], wd[ctrl])
        xs_c, cw_c = _sorted_cum(m[case], wc[case])
        below_d = _weight_below(xs_d, cw_d, m)
        above_c = cw_c[-1] - _weight_below(xs_c, cw_c, m)
        sum_c, sum_d = wc.sum(), wd.sum()
        u = np.sum(wc * below_d)
        auc = u / (sum_c * sum_d)
        # influence function with G fixed (riskRegression's ic0): V-statistic of the weighted Mann-Whitney
        ic = n * (wc * below_d + wd * above_c) / (sum_c * sum_d) - auc * n * (wc / sum_c + wd / sum_d)
        se = float(np.std(ic, ddof=1) / np.sqrt(n))
        rows.append((t, auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se), int(case.sum()),
                     int(ctrl.sum())))
    return pd.DataFrame(rows, columns=["time", "estimate", "std_error", "ci_lower", "ci_upper", "n_cases",
                                       "n_controls"])


def _sorted_cum(values, weights):
    order = np.argsort(values, kind="stable")
    return values[order], np.cumsum(weights[order])


def _weight_below(xs, cw, at):
    """Weight of the sorted values below ``at`` plus half the weight equal to it."""
    cw0 = np.concatenate([[0.0], cw])
    lo = cw0[np.searchsorted(xs, at, side="left")]
    hi = cw0[np.searchsorted(xs, at, side="right")]
    return (lo + hi) / 2


def _brier_parts(out: _Outcome, surv: np.ndarray, times: np.ndarray, g_sub, g_t):
    """Per-row IPCW residuals (n, k) for predicted survival ``surv``."""
    t = out.time[:, None]
    risk = 1.0 - surv
    case = (t <= times[None, :]) & out.event[:, None]
    ctrl = t > times[None, :]
    return np.where(case, (1 - risk) ** 2 / g_sub[:, None], 0.0) + np.where(ctrl, risk**2 / g_t[None, :], 0.0)


def _brier_se(out: _Outcome, resid: np.ndarray, times: np.ndarray, conservative: bool) -> np.ndarray:
    n = out.n
    ic = resid - resid.mean(axis=0)
    if not conservative:
        ic = ic + _km_censoring_term(out, resid, times)
    return np.std(ic, axis=0, ddof=1) / np.sqrt(n)


def _km_censoring_term(out: _Outcome, resid: np.ndarray, times: np.ndarray) -> np.ndarray:
    r"""Influence of the estimated censoring KM on the mean IPCW residual (riskRegression's KM censoring term).

    A residual weighted by :math:`1/\hat G(s_i)` moves by :math:`-r_i\, d\log \hat G(s_i)`; the influence of row
    :math:`k` on :math:`\log\hat G(s)` is :math:`-\int_0^s dM^c_k(u)/y(u)` with :math:`y(u)` the share at risk,
    :math:`s_i = T_i-` for cases and :math:`s_i = t` for controls.
    """
    n = out.n
    tt = out.time
    cens = ~out.event
    ut = np.unique(tt)
    ts = np.sort(tt)
    y = (n - np.searchsorted(ts, ut, side="left")) / n  # share with T >= u
    dc = np.bincount(np.searchsorted(ut, tt[cens]), minlength=len(ut)) / n  # share censored at u
    dlam = dc / y
    cum_int = np.cumsum(dlam / y)  # integral of dLambda_c / y up to u (inclusive)
    k_pos = np.searchsorted(ut, tt)  # index of each row's time
    out_term = np.zeros_like(resid)
    for j, t in enumerate(times):
        r = resid[:, j]
        case = (tt <= t) & out.event
        # s_i: just before T_i for cases (jumps strictly before T_i), t for controls (jumps <= t)
        s_idx = np.where(case, np.searchsorted(ut, tt, side="left") - 1, np.searchsorted(ut, t, side="right") - 1)
        active = r != 0
        # IF_k(log G(s)) = -[1(T_k <= s, censored_k)/y(T_k) - sum_{u <= min(T_k, s)} dLambda_c(u)/y(u)]
        # term_k = -(1/n) sum_i r_i IF_k(log G(s_i))
        s_act, r_act = s_idx[active], r[active]
        order = np.argsort(s_act)
        s_sorted, r_sorted = s_act[order], r_act[order]
        r_tail = np.concatenate([np.cumsum(r_sorted[::-1])[::-1], [0.0]])  # sum of r over s_i >= position
        # first part: rows censored: sum of r_i over s_i >= k_pos[k], divided by y(T_k)
        first = r_tail[np.searchsorted(s_sorted, k_pos, side="left")] / y[k_pos]
        # second part: sum_i r_i * cum_int[min(k_pos, s_i)]
        cum_r_int = np.concatenate([[0.0], np.cumsum(r_sorted * np.where(s_sorted >= 0, cum_int[np.maximum(
            s_sorted, 0)], 0.0))])
        pos = np.searchsorted(s_sorted, k_pos, side="left")  # rows with s_i < k_pos
        second = cum_r_int[pos] + r_tail[pos] * cum_int[k_pos]
        out_term[:, j] = (np.where(cens, first, 0.0) - second) / n
    return out_term


def brier_score(time, event, predicted_survival, times, *, conf_level: float = 0.95, null_model: bool = True,
                conservative: bool = False, model: str = "model") -> pd.DataFrame:
    r"""IPCW Brier score of predicted survival probabilities at given times (Graf et al. 1999).

    Parameters
    ----------
    time, event : array-like
        Holdout exit times and event flags (1 = defected); ``time`` may be a :class:`~churnsurv.Tenures` table
        with ``event=None``.
    predicted_survival : array-like or DataFrame
        Predicted :math:`S(t \mid x_i)`: shape (n, len(times)), or a frame with one column per time (columns
        named by the time, e.g. ``3, 6, 12``, are matched to ``times``).
    times : list of float
        The times.
    conf_level : float
        Level of the Wald interval.
    null_model : bool
        Also report the Brier score of the Kaplan-Meier of the holdout (same prediction for everyone), the
        reference a model should beat.
    conservative : bool
        Standard error ignoring the estimation of the censoring distribution (slightly larger). The default
        includes it, as ``riskRegression::Score`` does.
    model : str
        Label of the predictions in the ``model`` column.

    Returns
    -------
    pandas.DataFrame
        One row per (model, time): ``model, time, estimate, std_error, ci_lower, ci_upper``; the null model
        first, labelled ``"Kaplan-Meier"``.

    Notes
    -----
    With :math:`\hat G` the reverse Kaplan-Meier (censoring) estimate of the holdout,

    .. math::

        BS(t) = \frac1n \sum_i \left[ \frac{S(t\mid x_i)^2\, 1(T_i \le t, \delta_i = 1)}{\hat G(T_i-)}
        + \frac{(1 - S(t\mid x_i))^2\, 1(T_i > t)}{\hat G(t)} \right],

    rows censored before :math:`t` contributing 0. Equal to ``riskRegression::Score(..., metrics = "brier",
    cens.model = "km")`` (point estimate and standard error, both settings of ``conservative``).

    References
    ----------
    .. [1] Graf E., Schmoor C., Sauerbrei W., Schumacher M. (1999). Assessment and comparison of prognostic
       classification schemes for survival data. Statistics in Medicine 18, 2529-2545.
    .. [2] Gerds T.A., Schumacher M. (2006). Consistent estimation of the expected Brier score in general
       survival models with right-censored event times. Biometrical Journal 48, 1029-1040.
    """
    owner = "brier_score"
    conf_level = check_conf_level(conf_level, owner)
    out = _outcome(time, event, owner)
    _check_no_truncation(out, owner)
    times = _times(times, owner)
    surv = _prediction_matrix(predicted_survival, out.n, times, "predicted_survival", owner, out.ids,
                              probability=True)
    g_sub, g_t = _ipcw(out, times)
    preds = {}
    if null_model:
        s_km, _ = _km(out.time, out.event, times)
        preds["Kaplan-Meier"] = np.repeat(s_km[None, :], out.n, axis=0)
    preds[str(model)] = surv
    z = _z(conf_level)
    frames = []
    for name, s in preds.items():
        resid = _brier_parts(out, s, times, g_sub, g_t)
        est = resid.mean(axis=0)
        se = _brier_se(out, resid, times, conservative)
        frames.append(pd.DataFrame({"model": name, "time": times, "estimate": est, "std_error": se,
                                    "ci_lower": np.maximum(0, est - z * se), "ci_upper": np.minimum(1, est + z * se)}))
    return pd.concat(frames, ignore_index=True)


def integrated_brier_score(time, event, predicted_survival, times, *, null_model: bool = True,
                           model: str = "model") -> pd.DataFrame:
    r"""Integrated Brier score over a grid of times, as ``riskRegression::Score(summary = "ibs")``.

    Parameters
    ----------
    time, event, predicted_survival, times, null_model, model
        As in :func:`brier_score`. Pass a fine grid of ``times`` (e.g. every month) for a good integral.

    Returns
    -------
    pandas.DataFrame
        One row per (model, time): ``model, time, brier, ibs`` where ``ibs`` is the integrated score up to that
        time; the last row of each model is the usual single number.

    Notes
    -----
    The Brier curve is taken as a step function on the grid :math:`t_1 < \dots < t_K` (left endpoint rule) and
    divided by the horizon:

    .. math::

        IBS(t_k) = \frac{1}{t_k} \sum_{j < k} BS(t_j) (t_{j+1} - t_j),

    so :math:`IBS(t_1) = 0`; this is riskRegression's definition (its ``IBS`` column), checked to 1e-12.
    Compare models on the same grid only. Lower is better; the Kaplan-Meier row is the reference.

    References
    ----------
    .. [1] Graf E., Schmoor C., Sauerbrei W., Schumacher M. (1999). Statistics in Medicine 18, 2529-2545.
    """
    bs = brier_score(time, event, predicted_survival, times, null_model=null_model, model=model)
    frames = []
    for name, g in bs.groupby("model", sort=False):
        t = g["time"].to_numpy()
        b = g["estimate"].to_numpy()
        area = np.concatenate([[0.0], np.cumsum(b[:-1] * np.diff(t))])
        frames.append(pd.DataFrame({"model": name, "time": t, "brier": b, "ibs": area / t}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------------- calibration
def calibration(time, event, predicted_risk, horizon: float, *, groups: int = 10, cause=None,
                conf_level: float = 0.95) -> dict:
    r"""Calibration at a horizon: predicted vs observed risk by risk group, and the calibration slope.

    Parameters
    ----------
    time, event : array-like
        Holdout exit times and event flags; ``time`` may be a :class:`~churnsurv.Tenures` table with
        ``event=None``. For ``cause=``, ``event`` holds the cause label of each defection (anything that is
        missing, 0 or False meaning censored), or the Tenures table's ``cause`` column is used.
    predicted_risk : array-like
        Predicted probability of defection by ``horizon``, :math:`1 - S(h \mid x)` (or the cause's cumulative
        incidence).
    horizon : float
        The horizon :math:`h`.
    groups : int
        Number of risk groups: quantile groups of the predicted risk (deciles by default), with R's type-7
        quantiles as breaks, lowest break included, tied breaks merged.
    cause : str, optional
        Score the cumulative incidence of this cause (observed by Aalen-Johansen) instead of all-cause risk.
    conf_level : float
        Level of the intervals.

    Returns
    -------
    dict of DataFrame
        ``"groups"``: one row per group, ``group, n, n_events, predicted`` (mean predicted risk), ``observed``
        (Kaplan-Meier :math:`1 - \hat S(h)` or Aalen-Johansen CIF), ``std_error, ci_lower, ci_upper``.
        ``"slope"``: rows ``intercept`` and ``slope`` with ``estimate, std_error, ci_lower, ci_upper``
        (perfect calibration: 0 and 1).

    Notes
    -----
    Group intervals: all-cause, the Greenwood log-log interval of the Kaplan-Meier (R ``survfit(...,
    conf.type = "log-log")``, empty when nobody defected); per cause, the log interval on the infinitesimal
    jackknife standard error of the Aalen-Johansen CIF, as R's multi-state ``survfit`` computes it.

    The calibration line regresses the pseudo-observations of the outcome at :math:`h` on the prediction by
    ordinary least squares (Andersen & Perme 2010),

    .. math::

        \hat\theta_i = a + b\, \hat p_i + \varepsilon_i, \qquad
        \hat\theta_i = \hat F(h) + n\, \mathrm{IF}_i(\hat F(h)),

    with :math:`\hat F = 1 - \hat S` from the Kaplan-Meier and :math:`\mathrm{IF}_i` its infinitesimal jackknife
    influence, which is what R's ``survival::pseudo`` returns; intercept, slope and their (OLS) standard errors
    match ``lm(pseudo ~ p)`` to 1e-8. :math:`b < 1` means the predictions are too spread out (over-fitting),
    :math:`b > 1` too compressed. For a cause, the same is done with the Aalen-Johansen pseudo-values.

    References
    ----------
    .. [1] Andersen P.K., Pohar Perme M. (2010). Pseudo-observations in survival analysis. Statistical Methods in
       Medical Research 19, 71-99.
    .. [2] Austin P.C., Harrell F.E., van Klaveren D. (2020). Graphical calibration curves and the integrated
       calibration index (ICI) for survival models. Statistics in Medicine 39, 2714-2742.
    """
    owner = "calibration"
    conf_level = check_conf_level(conf_level, owner)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise param_error("groups", owner, "a positive integer", groups)
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Real) or not horizon > 0:
        raise param_error("horizon", owner, "a positive number", horizon)
    horizon = float(horizon)
    cause_flag = None
    if cause is not None and not isinstance(time, Tenures):
        lab = pd.Series(np.asarray(event, dtype=object))
        censored = lab.isna() | lab.isin([0, False, "", "0"])
        cause_flag = (lab == cause).to_numpy()
        if not cause_flag.any():
            raise ValueError(f"{owner}: cause {cause!r} never occurs in 'event'; the labels are "
                             f"{sorted(map(str, lab[~censored].unique()))[:10]}.")
        event = (~censored).to_numpy()
    out = _outcome(time, event, owner)
    _check_no_truncation(out, owner)
    if cause is not None and cause_flag is None:
        if out.cause is None:
            raise ValueError(f"{owner}: cause={cause!r} needs a Tenures table with causes.")
        cause_flag = out.event & (out.cause == cause)
        if not cause_flag.any():
            raise ValueError(f"{owner}: cause {cause!r} never occurs in this Tenures table.")
    p = _score(predicted_risk, out.n, "predicted_risk", owner, out.ids)
    bad = (p < 0) | (p > 1)
    if bad.any():
        raise data_error("predicted_risk", "probabilities outside [0, 1]", bad, out.ids,
                         "Pass the predicted risk 1 - S(horizon | x), not a linear predictor.")
    edges = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    grp = np.searchsorted(edges, p, side="left")
    grp[grp == 0] = 1  # lowest break included
    z = _z(conf_level)
    rows = []
    for gi, g in enumerate(np.unique(grp), start=1):
        m = grp == g
        sub = _Outcome(None, out.time[m], out.event[m], out.weight[m], out.ids[m])
        if cause is None:
            n_ev = int(np.sum(sub.event & (sub.time <= horizon)))
            s, v = _km(sub.time, sub.event, np.array([horizon]))
            s, v = float(s[0]), float(v[0])
            obs, se = 1 - s, s * np.sqrt(v)
            if 0 < s < 1:
                lo_s, hi_s = (s ** np.exp(k * z * np.sqrt(v) / np.log(s)) for k in (-1, 1))
                lo, hi = 1 - hi_s, 1 - lo_s
            else:
                lo = hi = np.nan
        else:
            cf = cause_flag[m]
            n_ev = int(np.sum(cf & (sub.time <= horizon)))
            obs, dfw = _influence_at(sub, horizon, cf)
            se = float(np.sqrt(np.sum(dfw**2)))
            lo, hi = ((obs * np.exp(-z * se / obs), min(1.0, obs * np.exp(z * se / obs))) if obs > 0
                      else (np.nan, np.nan))
        rows.append((gi, int(m.sum()), n_ev, float(p[m].mean()), obs, se, lo, hi))
    table = pd.DataFrame(rows, columns=["group", "n", "n_events", "predicted", "observed", "std_error", "ci_lower",
                                        "ci_upper"])
    pseudo = _pseudo_values(out, horizon, cause_flag)
    return {"groups": table, "slope": _ols_line(p, pseudo, z, horizon)}


def _pseudo_values(out: _Outcome, horizon: float, cause_flag=None) -> np.ndarray:
    """Infinitesimal-jackknife pseudo-observations of F(h) (R's ``survival::pseudo``): F + n dF/dw_i."""
    est, dfw = _influence_at(out, horizon, cause_flag)
    return est + out.n * dfw


def _influence_at(out: _Outcome, horizon: float, cause_flag=None) -> tuple[float, np.ndarray]:
    """F(h) (1 - Kaplan-Meier, or the Aalen-Johansen CIF of a cause) and its derivative in each case weight.

    The derivatives are the infinitesimal jackknife: their sum of squares is R's ``survfit`` multi-state standard
    error, and ``F + n dF/dw_i`` are ``survival::pseudo``'s pseudo-values.
    """
    t, ev, n = out.time, out.event, out.n
    ut = np.unique(t[ev])
    ut = ut[ut <= horizon]
    if len(ut) == 0:
        return 0.0, np.zeros(n)
    ts = np.sort(t)
    n_r = (n - np.searchsorted(ts, ut, side="left")).astype(float)
    d = np.bincount(np.searchsorted(ut, t[ev & (t <= horizon)]), minlength=len(ut)).astype(float)
    pos = np.searchsorted(ut, t, side="right")  # number of event times <= T_i
    died = ev & (t <= horizon)
    jpos = np.searchsorted(ut, t, side="left")
    if cause_flag is None:
        # d log S(h) / d w_i = sum_{t_j <= h} [Y_i(t_j) d_j / (n_j (n_j - d_j)) - dN_i(t_j) / (n_j - d_j)]
        s_h = np.prod(1 - d / n_r)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(n_r > d, d / (n_r * (n_r - d)), 0.0)
            b = np.where(n_r > d, 1.0 / (n_r - d), 0.0)
        cum_a = np.concatenate([[0.0], np.cumsum(a)])
        dlog = cum_a[np.minimum(pos, len(ut))] - np.where(died, b[np.minimum(jpos, len(ut) - 1)], 0.0)
        return float(1 - s_h), -s_h * dlog
    # cause-specific: IJ of the Aalen-Johansen CIF at h
    dk = np.bincount(np.searchsorted(ut, t[cause_flag & (t <= horizon)]), minlength=len(ut)).astype(float)
    s = np.cumprod(1 - d / n_r)
    s_minus = np.concatenate([[1.0], s[:-1]])
    f = np.cumsum(s_minus * dk / n_r)
    fh = f[-1]
    # F(h) = sum_j S(t_j-) dk_j / n_j. Perturb row i: dS(t_j-) from the KM IF, d(dk_j/n_j) directly.
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n_r > d, d / (n_r * (n_r - d)), 0.0)
        b = np.where(n_r > d, 1.0 / (n_r - d), 0.0)
    # IF of log S(t_j-) for row i: sum_{l < j} [Y_i(t_l) a_l - dN_i(t_l) b_l]
    # sum_j S(t_j-) dk_j / n_j * IF(log S(t_j-)) = sum_l [Y_i(t_l) a_l - dN_i(t_l) b_l] * (F(h) - F(t_l))
    tail = fh - f
    cum_ya = np.concatenate([[0.0], np.cumsum(a * tail)])
    if_f = cum_ya[np.minimum(pos, len(ut))] - np.where(died, (b * tail)[np.minimum(jpos, len(ut) - 1)], 0.0)
    # direct part: sum_j S(t_j-) [dN_ik(t_j) / n_j - Y_i(t_j) dk_j / n_j^2]
    cum_y = np.concatenate([[0.0], np.cumsum(s_minus * dk / n_r**2)])
    if_f += np.where(cause_flag & (t <= horizon), (s_minus / n_r)[np.minimum(jpos, len(ut) - 1)], 0.0)
    if_f -= cum_y[np.minimum(pos, len(ut))]
    return float(fh), if_f


def _ols_line(p: np.ndarray, y: np.ndarray, z: float, horizon: float) -> pd.DataFrame:
    x = np.column_stack([np.ones_like(p), p])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    dof = len(y) - 2
    sigma2 = float(resid @ resid) / dof if dof > 0 else np.nan
    se = np.sqrt(np.diag(np.linalg.inv(x.T @ x)) * sigma2)
    return pd.DataFrame({"horizon": horizon, "term": ["intercept", "slope"], "estimate": coef, "std_error": se,
                         "ci_lower": coef - z * se, "ci_upper": coef + z * se})


def plot_calibration(table, ax=None, *, ci: bool = True, label: str | None = None, diagonal: bool = True, **kwargs):
    """Plot observed against predicted risk per group, with the interval and the diagonal of perfect calibration.

    Parameters
    ----------
    table : dict or DataFrame
        The result of :func:`calibration` (or its ``"groups"`` frame).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    ci : bool
        Draw the observed intervals as error bars.
    label : str, optional
        Legend label of the points.
    diagonal : bool
        Draw the line observed = predicted.
    **kwargs
        Passed to ``ax.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    groups = table["groups"] if isinstance(table, Mapping) else table
    if not isinstance(groups, pd.DataFrame) or not {"predicted", "observed"} <= set(groups.columns):
        raise TypeError("plot_calibration needs the result of calibration() (or its 'groups' frame).")
    if ax is None:
        _, ax = plt.subplots()
    x, y = groups["predicted"].to_numpy(float), groups["observed"].to_numpy(float)
    yerr = None
    if ci and {"ci_lower", "ci_upper"} <= set(groups.columns):
        lo = np.nan_to_num(y - groups["ci_lower"].to_numpy(float), nan=0.0)
        hi = np.nan_to_num(groups["ci_upper"].to_numpy(float) - y, nan=0.0)
        yerr = np.vstack([np.maximum(lo, 0), np.maximum(hi, 0)])
    kwargs.setdefault("fmt", "o")
    ax.errorbar(x, y, yerr=yerr, label=label, **kwargs)
    if diagonal:
        top = float(np.nanmax(np.concatenate([x, y, [0.0]]))) * 1.05 or 1.0
        ax.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel("Predicted risk")
    ax.set_ylabel("Observed risk")
    if isinstance(table, Mapping) and "slope" in table:
        sl = table["slope"].set_index("term")["estimate"]
        ax.set_title(f"Calibration: intercept {sl['intercept']:.3f}, slope {sl['slope']:.3f}")
    return ax


# ---------------------------------------------------------------------------------------------------- projections
def projection_error(actual_survivors, projections: Mapping[str, Sequence[float]], periods=None, *,
                     detail: bool = False) -> pd.DataFrame:
    r"""Mean absolute percentage error (MAPE) of projected survivor counts or survival fractions.

    Parameters
    ----------
    actual_survivors : array-like or Series
        Observed survivors (counts or fractions) per holdout period. A Series indexed by period gives
        ``periods`` too.
    projections : dict of str to array-like
        Each model's projection for the same periods, e.g. ``{"Kaplan-Meier": ..., "Weibull": ...,
        "sBG": ..., "BdW": ..., "constant churn": ...}``.
    periods : array-like, optional
        The period labels (default the Series index, else 1, 2, ...).
    detail : bool
        Return the per-period errors instead of one row per model.

    Returns
    -------
    pandas.DataFrame
        One row per model, best first: ``model, n_periods, mape, max_ape, bias`` (mean signed percentage error,
        positive when the model over-projects, in %). With ``detail=True`` one row per (model, period):
        ``model, period, actual, projected, error, ape``.

    Notes
    -----
    .. math::

        \mathrm{MAPE} = \frac{100}{K}\sum_{k=1}^{K} \frac{|\hat N_k - N_k|}{N_k}.

    Periods with no actual survivor are undefined for a percentage error and raise an error.

    References
    ----------
    .. [1] Fader P.S., Hardie B.G.S. (2007). How to project customer retention. Journal of Interactive Marketing
       21, 76-90.
    """
    owner = "projection_error"
    if isinstance(actual_survivors, pd.Series) and periods is None:
        periods = actual_survivors.index.to_numpy()
    actual = np.asarray(actual_survivors, dtype=float)
    if actual.ndim != 1 or len(actual) == 0:
        raise param_error("actual_survivors", owner, "a non-empty one-dimensional array", actual_survivors)
    k = len(actual)
    periods = np.arange(1, k + 1) if periods is None else np.asarray(periods)
    if len(periods) != k:
        raise ValueError(f"{owner}: 'periods' has {len(periods)} values for {k} actual values.")
    bad = ~np.isfinite(actual) | (actual <= 0)
    if bad.any():
        raise data_error("actual_survivors", "zero, negative or missing values", bad, periods,
                         "A percentage error needs positive actual survivors; drop those periods.")
    if not isinstance(projections, Mapping) or len(projections) == 0:
        raise param_error("projections", owner, "a non-empty dict of model name to projected survivors",
                          type(projections).__name__, type_error=not isinstance(projections, Mapping))
    rows, summary = [], []
    for name, proj in projections.items():
        pr = np.asarray(proj, dtype=float)
        if pr.shape != actual.shape:
            raise ValueError(f"{owner}: the projection of {name!r} has {pr.size} values for {k} periods.")
        if not np.all(np.isfinite(pr)):
            raise data_error(f"projections[{name!r}]", "missing or infinite values", ~np.isfinite(pr), periods)
        err = pr - actual
        ape = 100 * np.abs(err) / actual
        rows.append(pd.DataFrame({"model": name, "period": periods, "actual": actual, "projected": pr,
                                  "error": err, "ape": ape}))
        summary.append((name, k, float(ape.mean()), float(ape.max()), float(np.mean(100 * err / actual))))
    if detail:
        return pd.concat(rows, ignore_index=True)
    table = pd.DataFrame(summary, columns=["model", "n_periods", "mape", "max_ape", "bias"])
    return table.sort_values("mape", kind="stable").reset_index(drop=True)


def plot_projection_error(actual_survivors, projections: Mapping[str, Sequence[float]], periods=None, ax=None, *,
                          cutoff: float | None = None, **kwargs):
    """Plot actual survivors and each model's projection, with its MAPE in the legend.

    Parameters
    ----------
    actual_survivors, projections, periods
        As in :func:`projection_error`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    cutoff : float, optional
        Draw a vertical line at the end of the calibration (training) period.
    **kwargs
        Passed to ``ax.plot`` for the projections.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    detail = projection_error(actual_survivors, projections, periods, detail=True)
    summary = projection_error(actual_survivors, projections, periods).set_index("model")["mape"]
    if ax is None:
        _, ax = plt.subplots()
    first = detail[detail["model"] == detail["model"].iloc[0]]
    ax.plot(first["period"], first["actual"], color="black", marker="o", linestyle="none", label="actual")
    for name, g in detail.groupby("model", sort=False):
        ax.plot(g["period"], g["projected"], label=f"{name} (MAPE {summary[name]:.1f}%)", **kwargs)
    if cutoff is not None:
        ax.axvline(cutoff, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("Period")
    ax.set_ylabel("Survivors")
    ax.legend()
    return ax


# ---------------------------------------------------------------------------------------------------- holdout split
def holdout_split(tenures: Tenures, *, by: str = "calendar", cutoff: float, start) -> tuple[Tenures, Tenures]:
    r"""Split a tenure table into a training table (known by ``cutoff``) and an evaluation table (what came after).

    Parameters
    ----------
    tenures : Tenures
        One row per customer.
    by : {"calendar", "cohort"}
        ``"calendar"``: train on everything observed before the calendar time ``cutoff`` and evaluate the
        experience after it (all customers, truncated at the cutoff). ``"cohort"``: train on the cohorts that
        signed up before ``cutoff`` (followed up to ``cutoff``) and evaluate the later cohorts.
    cutoff : float
        Calendar time of the cut, on the scale of ``start``.
    start : str or array-like
        Calendar time of sign-up per row, in the table's time unit (e.g. months since the first sign-up): a
        column of ``tenures.data`` or an array aligned with the rows.

    Returns
    -------
    (Tenures, Tenures)
        Training and evaluation tables.

    Notes
    -----
    With sign-up at calendar :math:`c_i`, entry :math:`e_i`, exit :math:`x_i` (tenure) and cutoff :math:`\kappa`,
    a row is observed on the calendar interval :math:`(c_i + e_i, c_i + x_i]`.

    * **Training** (both rules): rows with :math:`c_i + e_i < \kappa` (observed before the cut; with
      ``by="cohort"`` also :math:`c_i < \kappa`), with exit :math:`\min(x_i, \kappa - c_i)` and the event kept
      only if :math:`c_i + x_i \le \kappa`: exits after the cut are censored at it.
    * **Evaluation**, ``by="calendar"``: rows still observed after the cut (:math:`c_i + x_i > \kappa`), with
      entry :math:`\max(e_i, \kappa - c_i)`: customers on the books at the cut are left-truncated at their
      tenure then; later sign-ups keep their own entry.
    * **Evaluation**, ``by="cohort"``: the rows with :math:`c_i \ge \kappa`, unchanged (a later cohort followed
      from its own sign-up, for the metrics that need right-censored data).

    Customers with :math:`c_i + x_i = \kappa` belong to the training table only. ``cutoff`` must leave rows on
    both sides.
    """
    owner = "holdout_split"
    if not isinstance(tenures, Tenures):
        raise param_error("tenures", owner, "a Tenures table", type(tenures).__name__, type_error=True)
    check_one_of(by, "by", owner, ("calendar", "cohort"))
    if tenures.spells:
        raise ValueError(f"{owner} needs one row per customer; this Tenures table has spells.")
    if isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Real) or not np.isfinite(cutoff):
        raise param_error("cutoff", owner, "a finite number (calendar time on the scale of 'start')", cutoff)
    d = tenures.data
    ids = d["id"].to_numpy()
    if isinstance(start, str):
        if start not in d.columns:
            raise TenureDataError(f"The tenure table has no column {start!r}. Available columns: "
                                  f"{', '.join(map(repr, d.columns))}. Add the sign-up time as a value column "
                                  "(values=[...]) or pass it as an array.", column=start)
        c = _numeric(d[start], start, owner, ids)
    else:
        c = _numeric(start, "start", owner, ids)
        if len(c) != len(d):
            raise ValueError(f"{owner}: 'start' has {len(c)} values for {len(d)} rows.")
    e, x = d["entry"].to_numpy(float), d["exit"].to_numpy(float)
    ev = d["event"].to_numpy(bool)
    kappa = float(cutoff)
    in_train = c + e < kappa
    if by == "cohort":
        in_train &= c < kappa
    train = d.loc[in_train].copy()
    cut_t = kappa - c[in_train]
    after = x[in_train] > cut_t
    train["exit"] = np.where(after, cut_t, x[in_train])
    train["event"] = ev[in_train] & ~after
    if "cause" in train.columns:
        train["cause"] = train["cause"].where(train["event"].to_numpy())
    if by == "calendar":
        in_eval = c + x > kappa
        evald = d.loc[in_eval].copy()
        evald["entry"] = np.maximum(e[in_eval], kappa - c[in_eval])
    else:
        in_eval = c >= kappa
        evald = d.loc[in_eval].copy()
    for name, part in (("training", train), ("evaluation", evald)):
        if len(part) == 0:
            raise ValueError(f"{owner}: the {name} table is empty with cutoff={cutoff!r}; sign-up times range "
                             f"from {c.min():g} to {c.max():g}. Choose a cutoff inside the observation window.")
    kw = dict(segments=tenures.segments, values=tenures.values, causes=tenures.causes, time_unit=tenures.time_unit,
              spells=False, truncation=None, source=tenures.source)
    return (Tenures(train.reset_index(drop=True), **kw), Tenures(evald.reset_index(drop=True), **kw))
