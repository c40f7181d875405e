r"""Actions given during tenure (an offer at month :math:`s`): landmark analysis and sequential trial emulation.

A customer can only receive an action while still a customer, so the customers who "ever got the offer" survived,
by construction, until they got it. Comparing them with those who never got it credits the offer with that
*immortal time* and overstates its effect. :func:`landmark_effect` excludes immortal time by design: at each
landmark :math:`s` it takes the customers still active and not yet treated, assigns them to the action if they
got it at :math:`s` (within a grace period) and to the control otherwise, and follows both from :math:`s`. With
several landmarks the trials are stacked (a sequential target-trial emulation) and the intervals account for the
same customer appearing in several trials (cluster-robust, influence-function variance).

A column whose levels are themselves tenure bands (the bundled Maven ``Offer``) cannot be analysed as an
action at all: :class:`ImmortalTimeError` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, data_error, param_error
from churnsurv.data.tenures import Tenures, tenure_confounding
from churnsurv.exceptions import TenureDataError
from churnsurv.nonparametric.intervals import log_normal_confint, normal_confint, two_sided_p_value
from churnsurv.nonparametric.survival import KaplanMeier

__all__ = ["ImmortalTimeError", "LandmarkEffect", "landmark_effect"]

STRATEGIES = ("itt", "per_protocol")


class ImmortalTimeError(TenureDataError):
    """An "action" whose levels are determined by tenure (each level its own tenure band).

    Customers reach a level only by lasting into its band, so a comparison of survival across levels credits
    the action with the time before it was given (immortal time). Record when the action was given and use
    :func:`~churnsurv.effects.landmark_effect`.
    """


# ---------------------------------------------------------------------- shared helpers
def _refuse_tenure_bands(tenures: Tenures, column: str, owner: str) -> None:
    """Raise :class:`ImmortalTimeError` when the levels of ``column`` occupy nearly disjoint tenure bands."""
    verdict = tenure_confounding(tenures, column)
    if not verdict.attrs.get("confounded", False):
        return
    bands = "; ".join(f"{lv}: {a:g}-{b:g}" for lv, a, b, k in verdict[["level", "tenure_low", "tenure_high",
                                                                          "n_disjoint"]].itertuples(index=False)
                      if k > 0)
    n = int(verdict.loc[verdict["n_disjoint"] > 0, "n"].sum())
    raise ImmortalTimeError(
        f"{owner}: column {column!r} cannot be analysed as an action: its levels occupy nearly disjoint tenure "
        f"bands ({bands}; {n} rows). A customer gets a level only by lasting into its band, so everyone with a "
        f"late level was certain to survive until it (immortal time), and comparing survival across the levels "
        f"measures tenure, not the action. Record the time each customer got the action and use "
        f"landmark_effect(data, action_time=<column>, landmarks=[...], horizon=...), which follows customers from "
        f"each landmark so that immortal time is excluded by design.", column=column, n_rows=n)


def _contrasts(e1, s1, e0, s0, conf_level: float) -> pd.DataFrame:
    """Differences then ratios of independent (or jointly estimated, when ``s1, s0`` are the contrast's own
    standard errors) estimates: ``measure, estimate, std_error, ci_lower, ci_upper, p_value``."""
    e1, s1, e0, s0 = (np.asarray(v, dtype=float) for v in (e1, s1, e0, s0))
    diff = e1 - e0
    dse = np.sqrt(s1 ** 2 + s0 ** 2)
    return _contrast_frame(diff, dse, e1, e0, np.sqrt((s1 / e1) ** 2 + (s0 / e0) ** 2)
                           if e1.size else e1, conf_level)


def _contrast_frame(diff, dse, e1, e0, log_se, conf_level) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        d_lo, d_hi = normal_confint(diff, dse, conf_level)
        ratio = e1 / e0
        r_lo, r_hi = log_normal_confint(ratio, log_se, conf_level)
        p_d = two_sided_p_value(diff / dse)
        p_r = two_sided_p_value(np.log(ratio) / log_se)
    k = len(diff)
    return pd.DataFrame({"measure": ["difference"] * k + ["ratio"] * k,
                         "estimate": np.r_[diff, ratio], "std_error": np.r_[dse, ratio * log_se],
                         "ci_lower": np.r_[d_lo, r_lo], "ci_upper": np.r_[d_hi, r_hi], "p_value": np.r_[p_d, p_r]})


# ---------------------------------------------------------------------- Kaplan-Meier influence functions
def _km_influence(x, d, times, tau):
    """Kaplan-Meier at ``times``, its restricted mean up to ``tau`` and their influence functions, per row.

    Returns ``surv`` (len(times)), ``rmst`` (float), ``psi_s`` (rows x times) and ``psi_r`` (rows): the
    influence of each row, scaled so that :math:`\\sum_i \\psi_i^2` is the (infinitesimal jackknife) variance;
    summed within clusters before squaring it gives the cluster-robust variance.

    With :math:`h_j = d_j / n_j` and :math:`a_j = 1/(n_j - d_j)` at the event times :math:`t_j`,
    :math:`\\psi_i(t) = -\\hat S(t) \\sum_{t_j \\le t} (dN_i(t_j) - Y_i(t_j) h_j)\\, a_j`.
    """
    x = np.asarray(x, dtype=float)
    d = np.asarray(d, dtype=bool)
    ev = np.unique(x[d])
    n_at = len(x) - np.searchsorted(np.sort(x), ev, side="left")
    d_at = np.bincount(np.searchsorted(ev, x[d]), minlength=len(ev)).astype(float)
    h = d_at / n_at
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n_at > d_at, 1.0 / (n_at - d_at), 0.0)
    S = np.cumprod(1.0 - h)
    B = np.cumsum(h * a)
    S0 = np.r_[1.0, S]  # index 0: before the first event time
    B0 = np.r_[0.0, B]
    a0 = np.r_[0.0, a]
    xmax = x.max() if len(x) else 0.0
    # survival at the requested times
    t = np.asarray(times, dtype=float)
    kt = np.searchsorted(ev, t, side="right")  # event times <= t
    surv = np.where(t <= xmax, S0[kt], np.nan)
    kx = np.searchsorted(ev, x, side="right")  # index of x among the event times (x is one when d)
    kmin = np.minimum(kt[None, :], kx[:, None])
    jump = (d[:, None] & (x[:, None] <= t[None, :])) * a0[kx][:, None]
    psi_s = -S0[kt][None, :] * (jump - B0[kmin])
    # restricted mean on the grid [0, event times <= tau, tau]
    evt = ev[ev <= tau]
    grid = np.r_[0.0, evt] if (len(evt) == 0 or evt[0] > 0) else evt
    width = np.diff(np.r_[grid, tau])
    kg = np.searchsorted(ev, grid, side="right")
    Sg, Bg = S0[kg], B0[kg]
    area = width * Sg
    rmst = float(area.sum())
    tail = np.cumsum(area[::-1])[::-1]  # area from grid point k to tau
    cum_sb = np.cumsum(area * Bg)
    ki = np.searchsorted(grid, np.minimum(x, tau), side="right") - 1  # last grid point <= x
    tail_after = np.r_[tail, 0.0][ki + 1]
    jump_r = np.where(d & (x <= tau), a0[kx] * np.r_[tail, 0.0][ki], 0.0)
    psi_r = -(jump_r - (cum_sb[ki] + Bg[ki] * tail_after))
    return surv, rmst, psi_s, psi_r


def _cluster_se(psi, cluster):
    """Square root of the sum over clusters of the squared summed influence (columns of ``psi``)."""
    psi = np.asarray(psi, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    codes, _ = pd.factorize(cluster)
    out = np.empty(psi.shape[1])
    for j in range(psi.shape[1]):
        out[j] = np.sqrt(np.sum(np.bincount(codes, weights=psi[:, j]) ** 2))
    return out


# ---------------------------------------------------------------------- result
@dataclass
class LandmarkEffect:
    """The result of :func:`landmark_effect`.

    Attributes
    ----------
    survival : pandas.DataFrame
        ``arm, reference, time, measure, estimate, std_error, ci_lower, ci_upper, p_value``: survival
        ``time`` units after the landmark in each arm (``measure="survival"``) and the difference and ratio
        treated / control, pooled over the landmarks, cluster-robust intervals.
    rmst : pandas.DataFrame
        The same for the restricted mean lifetime from the landmark up to ``tau`` (column ``tau``).
    by_landmark : pandas.DataFrame
        Each trial on its own: ``landmark, n_treated, n_control, quantity`` (``"survival"`` at ``horizon`` or
        ``"rmst"``), ``estimate`` (difference), ``std_error, ci_lower, ci_upper``.
    trials : pandas.DataFrame
        ``landmark, n_eligible, n_treated, n_control, events_treated, events_control``.
    naive : pandas.DataFrame
        The biased comparison of customers who ever got the action with those who never did, from tenure 0
        (differences of survival at ``times`` and of the RMST at ``tau``), for contrast only.
    curves : pandas.DataFrame
        The pooled Kaplan-Meier curve of each arm (``arm, time, estimate``), time since the landmark.
    stacked : pandas.DataFrame
        The stacked trials: ``id, landmark, arm, time, event``.
    strategy : str
    horizon, tau : float
    conf_level : float
    """

    survival: pd.DataFrame
    rmst: pd.DataFrame
    by_landmark: pd.DataFrame
    trials: pd.DataFrame
    naive: pd.DataFrame
    curves: pd.DataFrame
    stacked: pd.DataFrame
    strategy: str
    horizon: float
    tau: float
    conf_level: float

    def plot(self, ax=None, *, ci: bool = False):
        """The pooled survival curves since the landmark, treated and control.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        ci : bool, default False
            Mark the cluster-robust interval of survival at each of the requested times.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        for a, g in self.curves.groupby("arm", sort=False):
            line, = ax.step(g["time"], g["estimate"], where="post", label=str(a))
            if ci:
                s = self.survival[(self.survival["arm"] == a) & (self.survival["measure"] == "survival")]
                ax.errorbar(s["time"], s["estimate"], yerr=[s["estimate"] - s["ci_lower"],
                                                            s["ci_upper"] - s["estimate"]],
                            fmt="o", color=line.get_color(), capsize=3)
        ax.set_xlabel("Time since the landmark")
        ax.set_ylabel("Share still a customer")
        ax.set_ylim(0, 1.02)
        ax.legend(title="action at landmark")
        return ax


# ---------------------------------------------------------------------- the function
def landmark_effect(data, *, action_time: str, landmarks, horizon: float, grace: float | None = None,
                    strategy: str = "itt", times=None, tau: float | None = None, conf_level: float = 0.95,
                    **frame_kwargs) -> LandmarkEffect:
    r"""Effect of an action given during tenure, by landmarks (sequential target-trial emulation).

    Parameters
    ----------
    data : pandas.DataFrame or Tenures
        One row per customer. A DataFrame is read with :meth:`Tenures.from_frame` and ``frame_kwargs``
        (``duration``, ``event``, ``entry``...); a Tenures must hold ``action_time`` as a value column.
    action_time : str
        Column of the tenure at which the customer got the action (NaN: never). It must not exceed the
        customer's exit.
    landmarks : float or sequence of float
        Tenures :math:`s` at which a trial starts.
    horizon : float
        Follow-up after each landmark (events after :math:`s + \text{horizon}` are censored there).
    grace : float, optional
        A customer is treated at landmark :math:`s` when the action came in :math:`[s, s + \text{grace})`.
        Default: the smallest gap between landmarks (each action falls in one trial), 1 time unit with a
        single landmark.
    strategy : {"itt", "per_protocol"}, default "itt"
        ``"itt"``: a control stays a control when it gets the action later (the contrast of getting it at
        :math:`s` against not getting it at :math:`s`). ``"per_protocol"``: controls are censored when they get
        the action (the contrast against never getting it); unbiased without weights only when the timing of
        the action does not depend on the customer's prognosis.
    times : float or sequence of float, optional
        Times since the landmark at which survival is compared; default ``horizon``.
    tau : float, optional
        Horizon of the restricted mean since the landmark; default ``horizon``.
    conf_level : float, default 0.95
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame`.

    Returns
    -------
    LandmarkEffect

    Raises
    ------
    ImmortalTimeError
        When ``action_time`` is a label column whose levels are tenure bands (the Maven ``Offer``).
    TenureDataError
        When an action time is negative or after the customer's exit.

    Notes
    -----
    **Design.** For landmark :math:`s`, the eligible customers are those under observation and still active at
    :math:`s` (:math:`\text{entry} \le s < \text{exit}`) who have not had the action before :math:`s`
    (:math:`A \ge s` or never). Those with :math:`s \le A < s + g` form the treated arm, the others the
    control arm; both are followed from :math:`s` (time :math:`\min(\text{exit}, s + h) - s`). No one is
    credited with time before the landmark, so immortal time is excluded by design [1]_ [2]_.

    **Pooling.** The trials are stacked and one Kaplan-Meier curve is estimated per arm (every trial weighted by
    its size). A customer is a control in several trials, so the rows are not independent: the variance is the
    cluster-robust infinitesimal-jackknife variance, the squared sum over customers of the summed influence
    functions of their rows,

    .. math::

        \psi_i(t) = -\hat S(t) \sum_{t_j \le t} \frac{dN_i(t_j) - Y_i(t_j)\, d_j / n_j}{n_j - d_j}, \qquad
        \widehat{\mathrm{Var}}\, \hat S(t) = \sum_{c} \Big(\sum_{i \in c} \psi_i(t)\Big)^2,

    and :math:`\int_0^\tau \psi_i(t)\,dt` for the restricted mean (R ``survfit(..., cluster = id)``). Without
    repeated customers it is close to Greenwood's variance. The treated and control arms share customers (a
    control at :math:`s` may be treated at a later landmark), so the contrasts use the influence functions of
    both arms summed within customer.

    References
    ----------
    .. [1] Anderson, J. R., Cain, K. C. & Gelber, R. D. (1983). Analysis of survival by tumor response.
       *Journal of Clinical Oncology* 1, 710-719.
    .. [2] Hernán, M. A. & Robins, J. M. (2016). Using big data to emulate a target trial when a randomized trial
       is not available. *American Journal of Epidemiology* 183, 758-764; Gran, J. M. et al. (2010). A sequential
       Cox approach for estimating the causal effect of treatment in the presence of time-dependent confounding.
       *Statistics in Medicine* 29, 2757-2768.

    Examples
    --------
    >>> from churnsurv.effects._simulate import simulate_offer
    >>> df = simulate_offer(3000, random_state=0)
    >>> res = landmark_effect(df, action_time="offer_time", landmarks=range(1, 13), horizon=12,
    ...                       duration="tenure", event="churned", strategy="per_protocol")
    >>> res.survival.query("measure == 'difference'")[["time", "estimate", "ci_lower", "ci_upper"]].round(3)
       time  estimate  ci_lower  ci_upper
    2  12.0     0.127     0.093     0.161

    The truth is 0.108 (``offer_truth(12)``); the naive ever/never comparison from tenure 0 says 0.424:

    >>> res.naive[["quantity", "time", "estimate"]].round(3)
       quantity  time  estimate
    0  survival  12.0     0.424
    1      rmst  12.0     2.941
    """
    owner = "landmark_effect"
    conf_level = check_conf_level(conf_level, owner)
    check_one_of(strategy, "strategy", owner, STRATEGIES)
    if not isinstance(action_time, str):
        raise param_error("action_time", owner, "a column name (str)", action_time, type_error=True)
    lms = np.atleast_1d(np.asarray(list(landmarks) if not np.isscalar(landmarks) else [landmarks], dtype=float))
    if lms.size == 0 or np.isnan(lms).any() or (lms < 0).any():
        raise param_error("landmarks", owner, "one or more non-negative times", landmarks)
    lms = np.unique(lms)
    horizon = _positive(horizon, "horizon", owner)
    if grace is None:
        grace = float(np.min(np.diff(lms))) if len(lms) > 1 else 1.0
    grace = _positive(grace, "grace", owner)
    tau = horizon if tau is None else _positive(tau, "tau", owner)
    if tau > horizon:
        raise param_error("tau", owner, f"at most the horizon ({horizon:g})", tau)
    times = np.atleast_1d(np.asarray([horizon] if times is None else times, dtype=float))
    if np.isnan(times).any() or (times < 0).any() or (times > horizon).any():
        raise param_error("times", owner, f"times in [0, horizon={horizon:g}]", times)
    times = np.unique(times)

    tenures, action = _read(data, action_time, frame_kwargs, owner)
    entry = np.asarray(tenures.column("entry"), dtype=float)
    exit_ = np.asarray(tenures.column("exit"), dtype=float)
    event = np.asarray(tenures.column("event"), dtype=bool)
    ids = np.asarray(tenures.column("id"))
    bad = np.isfinite(action) & (action < 0)
    if bad.any():
        raise data_error(action_time, "negative action times", bad, ids, "Action times are tenures (>= 0).")
    bad = np.isfinite(action) & (action > exit_)
    if bad.any():
        raise data_error(action_time, "an action after the customer's exit", bad, ids,
                         "An action can only be given to a current customer; check the action and exit times.")

    # ---- the stacked trials
    parts, trial_rows = [], []
    for s in lms:
        eligible = (entry <= s) & (exit_ > s) & ~(action < s)
        treated = eligible & (action >= s) & (action < s + grace)
        control = eligible & ~treated
        rows = np.flatnonzero(eligible)
        x = np.minimum(exit_[rows], s + horizon) - s
        dd = event[rows] & (exit_[rows] <= s + horizon)
        arm_t = treated[rows]
        if strategy == "per_protocol":
            switch = ~arm_t & np.isfinite(action[rows]) & (action[rows] - s < x)
            x = np.where(switch, action[rows] - s, x)
            dd = dd & ~switch
        parts.append(pd.DataFrame({"row": rows, "landmark": s, "treated": arm_t, "time": x, "event": dd}))
        trial_rows.append({"landmark": s, "n_eligible": int(eligible.sum()), "n_treated": int(treated.sum()),
                           "n_control": int(control.sum()), "events_treated": int(dd[arm_t].sum()),
                           "events_control": int(dd[~arm_t].sum())})
    st = pd.concat(parts, ignore_index=True)
    trials = pd.DataFrame(trial_rows)
    if not st["treated"].any() or st["treated"].all():
        raise ValueError(f"{owner}: no landmark has both treated and control customers (actions in "
                         f"[s, s + {grace:g}) for s in {list(lms)}); check the landmarks and the action times.")
    x, d, tr, cl = (st["time"].to_numpy(float), st["event"].to_numpy(bool), st["treated"].to_numpy(bool),
                    st["row"].to_numpy())
    survival, rmst = _pooled(x, d, tr, cl, times, tau, conf_level)

    # ---- each trial alone
    by_lm = []
    for s, g in st.groupby("landmark", sort=True):
        gt = g["treated"].to_numpy(bool)
        if gt.sum() < 2 or (~gt).sum() < 2:
            continue
        sv, rm = _pooled(g["time"].to_numpy(float), g["event"].to_numpy(bool), gt, g["row"].to_numpy(),
                         np.array([horizon]), tau, conf_level)
        for q, tab in (("survival", sv), ("rmst", rm)):
            r = tab[tab["measure"] == "difference"].iloc[0]
            by_lm.append({"landmark": s, "n_treated": int(gt.sum()), "n_control": int((~gt).sum()), "quantity": q,
                          "estimate": r["estimate"], "std_error": r["std_error"], "ci_lower": r["ci_lower"],
                          "ci_upper": r["ci_upper"]})
    by_landmark = pd.DataFrame(by_lm, columns=["landmark", "n_treated", "n_control", "quantity", "estimate",
                                               "std_error", "ci_lower", "ci_upper"])

    # ---- pooled curves (the package's Kaplan-Meier on the stacked rows)
    frame = pd.DataFrame({"time": x, "event": d, "arm": np.where(tr, "treated", "control")})
    km = KaplanMeier(conf_level=conf_level, min_at_risk=None).fit(frame, duration="time", event="event", by="arm")
    curves = km.survival_[["arm", "time", "n_at_risk", "estimate"]].copy()
    curves["arm"] = curves["arm"].astype(str)

    naive = _naive(entry, exit_, event, action, times, tau, conf_level)
    stacked = pd.DataFrame({"id": ids[st["row"].to_numpy()], "landmark": st["landmark"].to_numpy(),
                            "arm": np.where(tr, "treated", "control"), "time": x, "event": d})
    return LandmarkEffect(survival=survival, rmst=rmst, by_landmark=by_landmark, trials=trials, naive=naive,
                          curves=curves.reset_index(drop=True), stacked=stacked, strategy=strategy,
                          horizon=horizon, tau=tau, conf_level=conf_level)


def _positive(value, name, owner) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise param_error(name, owner, "a positive number", value, type_error=True)
    if not (np.isfinite(value) and value > 0):
        raise param_error(name, owner, "a positive number", value)
    return float(value)


def _read(data, action_time, frame_kwargs, owner):
    """The tenure table and the action times (NaN: never); refuses a tenure-banded label column."""
    if isinstance(data, Tenures):
        if action_time in data.segments:
            _refuse_tenure_bands(data, action_time, owner)
            raise TypeError(f"{owner}: {action_time!r} is a label column; pass the column of the tenure at which "
                            "the action was given (NaN: never). For an action randomised at sign-up use ab_test.")
        if action_time not in data.values:
            raise ValueError(f"{owner}: {action_time!r} is not a value column of the tenure table "
                             f"(values: {list(data.values)}).")
        if data.spells:
            raise ValueError(f"{owner} needs one row per customer (the tenure table has spells).")
        return data, np.asarray(data.column(action_time), dtype=float)
    if not isinstance(data, pd.DataFrame):
        raise param_error("data", owner, "a Tenures or a pandas DataFrame", type(data).__name__, type_error=True)
    if action_time not in data.columns:
        from churnsurv._validation import check_columns

        check_columns(data, [action_time])
    col = data[action_time]
    if not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
        kw = {k: v for k, v in frame_kwargs.items() if k not in ("segments", "values")}
        labels = Tenures.from_frame(data, segments=[action_time], **kw)
        _refuse_tenure_bands(labels, action_time, owner)
        raise TypeError(f"{owner}: column {action_time!r} holds labels, not times; pass the column of the tenure "
                        "at which the action was given (NaN: never). For an action randomised at sign-up use "
                        "ab_test.")
    tenures = Tenures.from_frame(data, **frame_kwargs)
    if tenures.spells:
        raise ValueError(f"{owner} needs one row per customer (spells=False).")
    return tenures, col.to_numpy(dtype=float, na_value=np.nan)


def _pooled(x, d, treated, cluster, times, tau, conf_level):
    """Per-arm survival at ``times`` and RMST at ``tau`` with cluster-robust SEs, and their contrasts."""
    res = {}
    n = len(x)
    psi_s_all = np.zeros((n, 2 * len(times)))
    psi_r_all = np.zeros((n, 2))
    for k, arm in enumerate((True, False)):
        m = treated == arm
        surv, rmst, psi_s, psi_r = _km_influence(x[m], d[m], times, tau)
        psi_s_all[m, k * len(times):(k + 1) * len(times)] = psi_s
        psi_r_all[m, k] = psi_r
        res[arm] = (surv, rmst)
    se_s = _cluster_se(psi_s_all, cluster)
    se_r = _cluster_se(psi_r_all, cluster)
    nt = len(times)
    # the contrasts: the influence of a difference is the difference of influences (shared customers)
    diff_psi = psi_s_all[:, :nt] - psi_s_all[:, nt:]
    s1, s0 = res[True][0], res[False][0]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_psi = psi_s_all[:, :nt] / s1 - psi_s_all[:, nt:] / s0
    dse = _cluster_se(diff_psi, cluster)
    lse = _cluster_se(np.nan_to_num(log_psi), cluster)
    surv_tab = _table(s1, se_s[:nt], s0, se_s[nt:], dse, lse, "survival", "time", times, conf_level)
    r1, r0 = res[True][1], res[False][1]
    rd = _cluster_se(psi_r_all[:, 0] - psi_r_all[:, 1], cluster)
    rl = _cluster_se(psi_r_all[:, 0] / r1 - psi_r_all[:, 1] / r0, cluster)
    rmst_tab = _table(np.array([r1]), se_r[:1], np.array([r0]), se_r[1:], rd, rl, "rmst", "tau",
                      np.array([tau]), conf_level)
    return surv_tab, rmst_tab


def _table(e1, s1, e0, s0, dse, lse, measure, tcol, tvals, conf_level) -> pd.DataFrame:
    per_arm = []
    for arm, e, s in (("control", e0, s0), ("treated", e1, s1)):
        lo, hi = normal_confint(e, s, conf_level)
        per_arm.append(pd.DataFrame({"arm": arm, "reference": None, tcol: tvals, "measure": measure,
                                     "estimate": e, "std_error": s, "ci_lower": lo, "ci_upper": hi,
                                     "p_value": np.nan}))
    c = _contrast_frame(e1 - e0, dse, e1, e0, lse, conf_level)
    c.insert(0, tcol, np.tile(tvals, 2))
    c.insert(0, "reference", "control")
    c.insert(0, "arm", "treated")
    return pd.concat([*per_arm, c], ignore_index=True)


def _naive(entry, exit_, event, action, times, tau, conf_level) -> pd.DataFrame:
    """Ever versus never treated, from tenure 0 (biased by immortal time; shown for contrast)."""
    ever = np.isfinite(action)
    keep = entry == 0
    if not keep.any() or not (ever & keep).any() or not (~ever & keep).any():
        return pd.DataFrame(columns=["quantity", "time", "estimate", "std_error", "ci_lower", "ci_upper"])
    x, d, tr = exit_[keep], event[keep], ever[keep]
    sv, rm = _pooled(x, d, tr, np.arange(len(x)), np.asarray(times, float), tau, conf_level)
    out = []
    for q, tab, tcol in (("survival", sv, "time"), ("rmst", rm, "tau")):
        r = tab[tab["measure"] == "difference"]
        out.append(pd.DataFrame({"quantity": q, "time": r[tcol].to_numpy(), "estimate": r["estimate"].to_numpy(),
                                 "std_error": r["std_error"].to_numpy(), "ci_lower": r["ci_lower"].to_numpy(),
                                 "ci_upper": r["ci_upper"].to_numpy()}))
    return pd.concat(out, ignore_index=True)
