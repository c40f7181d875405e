"""Adjusted (standardised) survival and cumulative-incidence curves per arm of an observational action.

Three routes to the curve every customer would have had under each arm, with their differences in survival,
restricted mean tenure (RMST) and discounted lifetime value:

* **IPTW**: the propensity-weighted Kaplan-Meier (or Aalen-Johansen for causes) of each arm, or a weighted pooled
  logistic hazard model (a marginal structural model, as in Hernan & Robins' chapter 17);
* **g-formula**: an outcome model (Cox, cause-specific Cox, or pooled logistic over person-periods) predicted for
  everyone with the arm set, then averaged;
* **AIPW**: the doubly robust combination (Ozenne et al., 2020), consistent if either the propensity or the outcome
  model is right; ``"iptw_ipcw"`` is its inverse-weighted half, as ``riskRegression::ate(estimator="IPTW")``.

Intervals come from a bootstrap that refits every model (seeded, with an optional progress bar), or from the
influence function where one exists (AIPW with the nuisance models taken as known).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import (check_columns, check_conf_level, check_is_fitted, check_one_of, data_error,
                                   find_stack_level, param_error)
from churnsurv.effects.weights import PropensityScore, _Covariates, _multinomial_newton, _softmax
from churnsurv.exceptions import StatisticalWarning

__all__ = ["AdjustedSurvival", "adjusted_survival"]

_OWNER = "AdjustedSurvival"
METHODS = ("iptw", "iptw_msm", "iptw_ipcw", "gformula", "aipw")
OUTCOME_MODELS = ("cox", "logistic")
_ANY = "(any)"


# ============================================================================================== data
class _Data:
    """Arrays of one (possibly resampled) fit: times, status (0 censored, k = k-th cause), arm codes, covariates."""

    def __init__(self, time, status, arm, x, n_arms, n_causes, xo=None):
        self.time, self.status, self.arm, self.x = time, status, arm, x
        self.xo = x if xo is None else xo  # covariates of the outcome model
        self.n_arms, self.n_causes, self.n = n_arms, n_causes, len(time)

    def take(self, idx):
        return _Data(self.time[idx], self.status[idx], self.arm[idx], self.x[idx], self.n_arms, self.n_causes,
                     self.xo[idx])


def _step(times: np.ndarray, values: np.ndarray, grid: np.ndarray, before: bool = False, fill: float = 0.0):
    """Right-continuous step function (``values[..., k]`` from ``times[k]``) at ``grid``; ``before``: left limits."""
    idx = np.searchsorted(times, grid, side="left" if before else "right") - 1
    out = np.take(values, np.maximum(idx, 0), axis=-1)
    return np.where(idx >= 0, out, fill)


# ============================================================================================== propensity
def _propensity(d: _Data) -> np.ndarray:
    """Multinomial-logistic propensity of every arm (n x arms)."""
    x = np.column_stack([np.ones(d.n), d.x])
    beta, _, _, converged = _multinomial_newton(x, d.arm, d.n_arms)
    return _softmax(np.column_stack([np.zeros(d.n), x @ beta]))


def _iptw_weights(prob, d: _Data, estimand, target, stabilized, truncate):
    from churnsurv.effects.weights import _weights

    w = _weights(prob, d.arm, list(range(d.n_arms)), estimand, target, stabilized)
    if truncate[0] is not None:
        ql, qh = np.quantile(w, truncate)
        w = np.clip(w, ql, qh)
    return w


# ============================================================================================== nonparametric
def _weighted_curves(d: _Data, w: np.ndarray, grid: np.ndarray, cause_mode: bool) -> np.ndarray:
    """Weighted Kaplan-Meier (survival; shape arms x 1 x grid) or Aalen-Johansen (arms x causes x grid)."""
    k = d.n_causes if cause_mode else 1
    out = np.empty((d.n_arms, k, len(grid)))
    for a in range(d.n_arms):
        sel = d.arm == a
        t, s, ww = d.time[sel], d.status[sel], w[sel]
        ut, inv = np.unique(t, return_inverse=True)
        n_at = np.cumsum(np.bincount(inv, weights=ww, minlength=len(ut))[::-1])[::-1]
        dall = np.bincount(inv, weights=ww * (s > 0), minlength=len(ut))
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(np.where(n_at > 0, 1 - dall / n_at, 1.0))
        if not cause_mode:
            out[a, 0] = _step(ut, surv, grid, fill=1.0)
            continue
        s_before = np.concatenate([[1.0], surv[:-1]])
        for c in range(k):
            dc = np.bincount(inv, weights=ww * (s == c + 1), minlength=len(ut))
            with np.errstate(divide="ignore", invalid="ignore"):
                cif = np.cumsum(np.where(n_at > 0, s_before * dc / n_at, 0.0))
            out[a, c] = _step(ut, cif, grid)
    return out


# ============================================================================================== Cox outcome
class _CoxOutcome:
    """Cox (cause-specific) models with the arm as dummies plus the covariates; predictions for any design."""

    def __init__(self, d: _Data, cause_mode: bool):
        from churnsurv.models.coxph import CoxPH

        z = self.design(d.arm, d.xo, d.n_arms)
        names = [f"z{j}" for j in range(z.shape[1])]
        frame = pd.DataFrame(z, columns=names)
        frame["_time"], frame["_status"] = d.time, d.status
        self.n_arms = d.n_arms
        self.fits = []
        causes = range(1, d.n_causes + 1) if cause_mode else [None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings of the outcome model are the user's to check on the model
            for c in causes:
                ev = (frame["_status"] == c) if c is not None else (frame["_status"] > 0)
                m = CoxPH().fit(frame.assign(_ev=ev.astype(int)), duration="_time", event="_ev", covariates=names)
                base = m.baseline_cumulative_hazard_
                self.fits.append((m.coef_.to_numpy(), base["time"].to_numpy(), np.diff(
                    base["cumulative_hazard"].to_numpy(), prepend=0.0)))
        self.jumps = np.unique(np.concatenate([f[1] for f in self.fits]))
        self.cause_mode = cause_mode

    @staticmethod
    def design(arm, x, n_arms):
        dummies = (arm[:, None] == np.arange(1, n_arms)[None, :]).astype(float)
        return np.column_stack([dummies, x])

    def hazards(self, z):
        """Cause-specific hazard increments on the union of jump times: list of (n x m)."""
        out = []
        for beta, times, dh in self.fits:
            inc = np.zeros(len(self.jumps))
            inc[np.searchsorted(self.jumps, times)] = dh
            out.append(np.exp(z @ beta)[:, None] * inc[None, :])
        return out

    def curves(self, z):
        """(survival S(u), list of cumulative incidences F_c(u)) at the jump times, each n x m."""
        dl = self.hazards(z)
        total = np.cumsum(sum(dl), axis=1)
        surv = np.exp(-total)
        if not self.cause_mode:
            return surv, [1 - surv]
        s_before = np.column_stack([np.ones(len(z)), surv[:, :-1]])
        return surv, [np.cumsum(s_before * h, axis=1) for h in dl]

    def risk(self, arm_value, d: _Data, grid):
        z = self.design(np.full(d.n, arm_value), d.xo, d.n_arms)
        _, cifs = self.curves(z)
        return np.stack([_step(self.jumps, f, grid) for f in cifs])  # causes x n x grid


# ============================================================================================== pooled logistic
def _person_periods(d: _Data):
    """Expand to one row per customer and period k = 0 .. ceil(time) - 1; the event sits on the last period."""
    periods = np.ceil(d.time - 1e-9).astype(np.int64)
    if np.any(np.abs(d.time - np.round(d.time)) > 1e-9):
        raise ValueError("The pooled logistic ('logistic') outcome model needs whole-period tenures (e.g. months); "
                         "round the durations or use outcome_model='cox'.")
    periods = np.maximum(periods, 0)
    row = np.repeat(np.arange(d.n), periods)
    k = np.arange(len(row)) - np.repeat(np.cumsum(periods) - periods, periods)
    last = k == periods[row] - 1
    y = (last & (d.status[row] > 0)).astype(float)
    return row, k.astype(float), y


def _logistic_design(arm, x, k, n_arms, degree, interact):
    cols = [np.ones(len(k))] + [k ** p for p in range(1, degree + 1)]
    for a in range(1, n_arms):
        da = (arm == a).astype(float)
        cols.append(da)
        if interact:
            cols += [da * k ** p for p in range(1, degree + 1)]
    return np.column_stack(cols + ([x] if x is not None and x.shape[1] else []))


class _LogisticOutcome:
    """Pooled logistic hazard over person-periods: time polynomial, arm (by time), covariates."""

    def __init__(self, d: _Data, w, degree, interact, covariates=True):
        row, k, y = _person_periods(d)
        self.degree, self.interact, self.covariates = degree, interact, covariates
        xx = d.xo[row] if covariates else None
        design = _logistic_design(d.arm[row], xx, k, d.n_arms, degree, interact)
        beta, _, _, converged = _multinomial_newton(design, y.astype(np.int64), 2, None if w is None else w[row])
        self.beta = beta[:, 0]
        self.horizon = int(np.ceil(d.time.max()))
        self.n_arms = d.n_arms

    def survival(self, arm_value, x):
        """Survival after 0 .. horizon periods for every row of ``x`` (n x horizon+1)."""
        n = 1 if x is None else len(x)
        ks = np.arange(self.horizon, dtype=float)
        out = np.empty((n, self.horizon + 1))
        out[:, 0] = 1.0
        xs = x if self.covariates else None
        for i0 in range(0, n, 256):
            rows = slice(i0, min(n, i0 + 256))
            m = (rows.stop - rows.start)
            kk = np.tile(ks, m)
            xr = None if xs is None else np.repeat(xs[rows], len(ks), axis=0)
            des = _logistic_design(np.full(len(kk), arm_value), xr, kk, self.n_arms, self.degree, self.interact)
            h = 1 / (1 + np.exp(-(des @ self.beta)))
            out[rows, 1:] = np.cumprod(1 - h.reshape(m, len(ks)), axis=1)
        return out

    def at(self, surv, grid):
        idx = np.clip(np.floor(grid + 1e-9).astype(int), 0, self.horizon)
        return surv[:, idx]


# ============================================================================================== censoring
def _censoring_by_arm(d: _Data):
    """Nelson-Aalen of the censoring times in each arm; returns (jump times, dLambda (arms x m), G (arms x m))."""
    jumps = np.unique(d.time[d.status == 0])
    dl = np.zeros((d.n_arms, len(jumps)))
    for a in range(d.n_arms):
        sel = d.arm == a
        t, c = d.time[sel], d.status[sel] == 0
        at_risk = (t[None, :] >= jumps[:, None]).sum(axis=1)
        cens = np.bincount(np.searchsorted(jumps, t[c]), minlength=len(jumps))[:len(jumps)]
        with np.errstate(divide="ignore", invalid="ignore"):
            dl[a] = np.where(at_risk > 0, cens / at_risk, 0.0)
    return jumps, dl, np.exp(-np.cumsum(dl, axis=1))


# ============================================================================================== estimators
def _estimate(method, d: _Data, grid, cfg, want_iid=False):
    """Risk (or survival) of every arm: array arms x causes x grid; with ``want_iid`` also the influence terms."""
    cause_mode = cfg["cause_mode"]
    n_out = d.n_causes if cause_mode else 1
    iid = None
    if method in ("iptw", "iptw_msm", "iptw_ipcw", "aipw"):
        prob = _propensity(d)
    if method == "iptw":
        w = _iptw_weights(prob, d, cfg["estimand"], cfg["target"], cfg["stabilized"], cfg["truncate"])
        return _weighted_curves(d, w, grid, cause_mode), None
    if method == "iptw_msm":
        w = _iptw_weights(prob, d, cfg["estimand"], cfg["target"], cfg["stabilized"], cfg["truncate"])
        model = _LogisticOutcome(d, w, cfg["time_degree"], True, covariates=False)
        out = np.stack([model.at(model.survival(a, None), grid)[0] for a in range(d.n_arms)])
        return out[:, None, :], None
    if method == "gformula":
        rows = np.arange(d.n) if cfg["target"] is None else np.flatnonzero(d.arm == cfg["target"])
        if cfg["outcome_model"] == "logistic":
            model = _LogisticOutcome(d, None, cfg["time_degree"], True, covariates=True)
            sub = d.xo[rows]
            out = np.stack([model.at(model.survival(a, sub), grid).mean(axis=0) for a in range(d.n_arms)])
            return out[:, None, :], None
        model = _CoxOutcome(d, cause_mode)
        r = np.stack([model.risk(a, d, grid)[:, rows].mean(axis=1) for a in range(d.n_arms)])
        return (r if cause_mode else 1 - r), None
    # --- iptw_ipcw and aipw: Horvitz-Thompson with censoring weights (riskRegression::ate)
    cj, dlc, gc = _censoring_by_arm(d)
    tt = np.minimum(d.time[:, None], grid[None, :])  # n x grid
    g_before = np.ones_like(tt)
    for a in range(d.n_arms):
        sel = d.arm == a
        g_before[sel] = _step(cj, gc[a], tt[sel], before=True, fill=1.0)
    cens_before = (d.time[:, None] <= grid[None, :]) & (d.status[:, None] == 0)
    ipcw = (~cens_before) / g_before
    pi_own = prob  # n x arms
    causes = range(1, d.n_causes + 1) if cause_mode else [None]
    y = np.stack([(d.time[:, None] <= grid[None, :]) & ((d.status[:, None] == c) if c else (d.status[:, None] > 0))
                  for c in causes])  # causes x n x grid
    ind = (d.arm[:, None] == np.arange(d.n_arms)[None, :]) / pi_own  # n x arms
    if method == "iptw_ipcw":
        terms = ind.T[:, None, :, None] * (ipcw * y)[None]  # arms x causes x n x grid
    else:
        model = _CoxOutcome(d, cause_mode)
        z_obs = model.design(d.arm, d.xo, d.n_arms)
        surv_j, cif_j = model.curves(z_obs)
        keep = cj[cj <= grid.max()]
        f_jump = np.stack([_step(model.jumps, f, keep) for f in cif_j])  # causes x n x m
        s_jump = _step(model.jumps, surv_j, keep, before=True, fill=1.0)  # n x m: S(u-)
        g_jump = np.ones((d.n, len(keep)))
        dlam = np.zeros((d.n, len(keep)))
        for a in range(d.n_arms):
            sel = d.arm == a
            g_jump[sel] = np.concatenate([[1.0], gc[a][:len(keep) - 1]])[None, :] if len(keep) else g_jump[sel]
            dlam[sel] = dlc[a][:len(keep)][None, :]
        dn = (d.time[:, None] == keep[None, :]) & (d.status[:, None] == 0)
        before = keep[None, :] <= d.time[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            integrand = np.where(before, (dn - dlam) / (g_jump * s_jump), 0.0)
        cum1 = np.cumsum(integrand, axis=1)
        n_before = np.searchsorted(keep, grid, side="right")  # jumps <= tau
        f_tau_obs = np.stack([_step(model.jumps, f, grid) for f in cif_j])  # causes x n x grid
        terms = np.empty((d.n_arms, n_out, d.n, len(grid)))
        for ci in range(n_out):
            cum2 = np.cumsum(integrand * f_jump[ci], axis=1)
            aug = np.zeros((d.n, len(grid)))
            has = n_before > 0
            idx = np.maximum(n_before - 1, 0)
            aug[:, has] = f_tau_obs[ci][:, has] * cum1[:, idx[has]] - cum2[:, idx[has]]
            for a in range(d.n_arms):
                f_ctf = model.risk(a, d, grid)[ci]
                terms[a, ci] = f_ctf + ind[:, a][:, None] * (ipcw * y[ci] - f_ctf + aug)
    est = terms.mean(axis=2)
    if want_iid:
        iid = terms - est[:, :, None, :]
    if not cause_mode:
        est = 1 - est
        iid = None if iid is None else -iid
    return est, iid


# ============================================================================================== estimator
class AdjustedSurvival(BaseEstimator):
    r"""Adjusted survival (or cumulative incidence) curves per arm of a baseline action, and their contrasts.

    Parameters
    ----------
    method : {"iptw", "iptw_msm", "iptw_ipcw", "gformula", "aipw"}, default "aipw"
        ``"iptw"``: propensity-weighted Kaplan-Meier / Aalen-Johansen per arm. ``"iptw_msm"``: weighted pooled
        logistic hazard with arm-by-time terms (Hernan & Robins' chapter 17; whole-period tenures).
        ``"iptw_ipcw"``: inverse probability of treatment and censoring weighting (``riskRegression::ate``'s
        IPTW). ``"gformula"``: standardised predictions of the outcome model. ``"aipw"``: doubly robust.
    outcome_model : {"cox", "logistic"}, default "cox"
        Outcome model of the g-formula (``"aipw"`` uses Cox): a Cox model (cause-specific Cox models with causes)
        with arm dummies and the covariates, or a pooled logistic hazard over person-periods with a polynomial
        of degree ``time_degree`` in the period, arm and arm-by-period terms and the covariates.
    estimand : {"ATE", "ATT"}, default "ATE"
        ATT (the effect among customers who received ``target``) for ``iptw``, ``iptw_msm`` and ``gformula``.
    target : optional
        The ATT arm; default the last arm.
    stabilized : bool, default True
        Stabilised weights (``iptw``, ``iptw_msm``); they do not change the weighted Kaplan-Meier.
    truncate : float or (float, float), optional
        Truncate the weights at these quantiles (``iptw``, ``iptw_msm``).
    time_degree : int, default 2
        Degree of the period polynomial of the pooled logistic models.
    n_boot : int, default 0
        Bootstrap replications (each refits the propensity, outcome and censoring models); 0 for none.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    progress : bool, default False
        Show a progress bar (tqdm when installed, else a line every 10%) during the bootstrap.
    conf_level : float, default 0.95
        Level of the intervals: bootstrap percentile intervals, or influence-function Wald intervals for
        ``"aipw"`` and ``"iptw_ipcw"`` when ``n_boot=0``.

    Attributes
    ----------
    curves_ : pandas.DataFrame
        One row per (arm, time) (and ``cause`` with causes): ``arm, [cause,] time, estimate, std_error, ci_lower,
        ci_upper``; the estimate is survival, or the cumulative incidence of the cause.
    propensity_ : PropensityScore or None
        The fitted propensity model with its diagnostics (balance, ESS, overlap), for the weighting methods.
    arms_ : list
        Arm labels.
    causes_ : list or None
        Cause labels, when a cause column was given.
    interval_ : str
        ``"bootstrap"``, ``"influence"`` or ``"none"``.
    n_obs_, n_events_ : int
        Customers and events.

    Notes
    -----
    For arm :math:`a` and cause :math:`c` (all defections in the survival case) with propensity
    :math:`\pi_a(X)`, outcome model :math:`F_c(t \mid a, X)` and censoring survival :math:`G`,

    .. math::

        \hat F^{g}_a(t) &= \frac{1}{n}\sum_i \hat F_c(t \mid a, X_i), \\
        \hat F^{\mathrm{IPW}}_a(t) &= \frac{1}{n}\sum_i \frac{1\{A_i = a\}\, 1\{T_i \le t, \Delta_i = c\}}
            {\hat\pi_a(X_i)\, \hat G(T_i- \mid A_i)}, \\
        \hat F^{\mathrm{AIPW}}_a(t) &= \frac{1}{n}\sum_i \Big[\hat F_c(t \mid a, X_i) + \frac{1\{A_i = a\}}
            {\hat\pi_a(X_i)}\Big(\frac{1\{T_i \le t, \Delta_i = c\}}{\hat G(T_i- \mid A_i)}
            - \hat F_c(t \mid a, X_i) + \int_0^{t \wedge T_i} \frac{\hat F_c(t \mid a, X_i) - \hat F_c(u \mid a, X_i)}
            {\hat S(u- \mid a, X_i)\, \hat G(u- \mid A_i)}\, d\hat M^C_i(u)\Big)\Big],

    with :math:`\hat G` the Nelson-Aalen censoring survival of each arm and :math:`\hat M^C` its martingale
    (Ozenne et al. [3]_; ``riskRegression::ate`` gives the same numbers). ``"iptw"`` is the Kaplan-Meier with
    weights :math:`w_i = 1/\hat\pi_{A_i}(X_i)` (Cole & Hernan [2]_), which equals the plain Kaplan-Meier when the
    weights are equal and does not change when they are rescaled. The pooled logistic models follow Hernan &
    Robins [1]_, chapter 17. The AIPW influence-function interval treats the nuisance models as known (valid
    when all of them are right); the bootstrap does not.

    References
    ----------
    .. [1] Hernan, M. A. and Robins, J. M. (2020). *Causal Inference: What If*. Chapman & Hall/CRC, chapter 17.
    .. [2] Cole, S. R. and Hernan, M. A. (2004). Adjusted survival curves with inverse probability weights.
       *Computer Methods and Programs in Biomedicine* 75(1), 45-49.
    .. [3] Ozenne, B. M. H., Scheike, T. H., Staerk, L. and Gerds, T. A. (2020). On the estimation of average
       treatment effects with right-censored time to event outcome and competing risks. *Biometrical Journal*
       62(3), 751-763.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=400)
    >>> offer = (rng.random(400) < 1 / (1 + np.exp(-x))).astype(int)
    >>> tenure = rng.exponential(12 * np.exp(0.5 * offer - 0.7 * x))
    >>> df = pd.DataFrame({"x": x, "offer": offer, "tenure": np.minimum(tenure, 36), "churned": tenure < 36})
    >>> fit = AdjustedSurvival(method="gformula").fit(df, treatment="offer", covariates=["x"],
    ...                                               duration="tenure", event="churned", times=[12])
    >>> list(fit.curves_.columns)
    ['arm', 'time', 'estimate', 'std_error', 'ci_lower', 'ci_upper']
    """

    def __init__(self, method: str = "aipw", outcome_model: str = "cox", estimand: str = "ATE", target=None,
                 stabilized: bool = True, truncate=None, time_degree: int = 2, n_boot: int = 0, random_state=None,
                 progress: bool = False, conf_level: float = 0.95):
        self.method = method
        self.outcome_model = outcome_model
        self.estimand = estimand
        self.target = target
        self.stabilized = stabilized
        self.truncate = truncate
        self.time_degree = time_degree
        self.n_boot = n_boot
        self.random_state = random_state
        self.progress = progress
        self.conf_level = conf_level

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, *, treatment: str, covariates, duration: str, event: str,
            cause: str | None = None, times=None, outcome_covariates=None) -> AdjustedSurvival:
        """Estimate the adjusted curves.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer, measured at the time of the action (baseline); not modified.
        treatment : str
            Column of the arm (two or more levels).
        covariates : list of str
            Confounders: column names, ``"x^2"`` for a square, ``"C(x)"`` for dummies.
        duration, event : str
            Tenure since the action and the defection flag (1/True = defected).
        cause : str, optional
            Column of the cause of defection (read where ``event`` is true): the curves are then cumulative
            incidences per cause (weighted Aalen-Johansen, cause-specific g-formula, ...).
        times : array-like, optional
            Times at which :attr:`curves_` is reported; default every event time (every period for the logistic
            models). RMST and value use the full curve whatever ``times``.
        outcome_covariates : list of str, optional
            Covariates of the outcome model (g-formula, AIPW) when they differ from those of the propensity model;
            default ``covariates``.

        Returns
        -------
        AdjustedSurvival
            ``self``, fitted.
        """
        owner = _OWNER
        check_one_of(self.method, "method", owner, METHODS)
        check_one_of(self.outcome_model, "outcome_model", owner, OUTCOME_MODELS)
        check_one_of(self.estimand, "estimand", owner, ("ATE", "ATT"))
        conf = check_conf_level(self.conf_level, owner)
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, (int, np.integer)) or self.n_boot < 0:
            raise param_error("n_boot", owner, "an int >= 0", self.n_boot)
        if isinstance(self.time_degree, bool) or not isinstance(self.time_degree, (int, np.integer)) or not (
                0 <= self.time_degree <= 3):
            raise param_error("time_degree", owner, "an int in [0, 3]", self.time_degree)
        if self.estimand == "ATT" and self.method in ("aipw", "iptw_ipcw"):
            raise param_error("estimand", owner, "'ATE' with method='aipw' or 'iptw_ipcw' (ATT: use 'iptw', "
                              "'iptw_msm' or 'gformula')", self.estimand)
        if cause is not None and self.method == "iptw_msm" or (
                cause is not None and self.method == "gformula" and self.outcome_model == "logistic"):
            raise param_error("cause", f"{owner}.fit", "None for the pooled logistic models (use 'cox', 'iptw', "
                              "'iptw_ipcw' or 'aipw' for causes)", cause)
        from churnsurv.effects.weights import _truncation

        truncate = _truncation(self.truncate)
        if not isinstance(data, pd.DataFrame):
            raise param_error("data", f"{owner}.fit", "a pandas DataFrame", type(data).__name__, type_error=True)
        check_columns(data, [treatment, duration, event, cause], "data")
        ids = data.index.to_numpy()
        t = pd.to_numeric(data[duration], errors="coerce")
        bad = t.isna().to_numpy() | (t.to_numpy(float) < 0)
        if bad.any():
            raise data_error(duration, "missing, non-numeric or negative tenures", bad, ids,
                             "Tenures must be numbers >= 0.")
        ev = data[event]
        if ev.isna().any():
            raise data_error(event, "missing event flags", ev.isna().to_numpy(), ids, "Use 1/True for a defection.")
        ev = ev.astype(bool).to_numpy()
        if cause is not None:
            cz = data[cause].where(ev)
            miss = ev & cz.isna().to_numpy()
            if miss.any():
                raise data_error(cause, "defections without a cause", miss, ids, "Give every defection a cause.")
            ccode, causes = pd.factorize(cz, sort=True)
            status = np.where(ev, ccode + 1, 0)
            causes = list(causes)
        else:
            status, causes = ev.astype(np.int64), None
        ps = PropensityScore(estimand=self.estimand, target=self.target, stabilized=self.stabilized,
                             truncate=self.truncate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            ps.fit(data, treatment=treatment, covariates=covariates)
        arms = ps.arms_
        target = None if self.estimand == "ATE" else arms.index(ps.target_)
        if outcome_covariates is None:
            xo = ps._x
        else:
            xo = _Covariates(outcome_covariates).fit(data, ids)
        d = _Data(t.to_numpy(float), np.asarray(status), ps._arm_codes, ps._x, len(arms),
                  len(causes) if causes else 1, xo)
        if ps.n_positivity_ and self.method != "gformula":
            warnings.warn(f"Positivity: {ps.n_positivity_} customers have a propensity below 0.01 for some arm; "
                          "see churnsurv.plotting.effects.plot_overlap(fit.propensity_); consider truncate= or "
                          "restricting the population.", StatisticalWarning, stacklevel=find_stack_level())
        self._cfg = {"cause_mode": causes is not None, "estimand": self.estimand, "target": target,
                     "stabilized": bool(self.stabilized), "truncate": truncate, "time_degree": int(self.time_degree),
                     "outcome_model": self.outcome_model}
        discrete = self.method == "iptw_msm" or (self.method == "gformula" and self.outcome_model == "logistic")
        if discrete:
            grid = np.arange(0, int(np.ceil(d.time.max())) + 1, dtype=float)
        else:
            grid = np.unique(np.concatenate([[0.0], d.time[d.status > 0]]))
        report = grid if times is None else np.unique(np.asarray(times, float).ravel())
        full = np.unique(np.concatenate([grid, report]))
        want_iid = self.method in ("aipw", "iptw_ipcw") and self.n_boot == 0
        est, iid = _estimate(self.method, d, full, self._cfg, want_iid=want_iid)
        self._grid, self._est, self._iid = full, est, iid
        self._boot = None
        if self.n_boot:
            self._boot = self._bootstrap(d, full)
            self.interval_ = "bootstrap"
        else:
            self.interval_ = "influence" if iid is not None else "none"
        self._conf = conf
        self._d_n, self._report = d.n, report
        self.arms_ = arms
        self.causes_ = causes
        self.treatment_ = treatment
        self.propensity_ = ps if self.method != "gformula" else None
        self.n_obs_ = d.n
        self.n_events_ = int((d.status > 0).sum())
        self.curves_ = self._table(lambda e: _at(full, e, report), report)
        return self

    def _bootstrap(self, d: _Data, grid):
        rng = self.random_state if isinstance(self.random_state, np.random.Generator) else \
            np.random.default_rng(self.random_state)
        reps = np.empty((self.n_boot, *self._est.shape))
        bar = _progress(self.n_boot, self.progress)
        for b in range(self.n_boot):
            idx = rng.integers(0, d.n, d.n)
            db = d.take(idx)
            if len(np.unique(db.arm)) < d.n_arms:
                reps[b] = np.nan
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reps[b] = _estimate(self.method, db, grid, self._cfg)[0]
            bar(b + 1)
        return reps

    # ------------------------------------------------------------------ tables
    def _interval(self, fun):
        """(estimate, std_error, lower, upper) of a functional ``fun`` of the arms x causes x grid array."""
        from scipy.special import ndtri

        est = fun(self._est)
        z = ndtri(0.5 + self._conf / 2)
        if self._boot is not None:
            reps = np.stack([fun(r) for r in self._boot])
            se = np.nanstd(reps, axis=0, ddof=1)
            alpha = (1 - self._conf) / 2
            lo, hi = np.nanquantile(reps, [alpha, 1 - alpha], axis=0)
            return est, se, lo, hi
        if self._iid is not None:  # linear functionals: apply them to each customer's influence terms
            moved = np.moveaxis(self._iid, 2, 0)  # n x arms x causes x grid
            infl = fun(moved) - fun(np.zeros_like(self._est))
            se = np.sqrt(np.sum(infl ** 2, axis=0)) / self._d_n
            return est, se, est - z * se, est + z * se
        nan = np.full_like(est, np.nan)
        return est, nan, nan, nan

    def _table(self, fun, times):
        est, se, lo, hi = self._interval(fun)
        rows = []
        causes = self.causes_ or [None]
        for a, arm in enumerate(self.arms_):
            for c, cz in enumerate(causes):
                part = {"arm": arm}
                if cz is not None:
                    part["cause"] = cz
                rows.append(pd.DataFrame({**part, "time": times, "estimate": est[a, c], "std_error": se[a, c],
                                          "ci_lower": lo[a, c], "ci_upper": hi[a, c]}))
        return pd.concat(rows, ignore_index=True)

    def difference(self, reference=None, times=None) -> pd.DataFrame:
        """Differences of each arm's curve from ``reference`` (default the first arm), with intervals.

        Returns one row per (arm, [cause,] time): ``arm, reference, [cause,] time, estimate, std_error,
        ci_lower, ci_upper`` where the estimate is :math:`S_a(t) - S_{ref}(t)` (or the difference of cumulative
        incidences).
        """
        check_is_fitted(self, "curves_")
        r = self._arm_index(reference)
        times = self._report if times is None else np.unique(np.asarray(times, float).ravel())
        out = self._contrast(lambda e: _at(self._grid, e - e[..., r:r + 1, :, :], times), times, r)
        return out

    def rmst(self, tau: float, reference=None) -> pd.DataFrame:
        r"""Restricted mean tenure :math:`\int_0^\tau S_a(t)\,dt` per arm and its difference from ``reference``.

        With causes, the expected tenure lost to each cause before :math:`\tau`,
        :math:`\int_0^\tau F_{a,c}(t)\,dt` (quantity ``"time_lost"``). Returns ``arm, reference, [cause,]
        quantity ("rmst", "time_lost" or "difference"), tau, estimate, std_error, ci_lower, ci_upper``.
        """
        check_is_fitted(self, "curves_")
        tau = float(tau)
        if not tau > 0:
            raise param_error("tau", f"{_OWNER}.rmst", "a positive number", tau)
        if tau > self._grid.max():
            warnings.warn(f"tau = {tau:g} is beyond the last observed time {self._grid.max():g}; the curves are "
                          "carried forward.", StatisticalWarning, stacklevel=find_stack_level())
        weights = _integral_weights(self._grid, tau)
        name = "rmst" if self.causes_ is None else "time_lost"
        return self._summary_pair(lambda e: (e * weights).sum(axis=-1, keepdims=True), reference, name, tau)

    def lifetime_value(self, margin: float, discount_rate: float, horizon: float, reference=None) -> pd.DataFrame:
        r"""Discounted expected value per customer over ``horizon`` periods, per arm and as a difference.

        .. math:: V_a = m \sum_{k=0}^{H-1} \frac{S_a(k)}{(1 + r)^{k}}

        (margin ``m`` per period, collected at the start of each period the customer is still active, discount
        rate ``r`` per period). Survival curves only (no causes).
        """
        check_is_fitted(self, "curves_")
        if self.causes_ is not None:
            raise ValueError("lifetime_value needs survival curves: fit without 'cause'.")
        if not discount_rate > -1:
            raise param_error("discount_rate", f"{_OWNER}.lifetime_value", "a rate > -1", discount_rate)
        k = np.arange(int(np.ceil(horizon)), dtype=float)
        disc = float(margin) / (1 + discount_rate) ** k

        def fun(e):
            return (_at(self._grid, e, k) * disc).sum(axis=-1, keepdims=True)
        return self._summary_pair(fun, reference, "value", float(horizon))

    # ------------------------------------------------------------------ helpers
    def _arm_index(self, reference):
        if reference is None:
            return 0
        if reference not in self.arms_:
            raise param_error("reference", _OWNER, f"one of the arms {self.arms_}", reference)
        return self.arms_.index(reference)

    def _contrast(self, fun, times, r):
        est, se, lo, hi = self._interval(fun)
        rows = []
        causes = self.causes_ or [None]
        for a, arm in enumerate(self.arms_):
            if a == r:
                continue
            for c, cz in enumerate(causes):
                part = {"arm": arm, "reference": self.arms_[r]}
                if cz is not None:
                    part["cause"] = cz
                rows.append(pd.DataFrame({**part, "time": times, "estimate": est[a, c], "std_error": se[a, c],
                                          "ci_lower": lo[a, c], "ci_upper": hi[a, c]}))
        return pd.concat(rows, ignore_index=True)

    def _summary_pair(self, fun, reference, name, tau):
        r = self._arm_index(reference)
        per_arm = self._table(fun, np.array([tau]))
        per_arm.insert(1, "reference", None)
        per_arm.insert(len(per_arm.columns) - 5, "quantity", name)
        diff = self._contrast(lambda e: fun(e) - fun(e)[..., r:r + 1, :, :], np.array([tau]), r)
        diff.insert(len(diff.columns) - 5, "quantity", "difference")
        out = pd.concat([per_arm, diff], ignore_index=True).rename(columns={"time": "tau"})
        return out


def adjusted_survival(data: pd.DataFrame, *, treatment: str, covariates, duration: str, event: str,
                      cause: str | None = None, times=None, method: str = "aipw", **params) -> pd.DataFrame:
    """Function door to :class:`AdjustedSurvival`: fit and return :attr:`AdjustedSurvival.curves_`.

    See Also
    --------
    AdjustedSurvival : the estimator, with ``difference``, ``rmst`` and ``lifetime_value``.
    """
    fit = AdjustedSurvival(method=method, **params).fit(data, treatment=treatment, covariates=covariates,
                                                       duration=duration, event=event, cause=cause, times=times)
    return fit.curves_


# ============================================================================================== small helpers
def _at(grid, values, times):
    return _step(grid, values, np.asarray(times, float), fill=np.nan)


def _integral_weights(grid, tau):
    """Weights w_k with  int_0^tau f = sum_k f(grid_k) w_k  for a right-continuous step function on ``grid``."""
    upper = np.minimum(np.append(grid[1:], np.inf), tau)
    return np.clip(upper - grid, 0, None)


def _progress(total, show):
    if not show:
        return lambda i: None
    try:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="bootstrap")

        def tick(i):
            bar.update(1)
            if i == total:
                bar.close()
        return tick
    except ImportError:
        step = max(1, total // 10)

        def tick(i):
            if i % step == 0 or i == total:
                print(f"bootstrap {i}/{total}", flush=True)
        return tick
