"""The Cox partial likelihood in numpy: Efron and Breslow ties, strata, (entry, exit] risk sets and case weights.

Everything is computed on the event times: each row is at risk over a contiguous range of its stratum's event
times, so risk-set sums are differences of cumulative sums (``np.bincount`` then ``np.cumsum``), and tied
events are expanded into Efron's successively reduced risk sets (one entry per event). No loop runs over rows
or event times; the cost of one Newton step is O(n p^2).

The formulas follow R's ``survival`` (``agfit4.c``, ``agscore3.c``, ``agsurv``, ``cox.zph``), which this module
reproduces to rounding error (tests/models/test_coxph.py).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["RiskSets", "newton_raphson"]


class RiskSets:
    """The risk-set structure of a data set: which event times each row is at risk at.

    Parameters
    ----------
    entry, exit : array (n,)
        Risk interval (entry, exit]; an entry of 0 means "observed from the origin" (at risk at time 0 too).
    event : array (n,) of bool
    strata : array (n,) of int, optional
        Stratum codes; every stratum has its own baseline hazard.
    weights : array (n,), optional
        Case weights.
    ties : {"efron", "breslow"}
    """

    def __init__(self, entry, exit, event, strata=None, weights=None, ties="efron"):
        entry = np.asarray(entry, float)
        exit_ = np.asarray(exit, float)
        event = np.asarray(event, bool)
        n = len(exit_)
        strata = np.zeros(n, np.int64) if strata is None else np.asarray(strata, np.int64)
        self.w = np.ones(n) if weights is None else np.asarray(weights, float)
        self.event = event
        self.n = n
        entry = np.where(entry == 0, -np.inf, entry)  # entry 0: at risk from before the origin
        start = np.zeros(n, np.int64)
        end = np.zeros(n, np.int64)
        kdeath = np.zeros(n, np.int64)
        times, tstrata, offset = [], [], 0
        for s in np.unique(strata):
            rows = np.flatnonzero(strata == s)
            t_s = np.unique(exit_[rows][event[rows]])
            start[rows] = offset + np.searchsorted(t_s, entry[rows], side="right")
            end[rows] = offset + np.searchsorted(t_s, exit_[rows], side="right")
            kdeath[rows] = offset + np.searchsorted(t_s, exit_[rows], side="left")
            times.append(t_s)
            tstrata.append(np.full(len(t_s), s))
            offset += len(t_s)
        self.K = offset
        self.times = np.concatenate(times) if times else np.zeros(0)
        self.time_strata = np.concatenate(tstrata) if tstrata else np.zeros(0, np.int64)
        self.start, self.end = start, end
        self.dead = np.flatnonzero(event)
        self.kd = kdeath[self.dead]  # event-time index of each event
        self.ndead = np.bincount(self.kd, minlength=self.K)
        self.deadwt = np.bincount(self.kd, weights=self.w[self.dead], minlength=self.K)
        # Efron's expansion: one entry per event, l = 0..d_k-1 at event time k
        self.kk = np.repeat(np.arange(self.K), self.ndead)
        first = np.cumsum(self.ndead) - self.ndead
        ell = np.arange(len(self.kk)) - first[self.kk]
        self.frac = ell / self.ndead[self.kk] if ties == "efron" else np.zeros(len(self.kk))
        self.meanwt = (self.deadwt / np.maximum(self.ndead, 1))[self.kk]

    # ------------------------------------------------------------------ risk-set sums
    def at_risk_sum(self, values):
        """For each event time k: the sum of ``values`` over the rows at risk at k (start <= k < end)."""
        K = self.K
        if values.ndim == 1:
            a = np.bincount(self.end, weights=values, minlength=K + 1) - np.bincount(
                self.start, weights=values, minlength=K + 1)
            return np.cumsum(a[::-1])[::-1][1:]
        return np.column_stack([self.at_risk_sum(values[:, j]) for j in range(values.shape[1])])

    def dead_sum(self, values):
        vals = values[self.dead]
        if vals.ndim == 1:
            return np.bincount(self.kd, weights=vals, minlength=self.K)
        return np.column_stack([np.bincount(self.kd, weights=vals[:, j], minlength=self.K)
                                for j in range(vals.shape[1])])

    def _pairs(self, x, wr, which):
        p = x.shape[1]
        out = np.zeros((self.K, p, p))
        if which == "risk":
            summer = self.at_risk_sum
        else:  # only the events' rows matter
            x, wr = x[self.dead], wr[self.dead]

            def summer(values):
                return np.bincount(self.kd, weights=values, minlength=self.K)
        for i in range(p):
            for j in range(i + 1):
                v = summer(wr * x[:, i] * x[:, j])
                out[:, i, j] = v
                out[:, j, i] = v
        return out

    # ------------------------------------------------------------------ the likelihood
    def _moment(self, values):
        """Sum over each event time's Efron entries (l = 0..d-1) of ``values`` (one value per entry)."""
        return np.bincount(self.kk, weights=values, minlength=self.K)

    def terms(self, x, beta, *, need_info=True):
        """Partial log-likelihood, score and information at ``beta``, plus the per-event-time sums.

        Efron's reduced risk sets differ only by a multiple of the tied events' sums, so every quantity is a
        per-event-time combination of the risk-set sums ``s0, s1`` and the tied events' sums ``d0, d1``
        with scalar moments of the denominators ``d2`` (one per event): no (events x p) array is formed.
        Risks are ``exp(eta - c)`` with ``c = max(eta)``.
        """
        eta = x @ beta
        c = float(eta.max()) if len(eta) else 0.0
        r = np.exp(eta - c)
        wr = self.w * r
        s0 = self.at_risk_sum(wr)
        s1 = self.at_risk_sum(wr[:, None] * x)
        d0 = self.dead_sum(wr)
        d1 = self.dead_sum(wr[:, None] * x)
        kk, frac, mw = self.kk, self.frac, self.meanwt
        d2 = s0[kk] - frac * d0[kk]
        wd = self.w[self.dead]
        loglik = float(wd @ eta[self.dead] - mw @ (np.log(d2) + c))
        a1, f1 = self._moment(mw / d2), self._moment(mw * frac / d2)
        score = wd @ x[self.dead] - (a1 @ s1 - f1 @ d1)
        out = {"loglik": loglik, "score": score, "d2": d2, "s0": s0, "s1": s1, "d0": d0, "d1": d1, "c": c, "r": r,
               "eta": eta, "wr": wr}
        if need_info:
            out["info"] = self.information(x, wr, out)
        return out

    def information(self, x, wr, t, q=None):
        """The information matrix; with ``q`` (one weight per event), the q-weighted sum of its event terms."""
        frac, d2, s1, d1 = self.frac, t["d2"], t["s1"], t["d1"]
        m = self.meanwt if q is None else self.meanwt * q
        if not hasattr(self, "_s2_cache") or self._s2_cache[0] is not wr:
            self._s2_cache = (wr, self._pairs(x, wr, "risk"), self._pairs(x, wr, "dead"))
        _, s2, dd2 = self._s2_cache
        a1, f1 = self._moment(m / d2), self._moment(m * frac / d2)
        a2, f2, ff2 = self._moment(m / d2 ** 2), self._moment(m * frac / d2 ** 2), self._moment(m * frac ** 2 / d2 ** 2)
        cross = (s1 * f2[:, None]).T @ d1
        return (np.einsum("k,kij->ij", a1, s2) - np.einsum("k,kij->ij", f1, dd2)
                - (s1 * a2[:, None]).T @ s1 + cross + cross.T - (d1 * ff2[:, None]).T @ d1)

    def hazard_terms(self, t):
        """Per event time: the baseline hazard increment, its variance term and the x-weighted increment.

        For ``risk = exp(eta - c)``: ``H[k] = sum_l mw / d2_l``, ``V[k] = sum_l mw / d2_l^2``,
        ``G[k] = sum_l mw xbar_l / d2_l`` (R's ``agsurv`` with ``survtype = vartype = 3`` for Efron).
        """
        mw, frac, d2 = self.meanwt, self.frac, t["d2"]
        h = self._moment(mw / d2)
        v = self._moment(mw / d2 ** 2)
        g = t["s1"] * v[:, None] - t["d1"] * self._moment(mw * frac / d2 ** 2)[:, None]
        return h, v, g

    def _xbar_avg(self, t):
        """Per event time: the mean over l of Efron's risk-set means (the Schoenfeld centring)."""
        d2, frac = t["d2"], self.frac
        nd = np.maximum(self.ndead, 1)[:, None]
        return (t["s1"] * self._moment(1 / d2)[:, None] - t["d1"] * self._moment(frac / d2)[:, None]) / nd

    def score_residuals(self, x, t):
        """Score residuals per row (unweighted), as R's ``residuals(fit, type = "score")``."""
        mw, frac, d2, r = self.meanwt, self.frac, t["d2"], t["r"]
        p = x.shape[1]
        h1, _, g1 = self.hazard_terms(t)
        hf = self._moment(mw * frac / d2)
        gf = t["s1"] * self._moment(mw * frac / d2 ** 2)[:, None] - t["d1"] * self._moment(
            mw * frac ** 2 / d2 ** 2)[:, None]
        ch = np.concatenate([[0.0], np.cumsum(h1)])
        cg = np.vstack([np.zeros((1, p)), np.cumsum(g1, axis=0)])
        hsum = ch[self.end] - ch[self.start]
        gsum = cg[self.end] - cg[self.start]
        resid = -r[:, None] * (x * hsum[:, None] - gsum)
        xbar_avg = self._xbar_avg(t)
        dd, k = self.dead, self.kd
        resid[dd] += x[dd] - xbar_avg[k] + r[dd, None] * (x[dd] * hf[k, None] - gf[k])
        return resid

    def schoenfeld(self, x, t):
        """Schoenfeld residuals per event (in the order of ``self.dead``): x minus Efron's averaged mean."""
        return x[self.dead] - self._xbar_avg(t)[self.kd]


def newton_raphson(rs: RiskSets, x, *, penalizer=0.0, init=None, max_iter=100, tol=1e-12):
    """Maximise the (optionally L2-penalised) partial likelihood by Newton-Raphson with step halving.

    Converges when the relative change of the log-likelihood is below ``tol`` (R's ``coxph.control(eps)``)
    and the last step is below ``sqrt(tol)``. Returns ``(beta, terms_at_beta, n_iter, converged)``.
    """
    p = x.shape[1]
    beta = np.zeros(p) if init is None else np.asarray(init, float).copy()

    def evaluate(b):
        t = rs.terms(x, b)
        if penalizer:
            t["loglik"] -= 0.5 * penalizer * float(b @ b)
            t["score"] = t["score"] - penalizer * b
            t["info"] = t["info"] + penalizer * np.eye(p)
        return t

    t = evaluate(beta)
    converged = False
    n_iter = 0
    halvings = 0
    for iteration in range(1, max_iter + 1):
        n_iter = iteration
        try:
            step = np.linalg.solve(t["info"], t["score"])
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(t["info"], t["score"], rcond=None)[0]
        new_beta = beta + step
        t_new = evaluate(new_beta)
        while not np.isfinite(t_new["loglik"]) or t_new["loglik"] < t["loglik"] - 1e-12 * abs(t["loglik"]):
            halvings += 1
            if halvings > 60:
                break
            new_beta = (new_beta + beta) / 2
            t_new = evaluate(new_beta)
        rel = abs(1 - t["loglik"] / t_new["loglik"]) if t_new["loglik"] != 0 else abs(t_new["loglik"] - t["loglik"])
        small = np.max(np.abs(new_beta - beta)) < np.sqrt(tol) * (1 + np.max(np.abs(new_beta)))
        beta, t = new_beta, t_new
        if rel < tol and small:
            converged = True
            break
    if not converged:
        warnings.warn("The Cox partial likelihood did not converge; a coefficient may be infinite (a covariate "
                      "level with no events, or complete separation).", RuntimeWarning, stacklevel=2)
    return beta, t, n_iter, converged


def concordance(eta, rs: RiskSets):
    """Harrell's concordance of R's ``concordance(coxph_fit)``: pairs (event, at risk at its time and not tied).

    Counts, over events i and rows j at risk at i's event time (same stratum, not an event at that time),
    the weight ``w_i w_j`` of pairs with ``eta_i > eta_j`` (concordant), ``<`` (discordant) and ``==``
    (tied on the predictor). Returns ``(concordance, concordant, discordant, tied_x)``.
    """
    w = rs.w
    dead = rs.dead
    qk, qv = rs.kd, eta[dead]
    if rs.K * rs.n <= 3_000_000_000:  # few event times: sweep over them (one cumulative sum each)
        less, leq = _sweep(eta, rs)
    else:  # many event times: a merge-sort tree (O(n log^2 n), independent of the number of times)
        a_less, a_leq = _dominance(rs.start, eta, w, qk, qv)  # rows at risk at k: start <= k minus end <= k
        b_less, b_leq = _dominance(rs.end, eta, w, qk, qv)
        less, leq = a_less - b_less, a_leq - b_leq
    total = rs.at_risk_sum(w)[qk]
    # remove the events tied in time (kd == k)
    wd, ed = w[dead], eta[dead]
    t_less, t_leq = _tied_in_time(rs.kd, ed, wd)
    less -= t_less
    leq -= t_leq
    total -= rs.deadwt[qk]
    conc = float(wd @ less)
    tied = float(wd @ (leq - less))
    disc = float(wd @ (total - leq))
    return (conc + tied / 2) / (conc + disc + tied), conc, disc, tied


def _tied_in_time(kd, eta, w):
    """Per event: the weight of events at the same time with eta below / not above its own."""
    o = np.lexsort((eta, kd))
    k_o, e_o, w_o = kd[o], eta[o], w[o]
    cw = np.concatenate([[0.0], np.cumsum(w_o)])
    n = len(o)
    new_group = np.concatenate([[True], k_o[1:] != k_o[:-1]])
    new_run = new_group | np.concatenate([[True], e_o[1:] != e_o[:-1]])
    idx = np.arange(n)
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))
    run_end = np.empty(n, np.int64)  # one past the last index of each run
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], n)
    run_end[starts] = ends
    run_end = run_end[run_start]
    less = np.empty(n)
    leq = np.empty(n)
    less[o] = cw[run_start] - cw[group_start]
    leq[o] = cw[run_end] - cw[group_start]
    return less, leq


def _sweep(eta, rs: RiskSets):
    """Per event (order of ``rs.dead``): the weight at risk at its time with eta below / not above its own."""
    order = np.argsort(eta, kind="stable")
    eta_sorted = eta[order]
    rank = np.empty(rs.n, np.int64)
    rank[order] = np.arange(rs.n)
    new_run = np.concatenate([[True], eta_sorted[1:] != eta_sorted[:-1]])
    starts = np.flatnonzero(new_run)
    run_id = np.cumsum(new_run) - 1
    ends = np.append(starts[1:], rs.n)
    pos_less = starts[run_id][rank[rs.dead]]  # rows with eta below the event's: those before its run
    pos_leq = ends[run_id][rank[rs.dead]]
    by_start = np.argsort(rs.start, kind="stable")
    by_end = np.argsort(rs.end, kind="stable")
    dead_order = np.argsort(rs.kd, kind="stable")

    def cuts(keys):
        return np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=rs.K + 1))])

    cut_start, cut_end, cut_dead = cuts(rs.start), cuts(rs.end), cuts(rs.kd)
    qv = eta[rs.dead]
    at_risk = np.zeros(rs.n + 1)
    less = np.zeros(len(qv))
    leq = np.zeros(len(qv))
    for k in range(rs.K):
        enter = by_start[cut_start[k]:cut_start[k + 1]]
        leave = by_end[cut_end[k]:cut_end[k + 1]]
        at_risk[rank[enter] + 1] += rs.w[enter]
        at_risk[rank[leave] + 1] -= rs.w[leave]
        q = dead_order[cut_dead[k]:cut_dead[k + 1]]
        if len(q):
            c = np.cumsum(at_risk)
            less[q] = c[pos_less[q]]
            leq[q] = c[pos_leq[q]]
    return less, leq


def _dominance(pt, pv, pw, qt, qv):
    """For each query (qt, qv): the sums of ``pw`` over points with ``pt <= qt`` and ``pv < qv``, and with
    ``pt <= qt`` and ``pv <= qv``. A merge-sort tree over the value order, vectorised level by level."""
    n = len(pt)
    order = np.argsort(pv, kind="stable")
    pv_sorted = pv[order]
    pt_o = np.asarray(pt, np.int64)[order]
    pw_o = pw[order]
    qt = np.asarray(qt, np.int64)
    span = int(max(pt_o.max(initial=0), qt.max(initial=0))) + 2
    # each query is the prefix [0, pos) of the value order
    poss = [np.searchsorted(pv_sorted, qv, side="left"), np.searchsorted(pv_sorted, qv, side="right")]
    outs = [np.zeros(len(qv)), np.zeros(len(qv))]
    rank = np.arange(n)
    level = 0
    while (1 << level) <= n:
        size = 1 << level
        if size <= 8:  # small blocks: compare the block's points directly (no sort)
            for pos, out in zip(poss, outs, strict=True):
                sel = np.flatnonzero((pos >> level) & 1)
                if len(sel):
                    first = ((pos[sel] >> level) - 1) * size
                    idx = first[:, None] + np.arange(size)
                    out[sel] += np.where(pt_o[idx] <= qt[sel, None], pw_o[idx], 0.0).sum(axis=1)
            level += 1
            continue
        n_blocks = (n >> level) + 1
        if n_blocks * span <= 8_000_000:  # few blocks: a dense table of cumulative weights per (block, time)
            table = np.bincount((rank >> level) * span + pt_o, weights=pw_o, minlength=n_blocks * span)
            table = np.cumsum(table.reshape(n_blocks, span), axis=1)
            for pos, out in zip(poss, outs, strict=True):
                sel = np.flatnonzero((pos >> level) & 1)
                if len(sel):
                    out[sel] += table[(pos[sel] >> level) - 1, np.minimum(qt[sel], span - 1)]
            level += 1
            continue
        keys = (rank >> level) * span + pt_o
        o = np.argsort(keys, kind="stable")
        ks = keys[o]
        cw = np.concatenate([[0.0], np.cumsum(pw_o[o])])
        for pos, out in zip(poss, outs, strict=True):
            sel = np.flatnonzero((pos >> level) & 1)
            if len(sel):
                qb = (pos[sel] >> level) - 1  # the block just below the prefix end at this level
                lo = qb * size  # blocks stay contiguous when sorted by (block, time)
                hi = np.searchsorted(ks, qb * span + qt[sel], side="right")
                out[sel] += cw[hi] - cw[lo]
        level += 1
    return outs[0], outs[1]
