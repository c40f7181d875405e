r"""Randomised retention actions (A/B holdouts): what the action did to tenure, churn causes and value.

:func:`ab_test` compares the arms of a randomised test (an offer against a holdout): survival at chosen times,
restricted mean lifetime (RMST) and the cumulative incidence of each cause, as differences and ratios with
intervals; the uplift by segment with a multiplicity adjustment; and the value difference through
:func:`churnsurv.value.lifetime_value`. Every number comes from the package's own estimators
(:class:`~churnsurv.KaplanMeier`, :class:`~churnsurv.AalenJohansen`, :func:`~churnsurv.logrank_test`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, param_error
from churnsurv.competing.aalen_johansen import AalenJohansen
from churnsurv.data.tenures import Tenures
from churnsurv.effects.landmark import _contrasts, _refuse_tenure_bands
from churnsurv.nonparametric.intervals import normal_confint, two_sided_p_value, z_value
from churnsurv.nonparametric.logrank import ADJUST, adjust_pvalues, logrank_test
from churnsurv.nonparametric.survival import KaplanMeier

__all__ = ["ABTest", "ab_test"]

_STAT_COLS = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]


@dataclass
class ABTest:
    """The result of :func:`ab_test`: tidy tables, one row per (arm, measure, time).

    Attributes
    ----------
    survival : pandas.DataFrame
        ``arm, reference, time, measure, estimate, std_error, ci_lower, ci_upper, p_value``. ``measure`` is
        ``"survival"`` (each arm's Kaplan-Meier estimate; ``reference`` empty), ``"difference"`` (arm minus
        reference) or ``"ratio"`` (arm over reference).
    rmst : pandas.DataFrame
        The same layout for the restricted mean lifetime up to ``tau`` (``measure`` ``"rmst"``, ``"difference"``,
        ``"ratio"``; column ``tau`` instead of ``time``).
    incidence : pandas.DataFrame or None
        The same layout per ``cause`` for the cumulative incidence (``measure`` ``"incidence"``, ``"difference"``,
        ``"ratio"``); None without causes.
    uplift : pandas.DataFrame or None
        Per segment of ``by``: differences (arm minus reference) of the RMST at ``tau`` (``metric="rmst"``) and
        of survival at each time (``metric="survival"``), with ``p_adjusted`` and the simultaneous interval
        ``ci_lower_adjusted, ci_upper_adjusted`` (see :func:`ab_test`); None without ``by``.
    value : pandas.DataFrame or None
        Lifetime value per arm (``measure="value"``) and its difference from the reference; None without
        ``margin``.
    tests : pandas.DataFrame
        ``test, cause, statistic, dof, p_value``: the log-rank test of the arms, the cause-specific log-rank
        tests and, with ``by``, the test of equal RMST uplift across segments (Cochran's Q).
    curves : pandas.DataFrame
        The Kaplan-Meier curve of each arm (``arm, time, n_at_risk, estimate, ci_lower, ci_upper``), for plots.
    arm, reference : str
        The arm column and the reference arm.
    tau : float
    times : numpy.ndarray
    conf_level : float
    """

    survival: pd.DataFrame
    rmst: pd.DataFrame
    incidence: pd.DataFrame | None
    uplift: pd.DataFrame | None
    value: pd.DataFrame | None
    tests: pd.DataFrame
    curves: pd.DataFrame
    arm: str
    reference: str
    tau: float
    times: np.ndarray
    conf_level: float
    n_customers: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """The contrasts only (differences and ratios of survival, RMST, incidence and value), one table.

        Returns
        -------
        pandas.DataFrame
            ``quantity, cause, arm, reference, time, measure, estimate, std_error, ci_lower, ci_upper, p_value``.
        """
        parts = []
        for name, tab in (("survival", self.survival), ("rmst", self.rmst), ("incidence", self.incidence),
                          ("value", self.value)):
            if tab is None:
                continue
            t = tab[tab["measure"].isin(["difference", "ratio"])].copy()
            t = t.rename(columns={"tau": "time"})
            t.insert(0, "quantity", name)
            if "cause" not in t.columns:
                t.insert(1, "cause", None)
            if "time" not in t.columns:
                t["time"] = np.nan
            parts.append(t[["quantity", "cause", "arm", "reference", "time", "measure", *_STAT_COLS]])
        return pd.concat(parts, ignore_index=True)

    def plot(self, ax=None, *, kind: str = "survival", ci: bool = True):
        """Survival curves of the arms (``kind="survival"``) or the difference from the reference
        (``kind="difference"``), with pointwise bands.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; default a new figure's.
        kind : {"survival", "difference"}
        ci : bool, default True
            Draw the pointwise confidence bands.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        check_one_of(kind, "kind", "ABTest.plot", ("survival", "difference"))
        if ax is None:
            _, ax = plt.subplots()
        cur = self.curves
        if kind == "survival":
            for a, g in cur.groupby("arm", sort=False, observed=True):
                line, = ax.step(g["time"], g["estimate"], where="post", label=str(a))
                if ci:
                    ax.fill_between(g["time"], g["ci_lower"], g["ci_upper"], step="post", alpha=0.2,
                                    color=line.get_color(), linewidth=0)
            ax.set_ylabel("Share still a customer")
            ax.set_ylim(0, 1.02)
        else:
            diff = _difference_curves(cur, self.reference, self.conf_level)
            for a, g in diff.groupby("arm", sort=False, observed=True):
                line, = ax.step(g["time"], g["estimate"], where="post", label=f"{a} - {self.reference}")
                if ci:
                    ax.fill_between(g["time"], g["ci_lower"], g["ci_upper"], step="post", alpha=0.2,
                                    color=line.get_color(), linewidth=0)
            ax.axhline(0.0, color="grey", linewidth=0.8)
            ax.set_ylabel("Difference in survival")
        ax.set_xlabel("Tenure")
        ax.legend(title=self.arm)
        return ax


# ---------------------------------------------------------------------- the function
def ab_test(data, *, arm: str, times=None, tau: float | None = None, reference=None, by=None, causes: bool = True,
            margin=None, discount_rate: float = 0.0, value_horizon: float | None = None, n_boot: int = 0,
            adjust: str = "holm", conf_level: float = 0.95, random_state=None, **frame_kwargs) -> ABTest:
    r"""Compare the arms of a randomised retention test (an A/B holdout).

    Parameters
    ----------
    data : Tenures or pandas.DataFrame
        One row per customer, with the arm as a segment column. A DataFrame is read with
        :meth:`Tenures.from_frame` and ``frame_kwargs`` (``duration``, ``event``, ``cause``...); ``arm`` and ``by``
        become segments and a column ``margin`` a value column.
    arm : str
        Column of the randomised arm (two or more levels).
    times : float or sequence of float, optional
        Times at which survival and cumulative incidence are compared; default ``tau``.
    tau : float, optional
        Horizon of the restricted mean; default the earliest time at which fewer than 10 customers of an arm are
        still at risk (see :meth:`KaplanMeier.rmst`).
    reference : str, optional
        The reference arm (the holdout); default the first level.
    by : str or list of str, optional
        Segment columns for the uplift by segment.
    causes : bool, default True
        Compare the cumulative incidence of each cause (when the records have causes).
    margin : float or str, optional
        Margin per period for the value difference (a number or a value column), passed to
        :func:`~churnsurv.value.lifetime_value` with ``discount_rate``, ``value_horizon`` and ``n_boot``.
    discount_rate : float, default 0
        Discount rate per period of the value.
    value_horizon : float, optional
        Horizon of the value (None: infinite, with the constant tail of ``lifetime_value``).
    n_boot : int, default 0
        Bootstrap replicates of the value (0: no interval for the value).
    adjust : {"holm", "bonferroni", "bh", "none"}, default "holm"
        Multiplicity adjustment of the uplift p-values across segments (see Notes).
    conf_level : float, default 0.95
    random_state : int or numpy.random.Generator, optional
        Seed of the value bootstrap.
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame` for a DataFrame.

    Returns
    -------
    ABTest
        Tables ``.survival``, ``.rmst``, ``.incidence``, ``.uplift``, ``.value``, ``.tests``, ``.curves`` and
        ``.plot(ax=)``.

    Raises
    ------
    ImmortalTimeError
        When the arm's levels occupy disjoint tenure bands (see :func:`~churnsurv.effects.landmark_effect`):
        such a column is not a randomised arm.

    Notes
    -----
    Arms are independent samples, so a difference :math:`\hat\theta_1 - \hat\theta_0` has standard error
    :math:`\sqrt{\mathrm{se}_1^2 + \mathrm{se}_0^2}` and a normal interval, and a ratio has, by the delta method
    on the log scale, :math:`\mathrm{se}(\log) = \sqrt{(\mathrm{se}_1/\hat\theta_1)^2 + (\mathrm{se}_0/\hat\theta_0)^2}`
    and the interval :math:`\exp(\log\hat\theta_1/\hat\theta_0 \pm z\,\mathrm{se}(\log))` [1]_. Survival uses the
    Greenwood variance, the restricted mean

    .. math::

        \hat\mu(\tau) = \int_0^\tau \hat S(u)\,du, \qquad
        \widehat{\mathrm{Var}}\,\hat\mu(\tau) = \sum_{t_j \le \tau} \Big(\int_{t_j}^{\tau} \hat S(u)\,du\Big)^2
        \frac{d_j}{n_j (n_j - d_j)}

    (as R ``survRM2::rmst2`` and ``print(survfit, rmean=)``) [2]_, and the cumulative incidence of a cause the
    Aalen-Johansen estimate with its infinitesimal-jackknife variance (R ``survfit``).

    **Uplift by segment.** Within each segment the arms are compared as above (randomisation holds within
    segments). The p-values of one family (one arm, metric and time, across segments) are adjusted with
    ``adjust`` (R ``p.adjust``); the simultaneous intervals ``ci_*_adjusted`` are Bonferroni intervals over the
    family (level :math:`1 - (1 - \text{conf\_level})/m` each, :math:`m` segments). Cochran's
    :math:`Q = \sum_k w_k (\hat\Delta_k - \bar\Delta)^2`, :math:`w_k = 1/\mathrm{se}_k^2`, tests whether the
    RMST uplift differs between segments (:math:`\chi^2_{m-1}`).

    **Value.** :func:`~churnsurv.value.lifetime_value` is computed per arm; its difference has the standard
    error :math:`\sqrt{\mathrm{se}_1^2 + \mathrm{se}_0^2}` of the independent per-arm bootstraps and a normal
    interval.

    References
    ----------
    .. [1] Royston, P. & Parmar, M. K. B. (2013). Restricted mean survival time: an alternative to the hazard
       ratio for the design and analysis of randomized trials with a time-to-event outcome. *BMC Medical
       Research Methodology* 13, 152.
    .. [2] Uno, H. et al. (2014). Moving beyond the hazard ratio in quantifying the between-group difference in
       survival analysis. *Journal of Clinical Oncology* 32, 2380-2385.

    Examples
    --------
    >>> from churnsurv.effects._simulate import simulate_ab_test
    >>> df = simulate_ab_test(2000, random_state=1)
    >>> res = ab_test(df, arm="arm", duration="tenure", event="churned", cause="cause", times=[12], tau=24)
    >>> res.rmst[["arm", "measure", "estimate"]].round(2)
             arm     measure  estimate
    0    control        rmst     14.99
    1  treatment        rmst     17.55
    2  treatment  difference      2.56
    3  treatment       ratio      1.17
    """
    owner = "ab_test"
    conf_level = check_conf_level(conf_level, owner)
    check_one_of(adjust, "adjust", owner, ADJUST)
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if not isinstance(arm, str):
        raise param_error("arm", owner, "the name of the arm column (str)", arm, type_error=True)
    if arm in by:
        raise ValueError(f"{owner}: the arm column {arm!r} cannot also be a 'by' segment.")
    tenures = _tenures(data, arm, by, margin, frame_kwargs, owner)
    _refuse_tenure_bands(tenures, arm, owner)
    arms = [str(a) for a in pd.Series(tenures.column(arm)).cat.categories]
    counts = pd.Series(tenures.column(arm)).value_counts()
    arms = [a for a in arms if counts.get(a, 0) > 0]
    if len(arms) < 2:
        raise ValueError(f"{owner}: the arm column {arm!r} has {len(arms)} level(s) with customers; a test needs "
                         "at least two arms.")
    ref = arms[0] if reference is None else str(reference)
    if ref not in arms:
        raise param_error("reference", owner, f"one of the arms {arms}", reference)
    others = [a for a in arms if a != ref]

    km = KaplanMeier(conf_level=conf_level).fit(tenures, by=arm)
    tau = float(km._default_tau()) if tau is None else float(tau)
    if not tau > 0:
        raise param_error("tau", owner, "a positive number", tau)
    times = np.atleast_1d(np.asarray([tau] if times is None else times, dtype=float))
    if times.ndim != 1 or np.isnan(times).any() or (times < 0).any():
        raise param_error("times", owner, "non-negative numbers", times)
    times = np.unique(times)

    # ---- survival at times
    pred = km.predict(times)
    pred[arm] = pred[arm].astype(str)
    survival = _arm_table(pred, arm, ref, others, "survival", "time", conf_level)

    # ---- restricted mean
    r = km.rmst(tau)
    r[arm] = r[arm].astype(str)
    rmst = _arm_table(r, arm, ref, others, "rmst", "tau", conf_level)

    # ---- cumulative incidence of each cause
    incidence = None
    if causes and tenures.causes:
        aj = AalenJohansen(conf_level=conf_level).fit(tenures, by=arm)
        ci = aj.predict(times)
        ci[arm] = ci[arm].astype(str)
        parts = []
        for cause in aj.causes_:
            t = _arm_table(ci[ci["cause"] == cause], arm, ref, others, "incidence", "time", conf_level)
            t.insert(0, "cause", cause)
            parts.append(t)
        incidence = pd.concat(parts, ignore_index=True)

    # ---- tests
    rows = []
    lr = logrank_test(tenures, by=arm)
    for _, row in lr.table.iterrows():
        rows.append({"test": row["test"], "cause": None, "statistic": row["statistic"], "dof": row["dof"],
                     "p_value": row["p_value"]})
    for cause in tenures.causes if causes else ():
        lr = logrank_test(tenures, by=arm, cause=cause)
        row = lr.table.iloc[0]
        rows.append({"test": f"cause-specific {row['test']}", "cause": cause, "statistic": row["statistic"],
                     "dof": row["dof"], "p_value": row["p_value"]})

    # ---- uplift by segment
    uplift = None
    if by:
        uplift, q_rows = _uplift(tenures, arm, by, ref, others, times, tau, conf_level, adjust)
        rows.extend(q_rows)
    tests = pd.DataFrame(rows, columns=["test", "cause", "statistic", "dof", "p_value"])

    # ---- value
    value = None
    if margin is not None:
        value = _value(tenures, arm, ref, others, margin, discount_rate, value_horizon, n_boot, conf_level,
                       random_state)

    curves = km.survival_[[arm, "time", "n_at_risk", "estimate", "std_error", "ci_lower", "ci_upper"]].rename(
        columns={arm: "arm"})
    curves["arm"] = curves["arm"].astype(str)
    n_customers = {str(k): float(v) for k, v in counts.items()}
    return ABTest(survival=survival, rmst=rmst, incidence=incidence, uplift=uplift, value=value, tests=tests,
                  curves=curves.reset_index(drop=True), arm=arm, reference=ref, tau=tau, times=times,
                  conf_level=conf_level, n_customers=n_customers)


# ---------------------------------------------------------------------- helpers
def _tenures(data, arm, by, margin, frame_kwargs, owner) -> Tenures:
    if isinstance(data, Tenures):
        if frame_kwargs:
            raise ValueError(f"{owner}: column keywords {sorted(frame_kwargs)} apply to a DataFrame, not a Tenures.")
        missing = [c for c in [arm, *by] if c not in data.segments]
        if missing:
            raise ValueError(f"{owner}: {missing} are not segment columns of the tenure table "
                             f"(segments: {list(data.segments)}).")
        return data
    if not isinstance(data, pd.DataFrame):
        raise param_error("data", owner, "a Tenures or a pandas DataFrame", type(data).__name__, type_error=True)
    kw = dict(frame_kwargs)
    segs = list(dict.fromkeys([*_listify(kw.pop("segments", ())), arm, *by]))
    vals = list(dict.fromkeys([*_listify(kw.pop("values", ())), *([margin] if isinstance(margin, str) else [])]))
    return Tenures.from_frame(data, segments=segs, values=vals, **kw)


def _listify(x) -> list:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _arm_table(frame: pd.DataFrame, arm: str, ref: str, others: list, measure: str, time_col: str,
               conf_level: float) -> pd.DataFrame:
    """Per-arm estimates plus the difference and ratio of each other arm against ``ref``, at each time."""
    f = frame.copy()
    f["time_key"] = f[time_col].to_numpy(float)
    base = f[f[arm] == ref].set_index("time_key")
    rows = [pd.DataFrame({"arm": f[arm].to_numpy(), "reference": None, time_col: f["time_key"].to_numpy(),
                          "measure": measure, "estimate": f["estimate"].to_numpy(float),
                          "std_error": f["std_error"].to_numpy(float), "ci_lower": f["ci_lower"].to_numpy(float),
                          "ci_upper": f["ci_upper"].to_numpy(float), "p_value": np.nan})]
    for a in others:
        g = f[f[arm] == a].set_index("time_key")
        b = base.loc[g.index]
        tab = _contrasts(g["estimate"].to_numpy(float), g["std_error"].to_numpy(float),
                         b["estimate"].to_numpy(float), b["std_error"].to_numpy(float), conf_level)
        tab.insert(0, time_col, np.tile(g.index.to_numpy(float), 2))
        tab.insert(0, "reference", ref)
        tab.insert(0, "arm", a)
        rows.append(tab)
    out = pd.concat(rows, ignore_index=True)
    return out


def _uplift(tenures, arm, by, ref, others, times, tau, conf_level, adjust):
    km = KaplanMeier(conf_level=conf_level, min_at_risk=None).fit(tenures, by=[*by, arm])
    pieces = {"rmst": km.rmst(tau), "survival": km.predict(times)}
    out = []
    for metric, tab in pieces.items():
        tcol = "tau" if metric == "rmst" else "time"
        tab = tab.copy()
        tab[arm] = tab[arm].astype(str)
        for b in by:
            tab[b] = tab[b].astype(str)
        key = [*by, tcol]
        base = tab[tab[arm] == ref].set_index(key)
        for a in others:
            g = tab[tab[arm] == a].set_index(key)
            common = g.index.intersection(base.index)
            g, b0 = g.loc[common], base.loc[common]
            diff = g["estimate"].to_numpy(float) - b0["estimate"].to_numpy(float)
            se = np.sqrt(g["std_error"].to_numpy(float) ** 2 + b0["std_error"].to_numpy(float) ** 2)
            lo, hi = normal_confint(diff, se, conf_level)
            with np.errstate(divide="ignore", invalid="ignore"):
                p = two_sided_p_value(diff / se)
            t = common.to_frame(index=False).rename(columns={tcol: "time"})
            t.insert(len(by), "arm", a)
            t.insert(len(by) + 1, "reference", ref)
            t.insert(len(by) + 2, "metric", metric)
            t["estimate"], t["std_error"], t["ci_lower"], t["ci_upper"], t["p_value"] = diff, se, lo, hi, p
            out.append(t)
    up = pd.concat(out, ignore_index=True)
    up["p_adjusted"] = np.nan
    up["ci_lower_adjusted"] = np.nan
    up["ci_upper_adjusted"] = np.nan
    q_rows = []
    for (a, metric, _t), g in up.groupby(["arm", "metric", "time"], sort=False):
        idx = g.index
        up.loc[idx, "p_adjusted"] = adjust_pvalues(g["p_value"].to_numpy(), adjust)
        m = int(np.isfinite(g["std_error"]).sum())
        z = z_value(1.0 - (1.0 - conf_level) / max(m, 1))
        up.loc[idx, "ci_lower_adjusted"] = g["estimate"] - z * g["std_error"]
        up.loc[idx, "ci_upper_adjusted"] = g["estimate"] + z * g["std_error"]
        if metric == "rmst":
            ok = np.isfinite(g["std_error"].to_numpy()) & (g["std_error"].to_numpy() > 0)
            d, s = g["estimate"].to_numpy()[ok], g["std_error"].to_numpy()[ok]
            if len(d) >= 2:
                from scipy.special import chdtrc

                w = 1.0 / s ** 2
                dbar = np.sum(w * d) / np.sum(w)
                q = float(np.sum(w * (d - dbar) ** 2))
                q_rows.append({"test": f"heterogeneity of rmst uplift ({a} vs {ref})", "cause": None,
                               "statistic": q, "dof": len(d) - 1, "p_value": float(chdtrc(len(d) - 1, q))})
    return up, q_rows


def _value(tenures, arm, ref, others, margin, discount_rate, horizon, n_boot, conf_level, random_state):
    from churnsurv.value.lifetime import lifetime_value

    v = lifetime_value(tenures, by=arm, margin=margin, discount_rate=discount_rate, horizon=horizon, n_boot=n_boot,
                       conf_level=conf_level, random_state=random_state)
    v[arm] = v[arm].astype(str)
    if "std_error" not in v.columns:
        v["std_error"] = np.nan
        v["ci_lower"] = np.nan
        v["ci_upper"] = np.nan
    per_arm = pd.DataFrame({"arm": v[arm].to_numpy(), "reference": None, "measure": "value",
                            "estimate": v["estimate"].to_numpy(float), "std_error": v["std_error"].to_numpy(float),
                            "ci_lower": v["ci_lower"].to_numpy(float), "ci_upper": v["ci_upper"].to_numpy(float),
                            "p_value": np.nan})
    base = v.set_index(arm).loc[ref]
    rows = [per_arm]
    for a in others:
        g = v.set_index(arm).loc[a]
        diff = float(g["estimate"] - base["estimate"])
        se = float(np.sqrt(g["std_error"] ** 2 + base["std_error"] ** 2))
        lo, hi = normal_confint(diff, se, conf_level)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = float(two_sided_p_value(diff / se))
        rows.append(pd.DataFrame({"arm": [a], "reference": [ref], "measure": ["difference"], "estimate": [diff],
                                  "std_error": [se], "ci_lower": [float(lo)], "ci_upper": [float(hi)],
                                  "p_value": [p]}))
    out = pd.concat(rows, ignore_index=True)
    out.attrs.update(v.attrs)
    return out


def _difference_curves(curves: pd.DataFrame, ref: str, conf_level: float) -> pd.DataFrame:
    """Pointwise difference of each arm's Kaplan-Meier curve from the reference on the union of their times."""
    base = curves[curves["arm"] == ref]
    out = []
    for a, g in curves.groupby("arm", sort=False):
        if a == ref:
            continue
        grid = np.union1d(base["time"].to_numpy(float), g["time"].to_numpy(float))
        grid = grid[grid <= min(base["time"].max(), g["time"].max())]

        def at(frame, col, grid=grid):
            pos = np.searchsorted(frame["time"].to_numpy(float), grid, side="right") - 1
            return frame[col].to_numpy(float)[np.clip(pos, 0, None)]

        d = at(g, "estimate") - at(base, "estimate")
        se = np.sqrt(np.nan_to_num(at(g, "std_error")) ** 2 + np.nan_to_num(at(base, "std_error")) ** 2)
        lo, hi = normal_confint(d, se, conf_level)
        out.append(pd.DataFrame({"arm": a, "time": grid, "estimate": d, "ci_lower": lo, "ci_upper": hi}))
    return pd.concat(out, ignore_index=True)
