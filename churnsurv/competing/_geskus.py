"""Fine-Gray regression with the time-dependent weights of Geskus (2011): left-truncated (entry, exit] data.

Private to :mod:`churnsurv.competing.finegray`. :class:`_Geskus` holds one data set sorted by exit time and
evaluates what ``survival::finegray`` followed by ``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weights = fgwt,
id = id)`` computes, without building finegray's expanded data: a customer who defected for a competing cause
at :math:`s` stays in the risk set at every later time :math:`t` with weight :math:`W(t-)/W(s-)`, where
:math:`W = G H` is the product of the censoring survival :math:`G` (Kaplan-Meier, with delayed entry) and the
truncation distribution :math:`H` (the reverse-time Kaplan-Meier of the entry times). All risk-set sums are
prefix sums over the exit-sorted and the entry-sorted rows, so nothing of size (customers x times) is built
except, in blocks, for the prediction variance.

Conventions (those of survival 3.5-3's ``finegray``, checked against it in
``tests/competing/test_against_r_finegray.py``):

* a row is at risk at :math:`t` when entry < t <= exit (entry 0 counts as before the origin);
* :math:`G(t-) = \\prod_{c < t} \\{1 - n^c(c) / Y^c(c)\\}` over censoring times :math:`c`, where
  :math:`Y^c(c)` counts the rows at risk at :math:`c` *except* those defecting at :math:`c` (finegray moves
  events just before censorings at the same time; ``cmprsk::crr`` counts them as at risk instead);
* :math:`H(t-) = \\prod_{e \\ge t} \\{1 - d^e(e) / Y^e(e)\\}` over entry times :math:`e`, with
  :math:`d^e(e)` the rows entering at :math:`e` and :math:`Y^e(e) = \\#\\{\\text{entry} \\le e < \\text{exit}\\}`;
  it is used only when some entry is later than the first exit (finegray's ``delay``), else :math:`H = 1`.
"""

from __future__ import annotations

import numpy as np


def _rev_cumsum(z):
    """``out[j] = sum_{i >= j} z[i]`` with a zero row appended (so ``out[n] = 0``)."""
    return np.concatenate([np.cumsum(z[::-1], axis=0)[::-1], np.zeros((1,) + z.shape[1:])])


def _cumsum0(z):
    """``out[j] = sum_{i < j} z[i]``."""
    return np.concatenate([np.zeros((1,) + z.shape[1:]), np.cumsum(z, axis=0)])


def geskus_weight_function(entry, exit, status):
    """The weight function :math:`W(t-) = G(t-) H(t-)` of ``survival::finegray``.

    Parameters
    ----------
    entry, exit : numpy.ndarray
        Entry and exit times of the rows.
    status : numpy.ndarray
        0 censored, 1 cause of interest, 2 competing cause.

    Returns
    -------
    callable
        ``W(t)`` giving :math:`W(t-)` for an array of times.
    """
    entry, exit, status = (np.asarray(a) for a in (entry, exit, status))
    n = exit.size
    exit_sorted = np.sort(exit)
    cens = status == 0
    c, n_cens = np.unique(exit[cens], return_counts=True)
    # at risk of censoring at c: entered before c (or at 0), and exit > c, or censored at c
    pos_entry = np.sort(entry[entry > 0])
    later = pos_entry.size - np.searchsorted(pos_entry, np.maximum(c, np.finfo(float).tiny), side="left")
    y_c = (n - np.searchsorted(exit_sorted, c, side="right")) + n_cens - later
    g_after = np.cumprod(1.0 - n_cens / y_c)
    delay = bool(np.any(entry > exit.min()))
    if delay:
        e, d_e = np.unique(entry, return_counts=True)
        entry_sorted = np.sort(entry)
        y_e = np.searchsorted(entry_sorted, e, side="right") - np.searchsorted(exit_sorted, e, side="right")
        h_from = np.concatenate([np.cumprod((1.0 - d_e / y_e)[::-1])[::-1], [1.0]])  # prod over e_l, l >= j

    def weight(t):
        t = np.asarray(t, dtype=float)
        j = np.searchsorted(c, t, side="left")  # censoring times < t
        g = np.where(j > 0, g_after[np.maximum(j - 1, 0)] if c.size else 1.0, 1.0)
        if delay:
            g = g * h_from[np.searchsorted(e, t, side="left")]  # entries >= t
        return g

    weight.delay = delay
    return weight


class _Geskus:
    """Sorted data and the sums of the weighted (start, stop] Cox fit behind ``finegray`` + ``coxph``.

    ``ties`` is "efron" (``coxph``'s default) or "breslow". Every row has case weight 1; the deaths at a time
    are the rows defecting of the cause then (weight 1), so Efron's mean death weight is 1.
    """

    def __init__(self, entry, exit, status, x, ties="efron"):
        order = np.argsort(exit, kind="stable")
        self.t = np.asarray(exit, dtype=float)[order]
        self.entry = np.asarray(entry, dtype=float)[order]
        self.ici = np.asarray(status)[order]
        self.x = x[order]
        self.n, self.p = self.x.shape
        self.ties = ties
        self.weight_function = geskus_weight_function(self.entry, self.t, self.ici)
        t, ici = self.t, self.ici
        self.tau, self.d = np.unique(t[ici == 1], return_counts=True)
        self.first = np.searchsorted(t, self.tau, side="left")  # rows with exit >= tau_m start here
        self.pos = np.searchsorted(self.tau, t, side="right")  # cause times <= exit_i
        # rows with entry >= tau (entry > 0) have not entered yet: subtracted with entry-sorted prefix sums
        self.late = np.where(self.entry > 0, self.entry, -np.inf)
        self.late_order = np.argsort(self.late, kind="stable")
        self.late_first = np.searchsorted(self.late[self.late_order], self.tau, side="left")
        self.enter_pos = np.searchsorted(self.tau, self.late, side="right")  # cause times <= entry_i
        self.w_tau = self.weight_function(self.tau)
        comp = ici == 2
        w_own = self.weight_function(t)
        with np.errstate(divide="ignore"):
            self.w_other = np.where(comp, 1.0 / np.where(comp, w_own, 1.0), 0.0)
        if not np.all(np.isfinite(self.w_other)):
            raise FloatingPointError("zero Geskus weight at a competing exit")
        self.fail_x = self.x[ici == 1].sum(axis=0)
        # Efron steps: one per death, k = 0..d_m - 1, fraction k / d_m
        self.step_m = np.repeat(np.arange(self.tau.size), self.d)
        k = np.arange(self.step_m.size) - np.repeat(np.cumsum(self.d) - self.d, self.d)
        self.step_f = k / self.d[self.step_m] if ties == "efron" else np.zeros(self.step_m.size)
        self.fail_rows = np.flatnonzero(ici == 1)

    # ---- risk-set sums
    def risk_sum(self, z):
        """``sum_i w_i(tau_m) z_i`` at each cause time (rows at risk + competing rows, weighted)."""
        z = z.reshape(self.n, -1)
        out = _rev_cumsum(z)[self.first] - _rev_cumsum(z[self.late_order])[self.late_first]
        out = out + self.w_tau[:, None] * _cumsum0(z * self.w_other[:, None])[self.first]
        return out

    def death_sum(self, z):
        """``sum`` of ``z`` over the rows defecting of the cause at each cause time."""
        z = z.reshape(self.n, -1)
        out = np.zeros((self.tau.size, z.shape[1]))
        np.add.at(out, self.pos[self.fail_rows] - 1, z[self.fail_rows])
        return out

    def _steps(self, b):
        r = np.exp(self.x @ b)
        rx = r[:, None] * self.x
        rxx = (rx[:, :, None] * self.x[:, None, :]).reshape(self.n, -1)
        zz = np.column_stack([r, rx, rxx])
        s, e = self.risk_sum(zz), self.death_sum(zz)
        m, f = self.step_m, self.step_f[:, None]
        q = s[m] - f * e[m]  # (steps, 1 + p + p^2)
        den = q[:, 0]
        xbar = q[:, 1:1 + self.p] / den[:, None]
        return r, den, xbar, q[:, 1 + self.p:].reshape(-1, self.p, self.p) / den[:, None, None]

    def loglik(self, b):
        _, den, _, _ = self._steps(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(self.fail_x @ b - np.log(den).sum())

    def derivatives(self, b):
        """Log partial likelihood (Efron or Breslow), score and information at ``b``."""
        _, den, xbar, s2 = self._steps(b)
        loglik = float(self.fail_x @ b - np.log(den).sum())
        score = self.fail_x - xbar.sum(axis=0)
        info = (s2 - xbar[:, :, None] * xbar[:, None, :]).sum(axis=0)
        return loglik, score, (info + info.T) / 2

    def _per_time(self, b):
        """Per cause time: the hazard jump sum_k 1/D_k, sum_k xbar_k/D_k, the Efron pieces and mean xbar."""
        r, den, xbar, _ = self._steps(b)
        nt, m, f = self.tau.size, self.step_m, self.step_f
        hz = np.bincount(m, 1.0 / den, nt)
        xh = np.zeros((nt, self.p))
        np.add.at(xh, m, xbar / den[:, None])
        hzf = np.bincount(m, f / den, nt)
        xhf = np.zeros((nt, self.p))
        np.add.at(xhf, m, f[:, None] * xbar / den[:, None])
        xb = np.zeros((nt, self.p))
        np.add.at(xb, m, xbar)
        hz2 = np.bincount(m, 1.0 / den ** 2, nt)
        hzf2 = np.bincount(m, f / den ** 2, nt)
        return dict(r=r, hz=hz, xh=xh, hzf=hzf, xhf=xhf, xb=xb / self.d[:, None], hz2=hz2, hzf2=hzf2)

    def hazard_jumps(self, b):
        """Baseline hazard jumps at the cause times (centred covariates) and their derivative in -b."""
        pt = self._per_time(b)
        return pt["hz"], pt["xh"]

    def _window(self, z):
        """``sum_m w_i(tau_m) z_m`` for each row: tau in (entry_i, exit_i] with weight 1, then the competing
        rows' tail tau > exit_i with weight W(tau-)/W(exit_i-)."""
        c = _cumsum0(z)
        own = c[self.pos] - c[np.minimum(self.enter_pos, self.pos)]
        cw = _cumsum0(self.w_tau.reshape(-1, *([1] * (z.ndim - 1))) * z)
        tail = cw[-1] - cw[self.pos]
        return own + self.w_other.reshape(-1, *([1] * (z.ndim - 1))) * tail

    def score_influence(self, b):
        """Score residual of each customer, summed over its expanded rows (``coxph``'s dfbeta before I^-1)."""
        pt = self._per_time(b)
        r, x = pt["r"], self.x
        u = -r[:, None] * (x * self._window(pt["hz"])[:, None] - self._window(pt["xh"]))
        fr = self.fail_rows
        mf = self.pos[fr] - 1
        u[fr] += x[fr] - pt["xb"][mf] + r[fr][:, None] * (x[fr] * pt["hzf"][mf][:, None] - pt["xhf"][mf])
        return u

    def hazard_influence_moments(self, b, infl_b, block=20000):
        """``sum_i a_i(tau_k)^2`` and ``sum_i a_i(tau_k) B_i``: a_i the influence of customer i on the baseline
        cumulative hazard at tau_k for fixed b (weights W treated as known), B_i its influence on b."""
        pt = self._per_time(b)
        r = pt["r"]
        nt = self.tau.size
        sa2, sab = np.zeros(nt), np.zeros((nt, self.p))
        rows = np.arange(self.n)
        for lo in range(0, self.n, block):
            i = rows[lo:lo + block]
            m = np.arange(nt)[None, :]
            at_risk = (m < self.pos[i, None]) & (m >= np.minimum(self.enter_pos[i, None], self.pos[i, None]))
            w = np.where(at_risk, 1.0, np.where(m >= self.pos[i, None], self.w_other[i, None] * self.w_tau[None], 0.0))
            a = -w * r[i, None] * pt["hz2"][None]
            dies = (self.ici[i] == 1)
            mi = self.pos[i[dies]] - 1
            a[np.flatnonzero(dies), mi] += pt["hz"][mi] / self.d[mi] + r[i[dies]] * pt["hzf2"][mi]
            a = np.cumsum(a, axis=1)
            sa2 += (a * a).sum(axis=0)
            sab += a.T @ infl_b[i]
        return sa2, sab
