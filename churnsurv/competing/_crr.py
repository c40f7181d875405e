"""The estimating equation of ``cmprsk::crr``: sorted data, risk-set sums and influence functions.

Private to :mod:`churnsurv.competing.finegray`: :class:`_CRR` holds one data set sorted by time, with its
inverse-probability-of-censoring weights, and evaluates the log partial likelihood, its derivatives, the robust
(influence-function) variance pieces and the baseline subdistribution hazard, as Gray's Fortran routines do.
"""

from __future__ import annotations

import numpy as np

_EPS = np.finfo(float).eps


class _CRR:
    """Sorted data and the sums of ``cmprsk::crr`` (Fortran ``crrf``, ``crrfsv``, ``crrvv``, ``crrfit``).

    All sums over risk sets use prefix sums over the time-sorted subjects: O(n p^2 + D p^2 n_strata)
    per evaluation, D the number of distinct cause times.
    """

    def __init__(self, time, status, x, strata):
        order = np.argsort(time, kind="stable")  # R's order(): ties keep their input order
        self.t = np.asarray(time, dtype=float)[order]
        self.ici = np.asarray(status)[order]  # 1 cause of interest, 2 competing, 0 censored
        self.x = x[order]
        self.grp = np.asarray(strata)[order]
        self.n, self.p = self.x.shape
        self.n_groups = int(self.grp.max()) + 1
        t, ici = self.t, self.ici
        self.tau, self.d = np.unique(t[ici == 1], return_counts=True)
        self.first = np.searchsorted(t, self.tau, side="left")  # subjects with t < tau_m
        self.pos = np.searchsorted(self.tau, t, side="right")  # cause times <= t_i
        self.onehot = self.grp[:, None] == np.arange(self.n_groups)[None, :]
        # G_g(t-) as crr computes it: survfit KM of the censoring in stratum g, read by approx() at
        # t (1 - 100 eps), 1 before the first time, 0 beyond the stratum's last time
        xout = t * (1 - 100 * _EPS)
        gmat = np.empty((self.n_groups, self.n))
        for g in range(self.n_groups):
            tg, cg = t[self.grp == g], ici[self.grp == g] == 0
            u, inv = np.unique(tg, return_inverse=True)
            n_risk = tg.size - np.searchsorted(tg, u, side="left")
            n_cens = np.bincount(inv, weights=cg, minlength=u.size)
            surv = np.cumprod(1.0 - n_cens / n_risk)
            knots = np.concatenate([[min(0.0, u[0]) - 10 * _EPS], u, [u[-1] * (1 + 10 * _EPS)]])
            vals = np.concatenate([[1.0], surv, [0.0]])
            idx = np.clip(np.searchsorted(knots, xout, side="right") - 1, 0, knots.size - 1)
            gmat[g] = vals[idx]
        self.g_tau = gmat[:, self.first]  # (n_groups, D): G_g(tau_m-)
        self.g_own = gmat[self.grp, np.arange(self.n)]  # G_{g_i}(t_i-)
        with np.errstate(divide="ignore"):
            self.w_other = np.where(ici == 2, 1.0 / self.g_own, 0.0)
        self.fail_x = self.x[ici == 1].sum(axis=0)
        # distinct times u: censorings and rows at risk (t >= u) per stratum
        self.u, self.u_first = np.unique(t, return_index=True)  # u_first: rows with t < u
        self.uidx = np.searchsorted(self.u, t)
        self.n_cens = np.zeros((self.u.size, self.n_groups))
        np.add.at(self.n_cens, (self.uidx, self.grp), (ici == 0).astype(float))
        n_all = np.zeros((self.u.size, self.n_groups))
        np.add.at(n_all, (self.uidx, self.grp), 1.0)
        self.y = np.cumsum(n_all[::-1], axis=0)[::-1]

    def _stratum_cumsum(self, z, rows):
        """``sum_{j in stratum g, j < rows} z_j`` for each entry of ``rows`` and each stratum: (len(rows), G, ...)."""
        zg = z.reshape(self.n, 1, -1) * self.onehot[:, :, None]
        out = np.concatenate([np.zeros((1,) + zg.shape[1:]), np.cumsum(zg, axis=0)])[rows]
        return out if z.ndim > 1 else out[..., 0]

    # ---- risk-set sums
    def risk_sum(self, z):
        """Weighted risk-set sums at each cause time: at-risk rows + competing rows with weight G(tau-)/G(t-)."""
        z = z.reshape(self.n, -1)
        rev = np.concatenate([np.cumsum(z[::-1], axis=0)[::-1], np.zeros((1, z.shape[1]))])
        out = rev[self.first]
        zo = z * self.w_other[:, None]
        for g in range(self.n_groups):
            cz = np.concatenate([np.zeros((1, z.shape[1])), np.cumsum(zo * self.onehot[:, g:g + 1], axis=0)])
            out = out + self.g_tau[g][:, None] * cz[self.first]
        return out

    def loglik(self, b):
        lp = self.x @ b
        s0 = self.risk_sum(np.exp(lp))[:, 0]
        with np.errstate(divide="ignore"):
            return float(self.fail_x @ b - self.d @ np.log(s0))

    def derivatives(self, b):
        """Log-likelihood, score, information, ``exp(x b)``, S0 and the weighted means at ``b``.

        The information :math:`\\sum_m d_m \\{S_2/S_0 - \\bar x \\bar x^\\top\\}(t_m)` is computed as
        :math:`\\sum_i c_i e^{x_i b} x_i x_i^\\top - \\sum_m d_m \\bar x_m \\bar x_m^\\top` with
        :math:`c_i = \\sum_m (d_m / S_0(t_m)) w_i(t_m)`, which needs no (n, p, p) array.
        """
        r = np.exp(self.x @ b)
        s = self.risk_sum(np.column_stack([r, r[:, None] * self.x]))
        s0, xbar = s[:, 0], s[:, 1:] / s[:, :1]
        loglik = float(self.fail_x @ b - self.d @ np.log(s0))
        score = self.fail_x - self.d @ xbar
        a = self.d / s0
        a_cum = np.concatenate([[0.0], np.cumsum(a)])
        c_cum = np.concatenate([np.zeros((self.n_groups, 1)), np.cumsum(a[None, :] * self.g_tau, axis=1)], axis=1)
        c = a_cum[self.pos] + self.w_other * (c_cum[self.grp, -1] - c_cum[self.grp, self.pos])
        info = (self.x * (r * c)[:, None]).T @ self.x - (self.d[:, None] * xbar).T @ xbar
        return loglik, score, (info + info.T) / 2, r, s0, xbar

    def hazard_jumps(self, b):
        """Breslow jumps ``d_m / S0(tau_m)`` of the baseline (centred covariates) and ``d_m xbar_m / S0(tau_m)``,
        the derivative of the jumps in ``-b``."""
        _, _, _, _, s0, xbar = self.derivatives(b)
        a = self.d / s0
        return a, a[:, None] * xbar

    # ---- crrvv: influence of each subject on the score (eta_i + psi_i)
    def score_influence(self, b):
        _, _, _, r, s0, xbar = self.derivatives(b)
        x, ici, pos, ng = self.x, self.ici, self.pos, self.n_groups
        a = self.d / s0
        a_cum = np.concatenate([[0.0], np.cumsum(a)])
        b_cum = np.concatenate([np.zeros((1, self.p)), np.cumsum(a[:, None] * xbar, axis=0)])
        eta = -r[:, None] * (x * a_cum[pos][:, None] - b_cum[pos])
        fail = ici == 1
        eta[fail] += x[fail] - xbar[pos[fail] - 1]
        # competing rows stay in the risk set after t_i with weight G(tau-)/G(t_i-)
        ag = a[None, :] * self.g_tau  # (G, D)
        c_cum = np.concatenate([np.zeros((ng, 1)), np.cumsum(ag, axis=1)], axis=1)
        d_cum = np.concatenate([np.zeros((ng, 1, self.p)), np.cumsum(ag[:, :, None] * xbar[None], axis=1)], axis=1)
        c_i = c_cum[self.grp, -1] - c_cum[self.grp, pos]
        d_i = d_cum[self.grp, -1] - d_cum[self.grp, pos]
        eta -= (r * self.w_other)[:, None] * (x * c_i[:, None] - d_i)
        # psi: the IPCW term from estimating G. As crr 2.2-11 does, q_g(u) for censoring stratum g sums
        # over the cause events of stratum g at times >= u and the competing rows of stratum g before u.
        ro = r * self.w_other
        e0 = self._stratum_cumsum(ro, self.u_first)  # (U, G)
        e1 = self._stratum_cumsum(ro[:, None] * x, self.u_first)  # (U, G, p)
        d_g = np.zeros((self.tau.size, ng))  # cause events per (time, stratum)
        np.add.at(d_g, (pos[fail] - 1, self.grp[fail]), 1.0)
        ag_own = (d_g / s0[:, None]).T * self.g_tau  # (G, D)
        cg_cum = np.concatenate([np.zeros((ng, 1)), np.cumsum(ag_own, axis=1)], axis=1)
        dg_cum = np.concatenate([np.zeros((ng, 1, self.p)), np.cumsum(ag_own[:, :, None] * xbar[None], axis=1)],
                                axis=1)
        ge = np.searchsorted(self.tau, self.u, side="left")  # cause times < u
        p_g = (cg_cum[:, -1][:, None] - cg_cum[:, ge]).T  # (U, G): sum over tau >= u
        q_g = np.moveaxis(dg_cum[:, -1][:, None, :] - dg_cum[:, ge], 0, 1)  # (U, G, p)
        q = e1 * p_g[:, :, None] - e0[:, :, None] * q_g  # (U, G, p)
        uidx, grp, y, n_cens = self.uidx, self.grp, self.y, self.n_cens
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(n_cens[:, :, None] > 0, n_cens[:, :, None] * q / y[:, :, None] ** 2, 0.0)
        psi = -np.cumsum(inc, axis=0)[uidx, grp]
        cens = ici == 0
        psi[cens] += q[uidx[cens], grp[cens]] / y[uidx[cens], grp[cens]][:, None]
        return eta + psi

    # ---- influence of each subject on the Breslow cumulative hazard (for prediction intervals)
    def _hazard_pieces(self, b):
        """Per-subject and per-time pieces of ``A_i(tau_k)``, the influence of row i on the Breslow estimate
        at ``tau_k`` for fixed b: its martingale part plus the term from estimating G (per censoring stratum).

        For :math:`\\tau_k \\le t_i` (row still at risk), :math:`A_i = \\delta_{ik}/S_0(\\tau_k)
        - e^{x_i b} K_k - M_{g_i k}`; for :math:`\\tau_k > t_i`, :math:`A_i = \\alpha_i + \\beta_i L_{g_i k}`.
        """
        _, _, _, r, s0, _ = self.derivatives(b)
        ici, pos, grp, ng = self.ici, self.pos, self.grp, self.n_groups
        u, uidx, y, n_cens = self.u, self.uidx, self.y, self.n_cens
        k_jump = self.d / s0 ** 2
        k_cum = np.concatenate([[0.0], np.cumsum(k_jump)])  # K at "number of cause times <= t"
        l_cum = np.concatenate([np.zeros((ng, 1)), np.cumsum(self.g_tau * k_jump[None], axis=1)], axis=1)
        ro = r * self.w_other
        # the weight of competing row j at tau involves the censorings in [t_j, tau): rows with t_j <= u
        e0 = self._stratum_cumsum(ro, np.searchsorted(self.t, u, side="right"))  # (U, G)
        with np.errstate(divide="ignore", invalid="ignore"):
            base = np.where(n_cens > 0, n_cens * e0 / y ** 2, 0.0)  # (U, G)
            cens_coef = np.where(ici == 0, e0[uidx, grp] / y[uidx, grp], 0.0)
        l_at_u = l_cum[:, np.searchsorted(self.tau, u, side="right")].T  # (U, G): L_g(u)
        r1 = np.concatenate([np.zeros((1, ng)), np.cumsum(base, axis=0)])
        r2 = np.concatenate([np.zeros((1, ng)), np.cumsum(base * l_at_u, axis=0)])
        own = np.where(ici == 1, 1.0 / s0[np.maximum(pos - 1, 0)], 0.0)
        c = cens_coef - ro
        alpha = own - r * k_cum[pos] - c * l_cum[grp, pos] + r2[uidx + 1, grp]
        beta = c - r1[uidx + 1, grp]
        pk = np.arange(1, self.tau.size + 1)
        sk = np.searchsorted(u, self.tau, side="right")
        m = l_cum[:, pk] * r1[sk].T - r2[sk].T  # (G, D)
        return dict(r=r, own=own, alpha=alpha, beta=beta, k=k_cum[pk], l=l_cum[:, pk], m=m)

    def hazard_influence(self, b, kk):
        """The dense matrix ``A_i(tau_k)`` for the cause-time indices ``kk`` (n x len(kk)); for checks."""
        pc = self._hazard_pieces(b)
        kk = np.asarray(kk)
        still = np.arange(self.n)[:, None] >= self.first[kk][None, :]  # t_i >= tau_k
        at_k = still * (self.pos[:, None] == kk[None, :] + 1)
        a1 = at_k * pc["own"][:, None] - pc["r"][:, None] * pc["k"][kk][None, :] - pc["m"][self.grp][:, kk]
        a2 = pc["alpha"][:, None] + pc["beta"][:, None] * pc["l"][self.grp][:, kk]
        return np.where(still, a1, a2)

    def hazard_influence_moments(self, b, infl_b):
        """``sum_i A_i(tau_k)^2`` and ``sum_i A_i(tau_k) B_i`` for every cause time tau_k, in O((n + D) p G).

        ``B_i`` is the influence of row i on b (``infl_b``). Rows at risk at tau_k (regime I) and rows gone
        before it (regime II) are summed with reverse and forward cumulative sums per censoring stratum.
        """
        pc = self._hazard_pieces(b)
        r, own, alpha, beta, k, ell, m = (pc[key] for key in ("r", "own", "alpha", "beta", "k", "l", "m"))

        def rev(z):  # sum over rows with t_i >= tau_k, per stratum: (D, G, ...)
            zg = z.reshape(self.n, 1, -1) * self.onehot[:, :, None]
            out = np.concatenate([np.cumsum(zg[::-1], axis=0)[::-1], np.zeros((1,) + zg.shape[1:])])
            return out[self.first]

        def fwd(z):  # sum over rows with t_i < tau_k, per stratum: (D, G, ...)
            return self._stratum_cumsum(z.reshape(self.n, -1), self.first)

        one, lt, mt = np.ones(self.n), ell.T, m.T  # (D, G)
        s_i = rev(np.column_stack([one, r, r * r]))  # (D, G, 3)
        s_ii = fwd(np.column_stack([alpha * alpha, alpha * beta, beta * beta]))
        sa2 = (k[:, None] ** 2 * s_i[..., 2] + 2 * k[:, None] * mt * s_i[..., 1] + mt ** 2 * s_i[..., 0]
               + s_ii[..., 0] + 2 * lt * s_ii[..., 1] + lt ** 2 * s_ii[..., 2]).sum(axis=1)
        sab = (-(k[:, None, None] * rev(r[:, None] * infl_b)) - mt[:, :, None] * rev(infl_b)
               + fwd(alpha[:, None] * infl_b) + lt[:, :, None] * fwd(beta[:, None] * infl_b)).sum(axis=1)
        # the own-event term delta_ik / S0(tau_k) of the rows failing at tau_k
        fail = self.ici == 1
        kf = self.pos[fail] - 1
        corr = own[fail] ** 2 - 2 * own[fail] * (r[fail] * k[kf] + m[self.grp[fail], kf])
        np.add.at(sa2, kf, corr)
        np.add.at(sab, kf, own[fail][:, None] * infl_b[fail])
        return sa2, sab
