"""Gray's (1988) test of equal cumulative incidence: the statistics behind :func:`churnsurv.competing.gray_test`.

The score and variance of each stratum are computed exactly as ``cmprsk``'s Fortran routine ``crstm``
(including its corrections for tied events), vectorised over event times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from churnsurv.lifetable import LifeTable


def _gray_statistics(lt: LifeTable, by_cols: list, strata_cols: list, causes: list, rho: float) -> pd.DataFrame:
    """Gray's statistic per cause over the groups ``by_cols``, summed over the strata ``strata_cols``:
    ``cause, statistic, dof, p_value`` (NaN where the variance matrix is singular)."""
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
        rows.append((c, stat, ng - 1, float(stats.chi2.sf(stat, ng - 1)) if np.isfinite(stat) else np.nan))
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
