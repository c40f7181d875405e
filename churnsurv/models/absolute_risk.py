"""Absolute risk by cause from cause-specific Cox models: who leaves, for which reason, by when.

A :class:`~churnsurv.CauseSpecificCox` fit gives one hazard model per cause. For a customer profile the
cumulative incidence of cause :math:`k` (the probability of having left *for k* by tenure :math:`t`) combines
all of them: the customer must still be here just before :math:`s` (every cause's hazard) and then leave for
:math:`k` at :math:`s`. :func:`cause_specific_risk` returns these curves, with influence-function intervals, as
a tidy frame; :func:`plot_cause_specific_risk` draws one profile's curves.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of, param_error
from churnsurv.models.formula import _encode_profiles

__all__ = ["STILL_CUSTOMER", "cause_specific_risk", "plot_cause_specific_risk"]

#: The ``cause`` label of the all-cause survival rows (the probability of still being a customer).
STILL_CUSTOMER = "(none: still a customer)"

_OWNER = "cause_specific_risk"
_METHODS = ("influence", "none")
_CHUNK = 500_000  # cells of one (customers x event times) block of the influence-function computation


def cause_specific_risk(model, profiles, times=None, *, conf_level: float = 0.95,
                        method: str = "influence") -> pd.DataFrame:
    """Cumulative incidence of each cause, and the all-cause survival, for covariate profiles.

    Parameters
    ----------
    model : CauseSpecificCox
        A fitted model with one Cox model per cause. Every cause of the tenure table must have its model
        (fit with ``causes=None``): the chance of still being a customer depends on all of them.
    profiles : pandas.DataFrame or dict
        One row per profile, with the raw covariate columns of the fit (e.g. ``Contract`` and
        ``Monthly Charge``); a dict gives one profile. The index labels the profiles. Not modified.
    times : array-like of float, optional
        Tenures at which to evaluate; default 0 and every distinct event time of the fit.
    conf_level : float, default 0.95
        Confidence level of the pointwise intervals.
    method : {"influence", "none"}, default "influence"
        ``"influence"``: standard errors from the influence functions of the Cox estimates (as
        riskRegression's ``predict.CauseSpecificCox(se = TRUE)``), intervals on the log-log scale.
        ``"none"``: point estimates only (``std_error``, ``ci_lower`` and ``ci_upper`` are NaN).

    Returns
    -------
    pandas.DataFrame
        One row per (profile, cause, time): ``profile`` (the index label of ``profiles``), the profile's covariate
        columns, ``cause, time, estimate, std_error, ci_lower, ci_upper``. The causes come in the model's order,
        followed by the all-cause survival, whose ``cause`` is :data:`STILL_CUSTOMER`
        (``"(none: still a customer)"``); at each time the estimates of a profile sum to 1. Times after the
        last observed exit of the fit get NaN: the Cox baseline hazard says nothing past the data.

    Raises
    ------
    ValueError
        When a cause of the data has no model, the fit used case weights, or ``times`` are negative or missing.
    TenureDataError
        When a profile lacks a covariate column, or has a missing value or a level not seen in the fit.

    See Also
    --------
    churnsurv.CauseSpecificCox : the cause-specific hazard models.
    churnsurv.FineGray : models the cumulative incidence of one cause directly.
    plot_cause_specific_risk : draws one profile's curves.

    Notes
    -----
    With :math:`\\hat\\Lambda_{k0}` the baseline cumulative hazard of cause :math:`k` (Breslow's estimator with
    Efron's correction at tied times, as ``survival::basehaz`` and riskRegression for a Cox model fitted with
    Efron's ties) and :math:`d\\hat\\Lambda_k(s \\mid x) = e^{x^\\top\\hat\\beta_k} d\\hat\\Lambda_{k0}(s)`,

    .. math::

        \\hat F_k(t \\mid x) = \\sum_{s \\le t} \\hat S(s- \\mid x)\\, d\\hat\\Lambda_k(s \\mid x), \\qquad
        \\hat S(t \\mid x) = \\prod_{s \\le t} \\Big(1 - \\sum_j d\\hat\\Lambda_j(s \\mid x)\\Big),

    the sums and products running over the event times of any cause (the product-limit survival, R's
    ``product.limit = TRUE``, the default of riskRegression's ``predict.CauseSpecificCox`` and
    ``predictRisk``) [1]_, [2]_. The standard error is :math:`\\sqrt{\\sum_i \\mathrm{IF}_i^2}`, where
    :math:`\\mathrm{IF}_i` is customer :math:`i`'s influence on :math:`\\hat F_k(t \\mid x)` through the
    coefficients and the baseline hazards of every cause, as in Ozenne et al. [3]_ (their formulas, with the
    at-risk indicator :math:`\\text{entry}_i < s \\le \\text{exit}_i` so that left truncation is handled; the
    rows of a customer with several spells are summed). The interval is on the log-log scale,
    :math:`\\hat F^{\\exp(\\pm z\\, \\mathrm{se} / (\\hat F \\log \\hat F))}`, so it stays inside [0, 1], as
    riskRegression's default ``absRisk.transform = "loglog"``; the survival rows use the same transformation.

    Agreement with R (``tests/reference/make_reference_csc_risk.R``): estimates, standard errors and intervals
    equal riskRegression's ``predict(CSC(...), se = TRUE)`` (tested at a relative tolerance of 1e-7, on the
    monthly Maven data, which has heavy ties, and on continuous simulated data); with left truncation, which
    ``CSC`` rejects, the point estimates equal ``survival::coxph`` + ``survfit`` per cause combined by the product
    limit. At tied event times the coefficient influence function follows riskRegression (a compensator of
    :math:`1/S^{(0)}` per distinct event time): in a simulation with six distinct times its variance was within
    4% of the Monte Carlo variance of :math:`\\hat\\beta`, while the Breslow weight :math:`d/S^{(0)}` was 19%
    too small.

    References
    ----------
    .. [1] Andersen, P. K., Borgan, O., Gill, R. D. and Keiding, N. (1993). Statistical Models Based on Counting
       Processes. Springer, section VII.2.
    .. [2] Cheng, S. C., Fine, J. P. and Wei, L. J. (1998). Prediction of cumulative incidence function under
       the proportional hazards model. Biometrics 54, 219-228.
    .. [3] Ozenne, B., Sorensen, A. L., Scheike, T., Torp-Pedersen, C. and Gerds, T. A. (2017). riskRegression:
       predicting the risk of an event using Cox regression models. The R Journal 9(2), 440-460.

    Examples
    --------
    >>> import pandas as pd
    >>> import churnsurv as cs
    >>> from churnsurv.models.absolute_risk import cause_specific_risk
    >>> t = cs.datasets.load_maven_telco(truncate=False)
    >>> m = cs.CauseSpecificCox().fit(t, covariates=["Contract"], reference={"Contract": "Month-to-Month"})
    >>> risk = cause_specific_risk(m, pd.DataFrame({"Contract": ["Month-to-Month"]}), times=[12])
    >>> bool(abs(risk["estimate"].sum() - 1) < 1e-12)
    True
    """
    return _risk_table(model, profiles, times, conf_level=conf_level, method=method)


def plot_cause_specific_risk(result: pd.DataFrame, profile=None, *, kind: str = "stacked", ci: bool = True,
                             ax=None):
    """Draw one profile's cumulative incidence curves (stacked areas or lines).

    Parameters
    ----------
    result : pandas.DataFrame
        The output of :func:`cause_specific_risk`.
    profile : label, optional
        The ``profile`` to draw; may be omitted when ``result`` holds one profile.
    kind : {"stacked", "lines"}, default "stacked"
        ``"stacked"``: the causes stacked from the bottom and the share still a customer on top, so each
        tenure's column adds up to 1. ``"lines"``: one step line per cause (and the survival), with its interval.
    ci : bool, default True
        Shade the pointwise intervals (``kind="lines"`` only).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    owner = "plot_cause_specific_risk"
    check_one_of(kind, "kind", owner, ("stacked", "lines"))
    needed = {"profile", "cause", "time", "estimate", "ci_lower", "ci_upper"}
    if not isinstance(result, pd.DataFrame) or not needed <= set(result.columns):
        raise param_error("result", owner, "the DataFrame returned by cause_specific_risk", type(result).__name__,
                          type_error=True)
    labels = list(dict.fromkeys(result["profile"]))
    if profile is None:
        if len(labels) != 1:
            raise ValueError(f"The result holds {len(labels)} profiles ({labels[:5]}): choose one with profile=.")
        profile = labels[0]
    elif profile not in labels:
        raise param_error("profile", owner, f"one of the result's profiles {labels[:5]}", profile)
    part = result[result["profile"] == profile].dropna(subset=["estimate"])
    if ax is None:
        _, ax = plt.subplots()
    causes = [c for c in dict.fromkeys(part["cause"]) if c != STILL_CUSTOMER]
    if kind == "stacked":
        bottom = None
        for cause in [*causes, STILL_CUSTOMER]:
            rows = part[part["cause"] == cause].sort_values("time")
            if rows.empty:
                continue
            t, est = rows["time"].to_numpy(float), rows["estimate"].to_numpy(float)
            low = np.zeros_like(est) if bottom is None else bottom
            ax.fill_between(t, low, low + est, step="post", label=str(cause), alpha=0.8)
            bottom = low + est
        ax.set_ylim(0, 1)
    else:
        for cause in [*causes, STILL_CUSTOMER]:
            rows = part[part["cause"] == cause].sort_values("time")
            if rows.empty:
                continue
            (line,) = ax.step(rows["time"], rows["estimate"], where="post", label=str(cause))
            if ci and rows["ci_lower"].notna().any():
                ax.fill_between(rows["time"], rows["ci_lower"], rows["ci_upper"], step="post",
                                color=line.get_color(), alpha=0.2)
    ax.set_xlabel("tenure")
    ax.set_ylabel("probability")
    ax.set_title(f"Absolute risk by cause: profile {profile}")
    ax.legend(title="cause")
    return ax


# ====================================================================== computations
def _risk_table(model, profiles, times, *, conf_level=0.95, method="influence") -> pd.DataFrame:
    """The computation behind :func:`cause_specific_risk`."""
    from churnsurv.models.cox import CauseSpecificCox

    if not isinstance(model, CauseSpecificCox):
        raise param_error("model", _OWNER, "a fitted churnsurv.CauseSpecificCox", type(model).__name__,
                          type_error=True)
    check_is_fitted(model, "hazard_ratios_")
    conf = check_conf_level(conf_level, _OWNER)
    check_one_of(method, "method", _OWNER, _METHODS)
    rd = getattr(model, "_risk_data", None)
    if rd is None:
        raise ValueError("This CauseSpecificCox was fitted by an older churnsurv; fit it again.")
    if rd["weighted"]:
        raise ValueError("cause_specific_risk does not support models fitted with case weights (the influence "
                         "functions assume one row per observed customer); fit the model without weights.")
    causes = list(model.n_events_)
    missing = [c for c in rd["all_causes"] if c not in causes]
    if missing:
        raise ValueError(
            f"The model has no hazard model for the causes {missing}, so the chance of still being a customer "
            f"cannot be computed. Fit CauseSpecificCox with causes=None (every cause), or merge these causes into "
            f"one (e.g. 'Other') in the tenure table first.")

    if isinstance(profiles, dict):
        profiles = pd.DataFrame([profiles])
    if not isinstance(profiles, pd.DataFrame):
        raise param_error("profiles", _OWNER, "a pandas DataFrame (one row per profile) or a dict",
                          type(profiles).__name__, type_error=True)
    if len(profiles) == 0:
        raise param_error("profiles", _OWNER, "a DataFrame with at least one row", "an empty DataFrame")
    design = model._design
    xp = _encode_profiles(profiles, design)
    raw_cols = [k[0] for k in design.kinds] if design.kinds[0][1] != "matrix" else list(design.terms)

    x, entry, exit_ = rd["x"], rd["entry"], rd["exit"]
    any_event = np.zeros(len(exit_), bool)
    for c in causes:
        any_event |= rd["cause_event"][c]
    grid = np.unique(exit_[any_event])
    max_exit = float(exit_.max())
    if times is None:
        times_arr = np.concatenate([[0.0], grid])
    else:
        times_arr = _check_times(times)

    fits = [_cause_fit(model.coef_[c].to_numpy(float), model.variance_[c].to_numpy(float), rd["cause_event"][c], x,
                       entry, exit_, grid) for c in causes]
    beta = [f["beta"] for f in fits]
    # hazards of each profile: h[k] is (n_profiles, m)
    ex = [np.exp(xp @ b) for b in beta]
    h = [ex[k][:, None] * fits[k]["dL0"][None, :] for k in range(len(causes))]
    total = np.sum(h, axis=0)
    surv = np.cumprod(1.0 - total, axis=1)
    surv_minus = np.hstack([np.ones((len(xp), 1)), surv[:, :-1]])
    cif = [np.cumsum(surv_minus * hk, axis=1) for hk in h]

    idx = np.searchsorted(grid, times_arr, side="right") - 1  # last event time <= t (-1: before the first)
    beyond = times_arr > max_exit

    def at(curves, before):
        out = np.where(idx[None, :] >= 0, curves[:, np.maximum(idx, 0)], before)
        out[:, beyond] = np.nan
        return out

    estimates = [at(c, 0.0) for c in cif] + [at(surv, 1.0)]
    if method == "influence":
        ses = _influence_se(fits, x, entry, exit_, rd["id"], grid, xp, ex, h, surv, surv_minus, idx)
        ses = [np.where(beyond[None, :], np.nan, s) for s in ses]
    else:
        ses = [np.full_like(e, np.nan) for e in estimates]

    from scipy.special import ndtri

    z = ndtri(0.5 + conf / 2)
    labels = [*causes, STILL_CUSTOMER]
    frames = []
    prof_index = list(profiles.index)
    for p, label in enumerate(prof_index):
        for k, cause in enumerate(labels):
            est, se = estimates[k][p], ses[k][p]
            lower, upper = _loglog_ci(est, se, z)
            block = {"profile": label}
            for col in raw_cols:
                block[col] = profiles[col].iloc[p]
            block.update({"cause": cause, "time": times_arr, "estimate": est, "std_error": se,
                          "ci_lower": lower, "ci_upper": upper})
            frames.append(pd.DataFrame(block))
    table = pd.concat(frames, ignore_index=True)
    return table


def _check_times(times) -> np.ndarray:
    if isinstance(times, numbers.Real) and not isinstance(times, bool):
        times = [times]
    try:
        arr = np.asarray(times, dtype=float).ravel()
    except (TypeError, ValueError) as err:
        raise param_error("times", _OWNER, "an array of tenures >= 0", times, type_error=True) from err
    bad = ~np.isfinite(arr) | (arr < 0)
    if arr.size == 0 or bad.any():
        raise param_error("times", _OWNER, f"a non-empty array of finite tenures >= 0 ({int(bad.sum())} invalid)",
                          times if np.size(times) <= 10 else f"{arr[bad][:5].tolist()}...")
    return arr


def _loglog_ci(est, se, z):
    """Pointwise interval on the log-log scale: est ** exp(+-z se / (est log est)) (riskRegression's "loglog")."""
    est = np.asarray(est, float)
    se = np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = se / (-est * np.log(est))
        lower = est ** np.exp(z * scaled)
        upper = est ** np.exp(-z * scaled)
    degenerate = (est <= 0) | (est >= 1) | (se == 0)
    lower = np.where(degenerate, est, lower)
    upper = np.where(degenerate, est, upper)
    nan = np.isnan(est) | np.isnan(se)
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper)


def _cause_fit(beta: np.ndarray, vcov: np.ndarray, ev: np.ndarray, x: np.ndarray, entry: np.ndarray,
               exit_: np.ndarray, grid: np.ndarray) -> dict:
    """Baseline hazard (Efron) of one cause on the common grid of event times, and the risk-set sums."""
    m = len(grid)
    e = np.exp(x @ beta)
    # first grid index with u > entry; entry 0 is observed from before the origin (at risk at u = 0 too)
    ja = np.where(entry <= 0, 0, np.searchsorted(grid, entry, side="right"))
    jt = np.searchsorted(grid, exit_, side="right")  # one past the last grid index with u <= exit
    # S0, S1 over the risk set {entry < u <= exit}: difference arrays on [ja, jt)
    ok = ja < jt
    diff0 = np.zeros(m + 1)
    np.add.at(diff0, ja[ok], e[ok])
    np.add.at(diff0, jt[ok], -e[ok])
    s0 = np.cumsum(diff0)[:m]
    diff1 = np.zeros((m + 1, x.shape[1]))
    np.add.at(diff1, ja[ok], e[ok, None] * x[ok])
    np.add.at(diff1, jt[ok], -e[ok, None] * x[ok])
    s1 = np.cumsum(diff1, axis=0)[:m]
    jev = jt[ev] - 1  # grid index of each event of this cause
    d = np.bincount(jev, minlength=m).astype(float)
    tied = np.bincount(jev, weights=e[ev], minlength=m)
    with np.errstate(divide="ignore", invalid="ignore"):
        dl0 = np.where(d > 0, 1.0 / s0, 0.0)
        ebar = np.where(s0[:, None] > 0, s1 / s0[:, None], 0.0)
    for j in np.flatnonzero(d > 1):  # Efron: sum_{l < d} 1 / (S0 - l/d * sum of the tied events' risk)
        frac = np.arange(int(d[j])) / d[j]
        dl0[j] = np.sum(1.0 / (s0[j] - frac * tied[j]))
    return {"beta": beta, "vcov": vcov, "e": e, "ja": ja, "jt": jt, "ev": ev, "s0": s0, "ebar": ebar, "d": d,
            "dL0": dl0, "L0": np.cumsum(dl0)}


def _influence_se(fits, x, entry, exit_, ids, grid, xp, ex, h, surv, surv_minus, idx):
    """Standard errors sqrt(sum_i IF_i^2) of every cause's CIF and of the survival at the grid indices ``idx``."""
    n, m = len(exit_), len(grid)
    n_prof, n_causes = len(xp), len(fits)
    # per cause: the coefficient influence functions (n x p)
    ifbeta = []
    for f in fits:
        s0, ebar, d = f["s0"], f["ebar"], f["d"]
        # the score compensator adds 1/S0 per distinct event time, as riskRegression's IFbeta_cpp (see Notes)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(d > 0, 1.0 / s0, 0.0)
        g_cum = np.concatenate([[0.0], np.cumsum(g)])
        ge_cum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(g[:, None] * ebar, axis=0)])
        ja, jt, e, ev = f["ja"], f["jt"], f["e"], f["ev"]
        lo = np.minimum(ja, jt)
        score = -e[:, None] * (x * (g_cum[jt] - g_cum[lo])[:, None] - (ge_cum[jt] - ge_cum[lo]))
        score[ev] += x[ev] - ebar[jt[ev] - 1]
        ifbeta.append(score @ f["vcov"])
        with np.errstate(divide="ignore", invalid="ignore"):
            f["c"] = np.where(s0 > 0, f["dL0"] / s0, 0.0)  # dLambda0 / S0
        f["c_cum"] = np.concatenate([[0.0], np.cumsum(f["c"])])
        f["A"] = np.cumsum(ebar * f["dL0"][:, None], axis=0)  # (m, p)

    # only the event times up to the last requested time matter from here on
    m = max(int(idx.max()) + 1, 1)
    surv, surv_minus = surv[:, :m], surv_minus[:, :m]
    h = [hk[:, :m] for hk in h]
    sl = [{"c": f["c"][:m], "c_cum": f["c_cum"][:m + 1], "A": f["A"][:m], "L0": f["L0"][:m], "dL0": f["dL0"][:m],
           "Edl0": f["ebar"][:m] * f["dL0"][:m, None]} for f in fits]

    # customers with several rows (spells): their rows' influence functions add up
    codes, _ = pd.factorize(pd.Series(ids))
    order = np.argsort(codes, kind="stable")
    codes_sorted = codes[order]
    step = max(1, _CHUNK // max(m, 1))
    starts = [0]
    while starts[-1] + step < n:
        cut = starts[-1] + step
        while cut < n and codes_sorted[cut] == codes_sorted[cut - 1]:
            cut += 1
        if cut >= n:
            break
        starts.append(cut)
    bounds = [*starts, n]

    n_t = len(idx)
    sumsq = np.zeros((n_causes + 1, n_prof, n_t))
    cols = np.arange(m)
    take = np.maximum(idx, 0)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        rows = order[a:b]
        group = codes_sorted[a:b] - codes_sorted[a]
        n_g = int(group[-1]) + 1
        # per cause: IF of the baseline cumulative hazard and of its increments, (rows x m)
        ifl0, ifdl0 = [], []
        for k, f in enumerate(fits):
            ja, jt, e, ev = f["ja"][rows], f["jt"][rows], f["e"][rows], f["ev"][rows]
            ib = ifbeta[k][rows]
            g = sl[k]
            upper = np.minimum(cols[None, :] + 1, jt[:, None])
            low = np.minimum(ja, m)
            comp = np.where(upper > ja[:, None], g["c_cum"][upper] - g["c_cum"][low][:, None], 0.0)
            jump = np.zeros((len(rows), m))
            evr = np.flatnonzero(ev & (jt <= m))
            jump[evr, jt[evr] - 1] = 1.0 / f["s0"][jt[evr] - 1]
            at_risk = (cols[None, :] >= ja[:, None]) & (cols[None, :] < jt[:, None])
            ifdl0.append(-(ib @ g["Edl0"].T) - e[:, None] * at_risk * g["c"][None, :] + jump)
            ifl0.append(-(ib @ g["A"].T) - e[:, None] * comp + np.cumsum(jump, axis=1))
        for p in range(n_prof):
            xrow = xp[p]
            if_all = np.zeros((len(rows), m))  # IF of the all-cause cumulative hazard of profile p
            for k in range(n_causes):
                if_all += ex[k][p] * (ifl0[k] + (ifbeta[k][rows] @ xrow)[:, None] * sl[k]["L0"][None, :])
            if_all_minus = np.hstack([np.zeros((len(rows), 1)), if_all[:, :-1]])
            blocks = []
            for k in range(n_causes):
                if_h = ex[k][p] * (ifdl0[k] + (ifbeta[k][rows] @ xrow)[:, None] * sl[k]["dL0"][None, :])
                term = surv_minus[p][None, :] * (if_h - if_all_minus * h[k][p][None, :])
                blocks.append(np.cumsum(term, axis=1)[:, take])
            blocks.append((-surv[p][None, :] * if_all)[:, take])
            for k, blk in enumerate(blocks):
                if n_g < len(rows):
                    agg = np.zeros((n_g, blk.shape[1]))
                    np.add.at(agg, group, blk)
                    blk = agg
                sumsq[k, p] += np.sum(blk**2, axis=0)
    se = np.sqrt(sumsq)
    se[:, :, idx < 0] = 0.0
    return [se[k] for k in range(n_causes + 1)]
