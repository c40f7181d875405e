"""Gray's (1988) test of equal cumulative incidence across segments (:func:`gray_test`), as ``cmprsk::cuminc``.

The score and variance of each stratum are computed exactly as ``cmprsk``'s Fortran routine ``crstm``
(including its corrections for tied events), vectorised over event times.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.competing.aalen_johansen import _check_causes, _is_truncated, _resolve

from churnsurv.data.tenures import _as_list
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import LifeTable

__all__ = ["gray_test"]


def _gray_statistics(lt: LifeTable, by_cols: list, strata_cols: list, causes: list, rho: float) -> pd.DataFrame:
    """Gray's statistic per cause over the groups ``by_cols``, summed over the strata ``strata_cols``:
    ``cause, statistic, dof, p_value`` (NaN where the variance matrix is singular)."""
    from scipy.special import chdtrc  # chi-square upper tail (scipy.stats.chi2.sf); scipy loads on first use

    keys = lt.group_keys()
    gcode = lt.group_codes
    grp = _factorize_rows(keys, by_cols)
    ng = int(grp.max()) + 1
    if ng < 2:
        raise ValueError(f"gray_test needs at least two groups in {by_cols}; found one.")
    stratum = _factorize_rows(keys, strata_cols) if strata_cols else np.zeros(len(keys), dtype=np.int64)
    tab = lt.table
    time = tab["time"].to_numpy(float)
    exits = tab["n_events"].to_numpy(float) + tab["n_censored"].to_numpy(float)
    events = tab["n_events"].to_numpy(float)
    row_group = grp[gcode]
    row_stratum = stratum[gcode]

    rows = []
    for c in causes:
        d1 = lt.cause_events[c].to_numpy(float)
        d2 = events - d1
        score = np.zeros(ng - 1)
        var = np.zeros((ng - 1, ng - 1))
        for st in np.unique(row_stratum):
            sel = row_stratum == st
            s, v = _crst(time[sel], row_group[sel], ng, d1[sel], d2[sel], exits[sel], rho)
            score += s
            var += v
        stat = np.nan
        if np.linalg.matrix_rank(var) == ng - 1:
            stat = float(score @ np.linalg.solve(var, score))
        rows.append((c, stat, ng - 1, float(chdtrc(ng - 1, max(stat, 0.0))) if np.isfinite(stat) else np.nan))
    out = pd.DataFrame(rows, columns=["cause", "statistic", "dof", "p_value"])
    out["cause"] = pd.Categorical(out["cause"], categories=list(lt.causes))
    return out


def _crst(time, group, ng, d1, d2, exits, rho):
    """Score and variance of Gray's test in one stratum (cmprsk ``crst``), vectorised over times."""
    utimes, tix = np.unique(time, return_inverse=True)
    nt = len(utimes)
    D1 = np.zeros((nt, ng))
    D2 = np.zeros((nt, ng))
    X = np.zeros((nt, ng))
    np.add.at(D1, (tix, group), d1)
    np.add.at(D2, (tix, group), d2)
    np.add.at(X, (tix, group), exits)
    rs = X.sum(axis=0)[None, :] - (np.cumsum(X, axis=0) - X)  # at risk: time >= t
    rs = np.where(np.abs(rs) < 1e-9, 0.0, rs)
    pos = rs > 0
    safe_rs = np.where(pos, rs, 1.0)
    td = D1 + D2
    skm = np.cumprod(np.where(pos, (rs - td) / safe_rs, 1.0), axis=0)
    skmm = np.vstack([np.ones((1, ng)), skm[:-1]])
    f1 = np.cumsum(np.where(pos, skmm * D1 / safe_rs, 0.0), axis=0)
    f1m = np.vstack([np.zeros((1, ng)), f1[:-1]])
    ev = td.sum(axis=1) > 0
    rs, D1, D2, skm, skmm, f1m, pos, safe_rs = (x[ev] for x in (rs, D1, D2, skm, skmm, f1m, pos, safe_rs))
    safe_skmm = np.where(pos, skmm, 1.0)
    nd1 = D1.sum(axis=1)
    t1 = np.where(pos, rs / safe_skmm, 0.0)
    tr = t1.sum(axis=1)
    tq = np.where(pos, rs * (1.0 - f1m) / safe_skmm, 0.0).sum(axis=1)
    f = np.cumsum(nd1 / tr)
    fm = np.r_[0.0, f[:-1]]
    fb = (1.0 - fm) ** rho
    eye = np.eye(ng)
    a = fb[:, None, None] * (t1[:, :, None] * eye[None] - t1[:, :, None] * t1[:, None, :] / tr[:, None, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        cinc_w = np.where(nd1 > 0, nd1 / (tr * (1.0 - fm)), 0.0)
    C = np.cumsum(a * cinc_w[:, None, None], axis=0)
    score = (fb[:, None] * np.where(pos, D1 - nd1[:, None] * rs * (1.0 - f1m) / (safe_skmm * tq[:, None]),
                                    0.0)).sum(axis=0)
    # events of the cause of interest
    skm_pos = skm > 0
    t4 = np.where(skm_pos, 1.0 - (1.0 - f[:, None]) / np.where(skm_pos, skm, 1.0), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0), 1.0)
        t3 = np.where(pos & (nd1[:, None] > 0), t5 * skmm * nd1[:, None] / (tr[:, None] * safe_rs), 0.0)
    T1 = a - t4[:, None, :] * C
    V = np.einsum("tk,tik,tjk->ij", t3, T1, T1)
    v2 = np.einsum("tik,tk->ik", T1, t4 * t3)
    v3 = (t4 * t4 * t3).sum(axis=0)
    # events of the other causes
    m2 = skm_pos & (D2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t4b = np.where(m2, (1.0 - f[:, None]) / np.where(skm_pos, skm, 1.0), 0.0)
        t5b = np.where(D2 > 1, 1.0 - (D2 - 1.0) / (rs - 1.0), 1.0)
        t3b = np.where(m2, t5b * skmm ** 2 * D2 / safe_rs ** 2, 0.0)
    w = t4b * t4b * t3b
    v3 += w.sum(axis=0)
    v2 -= np.einsum("tik,tk->ik", C, w)
    V += np.einsum("tk,tik,tjk->ij", w, C, C)
    Cf = C[-1] if len(C) else np.zeros((ng, ng))
    V += Cf @ np.diag(v3) @ Cf.T + Cf @ v2.T + v2 @ Cf.T
    return score[:ng - 1], V[:ng - 1, :ng - 1]


def _factorize_rows(keys: pd.DataFrame, cols: list) -> np.ndarray:
    """Integer code (sorted order) of the combination of ``cols`` in each row of ``keys``."""
    if len(cols) == 1:
        return pd.factorize(keys[cols[0]], sort=True)[0].astype(np.int64)
    return keys.groupby(cols, observed=True, sort=True).ngroup().to_numpy(np.int64)


# ============================================================================ the test
def gray_test(data, by: str | Sequence[str], *, cause: str | Sequence[str] | None = None,
              strata: str | Sequence[str] | None = None, rho: float = 0.0, **frame_kwargs) -> pd.DataFrame:
    """Gray's (1988) test of equal cumulative incidence of a cause across segments.

    Computes, for each cause, the statistic of ``cmprsk::cuminc(ftime, fstatus, group, strata, rho)$Tests``.

    Parameters
    ----------
    data : Tenures, LifeTable or pandas.DataFrame
        Right-censored records with causes (a LifeTable must be grouped by ``[*strata, *by]``).
    by : str or list of str
        Segment column(s) defining the groups (several columns: one group per combination of levels).
    cause : str or list of str, optional
        Causes to test; default all.
    strata : str or list of str, optional
        Stratification columns: scores and variances are summed over strata.
    rho : float, default 0
        Power of the weight :math:`\\{1 - \\hat F_k(t-)\\}^\\rho`.
    **frame_kwargs
        Column keywords for a DataFrame input (:meth:`Tenures.from_frame`); since ``cause`` selects causes
        here, name the cause column with ``cause_column=``.

    Returns
    -------
    pandas.DataFrame
        One row per cause: ``cause``, ``statistic`` (chi-square), ``dof`` (groups - 1), ``p_value``.
        The statistic is NaN where the variance matrix is singular (``cuminc`` reports -1 there).

    Raises
    ------
    TenureDataError
        When some customers enter after time 0: Gray's test is for right-censored data (its weights use the
        censoring distribution from time 0), and ``cmprsk`` has no left truncation either.

    See Also
    --------
    AalenJohansen : the cumulative incidence curves being compared.
    churnsurv.logrank_test : compares cause-specific hazards when given one cause at a time.

    Notes
    -----
    For cause :math:`k` and group :math:`j` with at-risk count :math:`Y_j(t)`, Kaplan-Meier
    :math:`\\hat S_j` and incidence :math:`\\hat F_{kj}`, the score is

    .. math::

        z_j = \\sum_t W(t)\\Big\\{d_{kj}(t) - \\frac{R_j(t)}{\\sum_l R_l(t)}\\,d_k(t)\\Big\\},
        \\qquad R_j(t) = Y_j(t)\\frac{1 - \\hat F_{kj}(t-)}{\\hat S_j(t-)},

    with :math:`W(t) = \\{1 - \\hat F_k(t-)\\}^\\rho` (:math:`\\hat F_k` pooled as in Gray's paper), and the
    statistic is :math:`z^\\top V^{-1} z` over the first :math:`g-1` groups, chi-square on :math:`g-1` degrees
    of freedom. :math:`V` is Gray's estimator (his equation for :math:`\\hat\\sigma`), computed exactly as
    ``cmprsk``'s Fortran routine ``crstm``, including its corrections for tied events. The loop over times is
    vectorised: the cost is :math:`O(T g^2)` for :math:`T` event times and :math:`g` groups.

    References
    ----------
    .. [1] Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of a
       competing risk. *The Annals of Statistics* 16, 1141-1154.
    .. [2] Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing risks and
       multi-state models. *Statistics in Medicine* 26, 2389-2430.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.competing import gray_test
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6, 2, 3, 4, 6, 8, 9],
    ...                    "reason": ["price", "price", None, "price", "service", "price",
    ...                               "service", None, "service", "price", "service", None],
    ...                    "plan": ["basic"] * 6 + ["premium"] * 6})
    >>> gray_test(df, "plan", duration="tenure", cause_column="reason").round(4)
         cause  statistic  dof  p_value
    0    price     3.6238    1    0.057
    1  service     0.5266    1    0.468
    """
    owner = "gray_test"
    by_cols, strata_cols = _as_list(by), _as_list(strata)
    if not by_cols:
        raise param_error("by", owner, "one or more segment columns", by)
    if isinstance(rho, bool) or not isinstance(rho, numbers.Real) or not np.isfinite(rho):
        raise param_error("rho", owner, "a finite float", rho, type_error=not isinstance(rho, numbers.Real))
    overlap = set(by_cols) & set(strata_cols)
    if overlap:
        raise ValueError(f"Columns {sorted(overlap)} are both in 'by' and 'strata' of gray_test; a column is either "
                         "a group or a stratum.")
    lt = _resolve(data, strata_cols + by_cols, frame_kwargs)[0]
    _check_causes(lt, owner)
    if _is_truncated(lt):
        n_late = float(lt.table["n_entered"].to_numpy()[lt.table["time"].to_numpy() > 0].sum())
        raise TenureDataError(
            f"gray_test: {n_late:g} customers enter observation after time 0 (left truncation). Gray's test is "
            "for right-censored data (cmprsk::cuminc has no entry times either). Test the records observed "
            "from sign-up (e.g. Tenures.naive() if truncation is negligible, or the customers with entry 0), "
            "or compare cause-specific hazards with churnsurv.logrank_test, which handles truncation.",
            n_rows=int(round(n_late)))
    causes = list(lt.causes) if cause is None else _as_list(cause)
    unknown = [c for c in causes if c not in lt.causes]
    if unknown:
        raise param_error("cause", owner, f"among the causes {list(lt.causes)}", cause)

    return _gray_statistics(lt, by_cols, strata_cols, causes, float(rho))


