"""The Aalen-Johansen estimate and its variances, as arrays over the rows of a life table.

Private kernels of :mod:`churnsurv.competing.aalen_johansen`: the survival and cumulative incidence per life-table row
(:func:`_aj_core`), the Greenwood-type delta-method variance, the Aalen-type variance of ``cmprsk::cuminc`` and
the infinitesimal-jackknife variance of R ``survfit`` (multi-state), whose customers are first aggregated into
cells (:func:`_cells`).
"""

from __future__ import annotations

import numpy as np

from churnsurv.data.tenures import Tenures
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import LifeTable, _group_codes

_DENSE_KEYS = 20_000_000  # largest dense bincount used to aggregate customers into cells


def _gcumsum(x: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum along axis 0 within consecutive groups."""
    c = np.cumsum(x, axis=0)
    if len(starts) > 1:
        offset = np.zeros_like(c[: len(starts)])
        offset[1:] = c[starts[1:] - 1]
        c = c - np.repeat(offset, lengths, axis=0)
    return c


def _aj_core(lt: LifeTable, multipliers: np.ndarray | None = None) -> dict:
    """Survival and cumulative incidences (optionally with cause hazards multiplied) per life-table row."""
    tab = lt.table
    n = tab["n_at_risk"].to_numpy(float)
    dk = lt.cause_events[list(lt.causes)].to_numpy(float)
    if multipliers is not None:
        dk = dk * multipliers[None, :]
    d = dk.sum(axis=1)
    gcode = lt.group_codes
    starts = np.flatnonzero(np.r_[True, gcode[1:] != gcode[:-1]])
    lengths = np.diff(np.r_[starts, len(n)])
    pos = n > 0
    safe_n = np.where(pos, n, 1.0)
    h = np.where(pos, d / safe_n, 0.0)
    hk = np.where(pos[:, None], dk / safe_n[:, None], 0.0)
    surv_factor = 1.0 - h
    all_gone = pos & (n - d <= 1e-12 * n)  # everyone at risk leaves: S drops to exactly 0
    surv_factor[all_gone] = 0.0
    S = np.empty_like(n)
    for s, m in zip(starts, lengths, strict=True):
        np.cumprod(surv_factor[s:s + m], out=S[s:s + m])
    S_prev = np.r_[1.0, S[:-1]]
    S_prev[starts] = 1.0
    F = _gcumsum(S_prev[:, None] * hk, starts, lengths)
    return {"n": n, "d": d, "dk": dk, "h": h, "hk": hk, "S": S, "S_prev": S_prev, "F": F, "gcode": gcode,
            "starts": starts, "lengths": lengths, "all_gone": all_gone, "pos": pos}


def _greenwood_variance(lt, core, survival_only=False):
    """Greenwood (survival) and Greenwood-type delta-method (incidence) variances from the risk sets."""
    n, d, dk, S, S_prev, F = core["n"], core["d"], core["dk"], core["S"], core["S_prev"], core["F"]
    starts, lengths, pos = core["starts"], core["lengths"], core["pos"]
    ok = pos & ~core["all_gone"]
    g = np.where(ok, d / np.where(ok, n * (n - d), 1.0), 0.0)
    C1 = _gcumsum(g, starts, lengths)
    var_s = S ** 2 * C1
    if survival_only:
        return var_s, None
    safe_n = np.where(pos, n, 1.0)
    e = np.where(pos[:, None], S_prev[:, None] * dk / safe_n[:, None] ** 2, 0.0)
    q = np.where(pos[:, None], S_prev[:, None] ** 2 * dk * (n[:, None] - dk) / safe_n[:, None] ** 3, 0.0)
    C2 = _gcumsum(F * g[:, None] + e, starts, lengths)
    C3 = _gcumsum(F ** 2 * g[:, None] + 2.0 * F * e + q, starts, lengths)
    var_f = _snap(F ** 2 * C1[:, None] - 2.0 * F * C2 + C3, F ** 2 * C1[:, None] + 2.0 * np.abs(F * C2) + C3)
    return var_s, var_f


def _aalen_variance(lt, core):
    """The Aalen-type variance of ``cmprsk::cuminc`` (Gray's Fortran ``cinc``), for every cause."""
    n, d, dk, S, S_prev, F = core["n"], core["d"], core["dk"], core["S"], core["S_prev"], core["F"]
    starts, lengths, pos = core["starts"], core["lengths"], core["pos"]
    nn = n[:, None]
    safe_n = np.where(pos, n, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        def tie(m):  # cmprsk's correction for m tied events among n at risk
            return np.where(m > 1, 1.0 - (m - 1.0) / (nn - 1.0), 1.0)
        other = d[:, None] - dk
        alive = S[:, None] > 0
        inv_s = np.where(alive, 1.0 / np.where(alive, S[:, None], 1.0), 0.0)
        t6_o = np.where(pos[:, None] & (other > 0) & alive,
                        S_prev[:, None] ** 2 * tie(other) * other / safe_n ** 2, 0.0)
        t6_k = np.where(pos[:, None] & (dk > 0), S_prev[:, None] ** 2 * tie(dk) * dk / safe_n ** 2, 0.0)
    # other causes: t3 = 1/S, t4 = F/S; the cause: t3 = 1/S (0 if S = 0), t4 = 1 + F/S
    t4_o, t4_k = F * inv_s, 1.0 + F * inv_s
    v1 = _gcumsum(t4_o ** 2 * t6_o + t4_k ** 2 * t6_k, starts, lengths)
    v2 = _gcumsum(inv_s * t4_o * t6_o + inv_s * t4_k * t6_k, starts, lengths)
    v3 = _gcumsum(inv_s ** 2 * (t6_o + t6_k), starts, lengths)
    return _snap(v1 + F ** 2 * v3 - 2.0 * F * v2, v1 + F ** 2 * v3 + 2.0 * np.abs(F * v2))


def _time_index(values: np.ndarray, utimes: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted unique times (values must be among them)."""
    if len(utimes) and utimes[0] >= 0 and utimes[-1] <= 50_000_000 and np.all(utimes == np.floor(utimes)):
        lookup = np.full(int(utimes[-1]) + 1, -1, dtype=np.int64)
        lookup[utimes.astype(np.int64)] = np.arange(len(utimes))
        iv = values.astype(np.int64)
        if np.array_equal(iv, values):
            return lookup[iv]
    return np.searchsorted(utimes, values)


def _cells(lt: LifeTable, tenures: Tenures | None, truncated: bool, owner: str):
    """Customers aggregated into cells (start row, exit row, status) with the sum of squared weights.

    ``start`` is the life-table row of the entry time (-1 for entry 0, observed from before the origin);
    status 0 is censored, k + 1 cause k. Without truncation and with unit weights the cells come from the
    life table alone. When the cells cannot be counted densely, one "cell" per customer is returned (the
    variance kernel sums duplicates itself).
    """
    tab = lt.table
    k = len(lt.causes)
    unit = tenures is None or bool(np.all(tenures.data["weight"].to_numpy() == 1.0))
    if not truncated and unit:
        m = len(tab)
        exit_row = np.tile(np.arange(m), k + 1)
        status = np.repeat(np.arange(k + 1), m)
        counts = np.concatenate([tab["n_censored"].to_numpy(float)] +
                                [lt.cause_events[c].to_numpy(float) for c in lt.causes])
        keep = counts > 0
        return np.full(int(keep.sum()), -1, dtype=np.int64), exit_row[keep], status[keep], counts[keep]
    if tenures is None:
        raise TenureDataError(
            f"{owner}: the infinitesimal-jackknife variance (variance='ij', R survfit's) of left-truncated data "
            "needs the customer records, which a LifeTable does not keep. Fit the Tenures (or the frame) "
            "instead, or choose variance='greenwood' (the delta-method variance from the risk sets).")
    dat = tenures.data
    by = list(lt.by)
    gcode_c = _group_codes(dat, by)[0]
    times = tab["time"].to_numpy(float)
    utimes = np.unique(times)
    nt = len(utimes)
    row_key = lt.group_codes * nt + np.searchsorted(utimes, times)
    exit_t = dat["exit"].to_numpy(float)
    entry_t = dat["entry"].to_numpy(float)
    ev = dat["event"].to_numpy(bool)
    status = np.zeros(len(dat), dtype=np.int64)
    if k:
        status[ev] = dat["cause"].cat.codes.to_numpy()[ev] + 1
    w2 = dat["weight"].to_numpy(float) ** 2
    n_keys = (int(gcode_c.max()) + 1) * nt if len(gcode_c) else 0
    if n_keys <= _DENSE_KEYS:
        lookup = np.full(n_keys, -1, dtype=np.int64)
        lookup[row_key] = np.arange(len(tab))

        def rows_of(v):
            return lookup[gcode_c * nt + _time_index(v, utimes)]
    else:
        def rows_of(v):
            return np.searchsorted(row_key, gcode_c * nt + _time_index(v, utimes))
    exit_row = rows_of(exit_t)
    late = entry_t > 0
    start = np.full(len(dat), -1, dtype=np.int64)
    if late.any():
        start[late] = rows_of(entry_t)[late]
    m = len(tab)
    n_cells = (m + 1) * m * (k + 1)
    if n_cells > _DENSE_KEYS:  # many distinct (entry, exit) pairs: the sparse products below sum duplicates
        return start, exit_row, status, w2
    key = ((start + 1) * m + exit_row) * (k + 1) + status
    sums = np.bincount(key, weights=w2, minlength=n_cells)
    cells = np.flatnonzero(sums > 0)
    sums = sums[cells]
    status_c = cells % (k + 1)
    rest = cells // (k + 1)
    return rest // m - 1, rest % m, status_c, sums


def _ij_variance(lt, core, cells):
    """Infinitesimal-jackknife variances of S and of each F_k, exactly as R ``survfit`` (multi-state).

    The influence of a customer entering after row ``s`` (``s = -1``: entry 0) and leaving at row ``x`` with
    status ``c`` is, at row ``t``, a function of (s, t) while active and of (s, x, c) once exited:

    * ``X(t) = -(GX(t) - GX(s))`` then ``jX(x, c) - GX(x) + GX(s)`` (all-cause part, ``u_0 = -S X``);
    * ``Q_k(t)`` likewise with ``GQ_k`` and ``jQ_k`` (``u_k = -F_k X + Q_k``).

    Every sum of squares over customers therefore splits into functions of the entry row, weighted by the
    sparse (exit row x entry row) matrix of summed squared weights per status, and functions of the exit
    row: no per-customer (or per-cell) work beyond building that matrix.
    """
    start, exit_row, status, w2 = cells
    n, d, h, hk, S, S_prev, F = core["n"], core["d"], core["h"], core["hk"], core["S"], core["S_prev"], core["F"]
    starts, lengths, pos = core["starts"], core["lengths"], core["pos"]
    m, k = F.shape
    ok = pos & ~core["all_gone"]
    a = np.where(ok, 1.0 / np.where(ok, n - d, 1.0), 0.0)
    b = np.where(pos, S_prev / np.where(pos, n, 1.0), 0.0)
    GX = _gcumsum(a * h, starts, lengths)                                          # (m,)
    GQ = _gcumsum(a[:, None] * F * h[:, None] + b[:, None] * hk, starts, lengths)  # (m, k)
    # functions of the entry row; index 0 is "entry 0" (X = Q = 0), index s + 1 is row s
    Xs = np.r_[0.0, GX]
    Qs = np.vstack([np.zeros((1, k)), GQ])
    fs = np.column_stack([np.ones(m + 1), Xs, Xs * Xs, Qs, Xs[:, None] * Qs, Qs * Qs])  # (m + 1, 3 + 3k)
    i1, iX, iXX = 0, 1, 2
    iQ, iXQ, iQQ = slice(3, 3 + k), slice(3 + k, 3 + 2 * k), slice(3 + 2 * k, 3 + 3 * k)
    # sums over customers leaving at each row, per status: N @ fs with N the sparse (status, exit row) x
    # (entry row) matrix of squared weights (a COO product: duplicate pairs are summed, in linear time)
    from scipy import sparse  # scipy loads on first use, not on `import churnsurv`

    N = sparse.coo_matrix((w2, (status * m + exit_row, start + 1)), shape=((k + 1) * m, m + 1))
    M_all = (N @ fs).reshape(k + 1, m, fs.shape[1])
    leave = M_all.sum(axis=0)
    EXX = np.zeros(m)
    EXQ = np.zeros((m, k))
    EQQ = np.zeros((m, k))
    for c in range(k + 1):
        M = M_all[c]
        ev = c > 0
        c1 = (a if ev else 0.0) - GX                                  # X at exit = c1 + Xs
        c2 = (a[:, None] * F if ev else 0.0) - GQ                     # Q at exit = c2 + Qs
        if ev:
            c2[:, c - 1] += b
        EXX += c1 * c1 * M[:, i1] + 2.0 * c1 * M[:, iX] + M[:, iXX]
        EXQ += (c1[:, None] * c2 * M[:, [i1]] + c1[:, None] * M[:, iQ] + c2 * M[:, [iX]] + M[:, iXQ])
        EQQ += c2 * c2 * M[:, [i1]] + 2.0 * c2 * M[:, iQ] + M[:, iQQ]
    # customers become active at the row after their entry row (entry 0: the segment's first row)
    first = np.zeros(m, dtype=bool)
    first[starts] = True
    act = np.where(start >= 0, start + 1, starts[core["gcode"][exit_row]])
    w_in = np.bincount(act, weights=w2, minlength=m)
    enter = w_in[:, None] * fs[np.where(first, 0, np.arange(m))]
    active = _gcumsum(enter - leave, starts, lengths)
    W, AX, BXX = active[:, i1], active[:, iX], active[:, iXX]
    AQ, BXQ, BQQ = active[:, iQ], active[:, iXQ], active[:, iQQ]
    EXX, EXQ, EQQ = (_gcumsum(x, starts, lengths) for x in (EXX, EXQ, EQQ))
    SXX = EXX + GX * GX * W - 2.0 * GX * AX + BXX
    SXQ = EXQ + GX[:, None] * GQ * W[:, None] - GX[:, None] * AQ - GQ * AX[:, None] + BXQ
    SQQ = EQQ + GQ * GQ * W[:, None] - 2.0 * GQ * AQ + BQQ
    var_s = _snap(S * S * SXX, S * S * (np.abs(EXX) + GX * GX * W + 2.0 * np.abs(GX * AX) + BXX))
    scale = F * F * np.abs(SXX)[:, None] + 2.0 * np.abs(F * SXQ) + np.abs(SQQ)
    var_f = _snap(F * F * SXX[:, None] - 2.0 * F * SXQ + SQQ, scale)
    return var_s, var_f


def _snap(var, scale):
    """Variances below the rounding error of their expanded sums (a true 0, e.g. once S = 0) are set to 0."""
    return np.where(np.abs(var) <= 64 * np.finfo(float).eps * scale, 0.0, var)
