"""The Aalen-Johansen kernel for a general multi-state process, with R ``survfit``'s infinitesimal jackknife.

Private: :mod:`churnsurv.states.multistate` validates the records and calls :func:`aalen_johansen` once per
segment. The arithmetic follows R ``survival`` (``survfitCI`` / C ``survfitci``, survival >= 3.0), step by
step, so that the state-occupation probabilities and their standard errors agree to rounding error:

* the output times are the distinct exit times (transitions and censorings);
* the risk set at :math:`t` holds the rows with ``entry < t <= exit`` (left truncation by delayed entry);
* :math:`p(0)` is the (weighted) distribution of the states of the rows at risk at the first transition time;
* :math:`p(t) = p(t-)\\,(I + d\\hat A(t))` with :math:`d\\hat A_{jk} = d_{jk}/n_j` (Nelson-Aalen increments);
* the influence :math:`U_i(t) = \\partial p(t)/\\partial w_i` obeys
  :math:`U_i(t) = U_i(t-)(I + d\\hat A) - Y_{ij} p_j(t-) d\\hat A_{j\\cdot}/n_j + dN_{ijk} p_j(t-)(e_k - e_j)/n_j`,
  and the variance is :math:`\\sum_i (w_i U_i(t))^2` summed per customer.
"""

from __future__ import annotations

import numpy as np


def merge_continuations(ids, entry, exit_, frm, to):
    """Merge a censored row with the next row of the same customer that starts at its exit, in the same state.

    R ``survfitCI`` does the same (a split of a stay, e.g. at a segment change, is not a censoring); returns the
    positions kept and the (possibly earlier) entry of each kept row.
    """
    n = len(ids)
    order = np.lexsort((entry, ids))
    i_s, e_s, x_s, f_s, t_s = ids[order], entry[order], exit_[order], frm[order], to[order]
    cont = np.zeros(n, dtype=bool)  # row r continues into row r + 1
    if n > 1:
        cont[:-1] = (i_s[:-1] == i_s[1:]) & (t_s[:-1] < 0) & (x_s[:-1] == e_s[1:]) & (f_s[:-1] == f_s[1:])
    if not cont.any():
        return np.arange(n), entry.copy()
    chain = np.cumsum(np.r_[True, ~cont[:-1]]) - 1
    first_entry = e_s[np.r_[0, np.flatnonzero(~cont[:-1]) + 1]]
    keep_sorted = ~cont
    new_entry = first_entry[chain[keep_sorted]]
    kept = order[keep_sorted]
    out_entry = entry.copy()
    out_entry[kept] = new_entry
    back = np.argsort(kept)
    return kept[back], out_entry[kept[back]]


def aalen_johansen(entry, exit_, frm, to, idc, w, nstate, *, horizons=(), p0=None, variance=True):
    """State occupation, cumulative transition hazards and their IJ variances for one group.

    Parameters
    ----------
    entry, exit_ : float arrays
        Interval (entry, exit] of each row.
    frm : int array
        State occupied during the row (0-based).
    to : int array
        State entered at ``exit`` (0-based), -1 when the row is censored.
    idc : int array
        Customer code 0..n_id-1 (influence is summed per customer).
    w : float array
        Case weights.
    nstate : int
    horizons : sequence of float
        Horizons of restricted mean times in state (their influence is accumulated on the way).
    p0 : array, optional
        Initial distribution; default the states of the rows at risk at the first transition time.
    """
    entry = np.asarray(entry, float)
    exit_ = np.asarray(exit_, float)
    n_id = int(idc.max()) + 1 if len(idc) else 0
    times = np.unique(exit_)
    T, S = len(times), nstate
    is_ev = to >= 0
    t0 = exit_[is_ev].min() if is_ev.any() else exit_.max()
    at0 = (entry < t0) & (exit_ >= t0)
    U = np.zeros((n_id, S))
    if p0 is None:
        wsum = w[at0].sum()
        p = np.bincount(frm[at0], weights=w[at0], minlength=S) / wsum
        if variance and np.all(p < 1):
            onehot = np.zeros((int(at0.sum()), S))
            onehot[np.arange(int(at0.sum())), frm[at0]] = 1.0
            U[idc[at0]] = (onehot - p[None, :]) / wsum
    else:
        p = np.asarray(p0, float).copy()
    p0_out = p.copy()
    wid = np.zeros(n_id)
    wid[idc] = w  # weights are constant within a customer (checked upstream)
    sp0 = np.sqrt((U ** 2).sum(axis=0))  # R reports the unweighted initial influence

    order_exit = np.argsort(exit_, kind="stable")
    ex_sorted = exit_[order_exit]
    bounds = np.searchsorted(ex_sorted, times, side="left")
    bounds = np.r_[bounds, len(exit_)]

    pstate = np.empty((T, S))
    var = np.empty((T, S)) if variance else None
    nrisk = np.empty((T, S))
    nevent = np.zeros(T)
    ncensor = np.zeros(T)
    chaz = np.zeros((T, S, S))
    chaz_var = np.zeros((T, S, S))
    ntrans = np.zeros((T, S, S))
    ch = np.zeros((S, S))
    chv = np.zeros((S, S))
    horizons = np.asarray(list(horizons), float)
    rmean = np.zeros((len(horizons), S))
    rinfl = np.zeros((len(horizons), n_id, S)) if variance else None
    prev_t = min(0.0, float(entry.min())) if len(entry) else 0.0
    prev_p = p.copy()
    prev_U = U.copy() if variance and len(horizons) else None

    def accumulate(t_from, t_to, pv, Uv):
        for h, tau in enumerate(horizons):
            lo, hi = max(t_from, prev_origin), min(t_to, tau)
            if hi > lo:
                rmean[h] += pv * (hi - lo)
                if rinfl is not None:
                    rinfl[h] += Uv * (hi - lo)

    prev_origin = prev_t
    for it, t in enumerate(times):
        if len(horizons):
            accumulate(prev_t, t, prev_p, prev_U)
        risk = (entry < t) & (exit_ >= t)
        ws = np.bincount(frm[risk], weights=w[risk], minlength=S)
        nrisk[it] = ws
        rows = order_exit[bounds[it]:bounds[it + 1]]
        ev = rows[to[rows] >= 0]
        nevent[it] = w[ev].sum()
        ncensor[it] = w[rows[to[rows] < 0]].sum()
        if len(ev):
            dmat = np.zeros((S, S))
            np.add.at(dmat, (frm[ev], to[ev]), w[ev])
            ntrans[it] = dmat
            pos = ws > 0
            safe = np.where(pos, ws, 1.0)
            H2 = np.where(pos[:, None], dmat / safe[:, None], 0.0)
            H2[np.diag_indices(S)] = 0.0
            H2[np.diag_indices(S)] = -H2.sum(axis=1)
            H = np.eye(S) + H2
            if variance:
                U = U @ H
                coef = np.where(pos, p / safe, 0.0)  # p_j(t-) / n_j
                rid, rst = idc[risk], frm[risk]
                np.add.at(U, rid, -(coef[rst])[:, None] * H2[rst])
                c_ev = coef[frm[ev]]
                np.add.at(U, (idc[ev], frm[ev]), -c_ev)
                np.add.at(U, (idc[ev], to[ev]), c_ev)
            ch = ch + H2
            off = np.where(pos[:, None], dmat / safe[:, None] ** 2, 0.0)
            chv = chv + off
            p = p @ H
        pstate[it] = p
        chaz[it] = ch
        chaz_var[it] = chv
        if variance:
            var[it] = ((wid[:, None] * U) ** 2).sum(axis=0)
        prev_t, prev_p = t, p.copy()
        if variance and len(horizons):
            prev_U = U.copy()
    if len(horizons):
        accumulate(prev_t, np.inf, prev_p, prev_U)
    out = {"time": times, "pstate": pstate, "var": var, "n_risk": nrisk, "n_event": nevent,
           "n_censor": ncensor, "cumhaz": chaz, "cumhaz_var": chaz_var, "n_trans": ntrans, "p0": p0_out, "sp0": sp0,
           "rmean": rmean, "origin": prev_origin}
    if variance and len(horizons):
        out["rmean_var"] = ((wid[None, :, None] * rinfl) ** 2).sum(axis=1)
    return out
