r"""The retention claims of the literature, tested on the user's data; the leaky bucket; the whale curve.

* :func:`leaky_bucket`: the base, revenue and profit projected from an acquisition inflow and the fitted
  survival curves (cohort convolution), and its steady state (inflow x expected periods; inflow / churn when the
  churn is constant);
* :func:`whale_curve`: cumulative profit against customers ranked by profit, the share that makes 80% of the
  profit and the peak;
* :func:`value_sensitivity`: the lifetime value under low and high settings of the discount rate, the margin,
  the tail family and retention (the tornado);
* :func:`retention_claims`: one table, claim by claim: the literature's figure, the figure on these data with its
  interval, and the assumptions used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, param_error
from churnsurv.value._hazards import _percentile, _surv_at
from churnsurv.value._sources import (
    _bootstrap_draws,
    _check_bootstrap,
    _check_real,
    _margin_column,
    _margins,
    _read_source,
    value_columns,
)
from churnsurv.value.at_risk import _at_risk_arrays
from churnsurv.value.lifetime import _compute, _settings, _tail_for, lifetime_value_range
from churnsurv.value.residual import _records_source
from churnsurv.value.scenarios import _Q, _check_spec, _run, _Spec, _total

__all__ = ["LeakyBucket", "WhaleCurve", "leaky_bucket", "retention_claims", "value_sensitivity", "whale_curve"]


# ============================================================================ leaky bucket
@dataclass(frozen=True)
class LeakyBucket:
    """Result of :func:`leaky_bucket`.

    Attributes
    ----------
    projection : pandas.DataFrame
        ``[*by, period, time, current, new, base, revenue, profit]`` per segment and period (the start of each
        period), with ``base_ci_lower``, ``base_ci_upper``, ``revenue_ci_lower``, ``revenue_ci_upper``,
        ``profit_ci_lower``, ``profit_ci_upper`` (NaN without a bootstrap). ``current`` is the expected number of
        today's customers still there, ``new`` the customers acquired since and still there.
    steady_state : pandas.DataFrame
        ``[*by, inflow, expected_periods, churn, base, base_ci_lower, base_ci_upper, revenue, profit]``: the base
        the inflow sustains, ``inflow x expected_periods``; ``churn`` is the per-period churn of the tail (the
        constant churn beyond the data), for comparison with ``inflow / churn``.
    """

    projection: pd.DataFrame
    steady_state: pd.DataFrame
    conf_level: float = 0.95
    n_boot: int = 0
    time_unit: str = "month"
    steady_state_replicates: np.ndarray | None = None


def _per_segment(x, labels, name, owner) -> np.ndarray:
    out = []
    for lab in labels:
        if isinstance(x, dict):
            key = lab[0] if len(lab) == 1 else lab
            if key not in x:
                raise param_error(name, owner, "a number or a dict with every segment", f"a dict without {key!r}")
            out.append(_check_real(x[key], name, owner, low=0.0, expected="a float >= 0"))
        else:
            out.append(_check_real(x, name, owner, low=0.0, expected="a float >= 0 (or a dict per segment)"))
    return np.array(out)


def _bucket_one(curve, tail, inflow, margin_scale, periods, period, current_exit, current_weight, current_margin,
                acquisition_cost):
    """Arrays over periods 0..periods: current, new, base, revenue, profit; and the steady state."""
    r = tail.retention
    a = np.arange(periods + 1)
    s = _surv_at(curve, r, a * period, period)
    new = inflow * np.cumsum(s)
    if len(current_exit):
        s0 = _surv_at(curve, r, current_exit, period)
        st = _surv_at(curve, r, current_exit[None, :] + a[:, None] * period, period)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(s0[None, :] > 0, st / s0[None, :], 0.0)
        current = ratio @ current_weight
        current_rev = ratio @ (current_weight * current_margin)
    else:
        current = np.zeros(len(a))
        current_rev = np.zeros(len(a))
    base = current + new
    revenue = current_rev + margin_scale * new
    profit = revenue - inflow * acquisition_cost
    # steady state: inflow x sum_k S(kp), the tail summed in closed form
    k1 = int(np.floor(curve.tau / period + 1e-9)) + 1
    data = float(np.sum(curve.at(np.arange(k1) * period)))
    if tail.kind == "none" or curve.surv_tau <= 0:
        expected = data
    elif not np.isfinite(r) or r >= 1:
        expected = np.inf if (np.isfinite(r) and curve.surv_tau > 0) else np.nan
    else:
        expected = data + curve.surv_tau * r ** ((k1 * period - curve.tau) / period) / (1.0 - r)
    steady = inflow * expected
    return current, new, base, revenue, profit, expected, steady


def leaky_bucket(source, *, inflow, margin, periods: int = 60, by=None, margin_rate: float = 1.0,
                 acquisition_cost=0.0, include_current: bool = True, tail: str = "constant",
                 tail_periods: float = 12, retention=None, period: float = 1.0, n_boot: int = 0,
                 conf_level: float = 0.95, random_state=None, progress: bool = False,
                 **frame_kwargs) -> LeakyBucket:
    r"""Project the customer base, revenue and profit from an acquisition inflow and the fitted survival curves.

    Parameters
    ----------
    source : Tenures, DataFrame, KaplanMeier, AalenJohansen, LifeTable or survival table
        As :func:`~churnsurv.value.lifetime_value`; with records, today's customers (the censored rows) are
        projected too, each from their own tenure.
    inflow : float or dict
        New customers per period (a dict per segment allowed), acquired at the start of each period.
    margin : float, str or dict
        Margin (revenue) per customer and period: a number, a value column (the segment mean for new customers,
        each customer's own for today's customers), or a dict per segment.
    periods : int, default 60
        Periods projected.
    by, margin_rate, tail, tail_periods, retention, period, conf_level, random_state, progress, **frame_kwargs
        As :func:`~churnsurv.value.lifetime_value`.
    acquisition_cost : float or dict, default 0
        Cost of acquiring one customer; the profit of a period is its revenue minus the inflow's cost.
    include_current : bool, default True
        Project today's customers too (records only).
    n_boot : int, default 0
        Bootstrap replicates (records only): customers redrawn within segments, curves and tails refitted.

    Returns
    -------
    LeakyBucket
        ``.projection`` and ``.steady_state``.

    Notes
    -----
    Cohort convolution: with :math:`a` customers acquired at the start of every period and survival :math:`S`,
    the number of them on the books at the start of period :math:`t` is :math:`a \sum_{k=0}^{t} S(kp)`; today's
    customers at tenure :math:`t_i` add :math:`\sum_i w_i S(t_i + tp)/S(t_i)`. The steady state is
    :math:`a \sum_{k \ge 0} S(kp)`, the inflow times the expected number of periods a customer stays (Little's
    law); with a constant churn :math:`h` per period, :math:`S(kp) = (1-h)^k` and the steady state is
    :math:`a / h`, the leaky bucket's "inflow / churn". Revenue and profit are per period, undiscounted.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import leaky_bucket
    >>> curve = pd.DataFrame({"time": [0, 1, 2, 3], "estimate": [1.0, 0.9, 0.81, 0.729]})
    >>> lb = leaky_bucket(curve, inflow=100, margin=10, tail="geometric", retention=0.9)
    >>> round(float(lb.steady_state["base"].iloc[0]), 6)  # inflow / churn = 100 / 0.1
    1000.0
    """
    owner = "leaky_bucket"
    st = _settings(owner, discount_rate=0.0, horizon=None, tail=tail, tail_periods=tail_periods,
                   retention=retention, timing="start", first_period=True, period=period)
    if isinstance(periods, bool) or not isinstance(periods, (int, np.integer)) or periods < 1:
        raise param_error("periods", owner, "an int >= 1", periods, type_error=not isinstance(periods, int))
    n_boot = _check_bootstrap(n_boot, random_state, progress, owner)
    conf_level = check_conf_level(conf_level, owner)
    if not isinstance(include_current, (bool, np.bool_)):
        raise param_error("include_current", owner, "a bool", include_current, type_error=True)
    src = _read_source(source, by, owner, dict(frame_kwargs), value_columns=value_columns(margin))
    margins = _margins(margin, margin_rate, src, owner)
    labels = src.labels()
    a = _per_segment(inflow, labels, "inflow", owner)
    k = _per_segment(acquisition_cost, labels, "acquisition_cost", owner)
    use_current = include_current and src.tenures is not None
    cur = _current(src, margins, owner) if use_current else [(np.zeros(0), np.zeros(0), np.zeros(0))] * len(labels)
    point = []
    for s, (label, curve) in enumerate(zip(labels, src.curves, strict=True)):
        tail = _tail_for(curve, st, label, owner)
        point.append((_bucket_one(curve, tail, a[s], margins[s].scale, periods, st.period, *cur[s], k[s]), tail))
    reps = None
    if n_boot:
        if src.tenures is None:
            raise param_error("n_boot", owner, f"0 when the source is a {src.kind} (the bootstrap redraws "
                              "customers)", n_boot)
        rng = np.random.default_rng(random_state)
        reps = np.full((len(labels), 4, periods + 1, n_boot), np.nan)  # base, revenue, profit; steady (row 3, t=0)
        filled = np.zeros(len(labels), dtype=np.int64)
        values = {m.column: _margin_column(src.tenures, m.column, owner) for m in margins if m.column}
        for seg, rows, w, curves in _bootstrap_draws(src, n_boot, rng, progress, owner):
            m = margins[seg]
            for i, curve in enumerate(curves):
                scale = m.scale if m.column is None else m.rate * float(
                    np.sum(values[m.column][rows] * w[i]) / np.sum(w[i]))
                tail = _tail_for(curve, st, labels[seg], owner, warn=False)
                _, _, base, rev, prof, _, steady = _bucket_one(curve, tail, a[seg], scale, periods, st.period,
                                                               *cur[seg], k[seg])
                j = filled[seg]
                reps[seg, 0, :, j], reps[seg, 1, :, j], reps[seg, 2, :, j] = base, rev, prof
                reps[seg, 3, 0, j] = steady
                filled[seg] += 1
    frames, steady_rows = [], []
    for s, label in enumerate(labels):
        (current, new, base, rev, prof, expected, steady), tail = point[s]
        f = pd.DataFrame({"period": np.arange(periods + 1), "time": np.arange(periods + 1) * st.period,
                          "current": current, "new": new, "base": base, "revenue": rev, "profit": prof})
        row = {"inflow": a[s], "expected_periods": expected,
               "churn": 1.0 - tail.retention if tail.kind != "none" else np.nan, "base": steady}
        if reps is not None:
            for j, name in enumerate(("base", "revenue", "profit")):
                _, lo, hi = _percentile(reps[s, j], conf_level)
                f[f"{name}_ci_lower"], f[f"{name}_ci_upper"] = lo, hi
            _, lo, hi = _percentile(reps[s, 3, 0], conf_level)
            row["base_ci_lower"], row["base_ci_upper"] = float(lo), float(hi)
        else:
            for name in ("base", "revenue", "profit"):
                f[f"{name}_ci_lower"] = f[f"{name}_ci_upper"] = np.nan
            row["base_ci_lower"] = row["base_ci_upper"] = np.nan
        row["revenue"] = margins[s].scale * steady
        row["profit"] = row["revenue"] - a[s] * k[s]
        for j, b in enumerate(src.by):
            f.insert(j, b, label[j])
            row[b] = label[j]
        frames.append(f)
        steady_rows.append(row)
    proj = pd.concat(frames, ignore_index=True)
    steady = pd.DataFrame(steady_rows)[[*src.by, "inflow", "expected_periods", "churn", "base", "base_ci_lower",
                                        "base_ci_upper", "revenue", "profit"]]
    for b in src.by:
        if isinstance(src.keys[b].dtype, pd.CategoricalDtype):
            cats = src.keys[b].cat.categories
            proj[b] = pd.Categorical(proj[b], categories=cats)
            steady[b] = pd.Categorical(steady[b], categories=cats)
    proj.attrs.update(time_unit=src.time_unit, margin_rate=float(margin_rate), tail=st.tail)
    return LeakyBucket(proj, steady, conf_level, n_boot, src.time_unit,
                       reps[:, 3, 0, :] if reps is not None else None)


def _current(src, margins, owner):
    d = src.tenures.data
    current = ~d["event"].to_numpy(bool)
    exit_ = d["exit"].to_numpy(float)
    weight = d["weight"].to_numpy(float)
    out = []
    for s, m in enumerate(margins):
        rows = np.flatnonzero(current & (src.seg_code == s))
        mm = m.rate * _margin_column(src.tenures, m.column, owner)[rows] if m.column else np.full(len(rows), m.scale)
        out.append((exit_[rows], weight[rows], mm))
    return out


# ============================================================================ whale curve
@dataclass(frozen=True)
class WhaleCurve:
    """Result of :func:`whale_curve`.

    Attributes
    ----------
    curve : pandas.DataFrame
        ``[customer_share, cumulative_profit_share]``: customers ranked by profit (most profitable first),
        cumulative profit as a share of the total, starting at (0, 0).
    summary : pandas.DataFrame
        One row per statistic, ``[statistic, estimate, std_error, ci_lower, ci_upper]``: ``share_for_80pct`` (the
        smallest share of customers making 80% of the profit), ``peak`` (the highest cumulative profit as a
        share of the total), ``share_at_peak`` and ``share_unprofitable``.
    total_profit : float
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    total_profit: float
    conf_level: float = 0.95
    n_boot: int = 0


def _whale_stats(profit: np.ndarray, weight: np.ndarray) -> np.ndarray:
    order = np.argsort(-profit, kind="stable")
    p, w = profit[order], weight[order]
    total = float(np.sum(p * w))
    if total <= 0:
        return np.full(4, np.nan)
    cum = np.cumsum(p * w) / total
    share = np.cumsum(w) / np.sum(w)
    i80 = int(np.searchsorted(cum, 0.8 - 1e-12))
    peak = int(np.argmax(cum))
    return np.array([share[min(i80, len(share) - 1)], cum[peak], share[peak], float(np.sum(w[p < 0]) / np.sum(w))])


def whale_curve(source, *, margin, margin_rate: float = 1.0, acquisition_cost: float = 0.0,
                period: float = 1.0, n_boot: int = 0, conf_level: float = 0.95, random_state=None,
                **frame_kwargs) -> WhaleCurve:
    r"""The whale curve: cumulative profit against customers ranked by profit.

    Parameters
    ----------
    source : Tenures, DataFrame of records, or array-like of profits
        Records: each customer's profit to date is ``margin x periods paid - acquisition_cost``, the periods
        paid being :math:`\lceil \text{tenure}/p \rceil`. Or the profits themselves (a Series or array), e.g.
        with costs to serve from elsewhere.
    margin : float or str
        Margin per period: a number or a value column (each customer's own); ignored for profits.
    margin_rate, period, **frame_kwargs
        As :func:`~churnsurv.value.lifetime_value`.
    acquisition_cost : float, default 0
        Subtracted from every customer's profit (records only).
    n_boot : int, default 0
        Bootstrap replicates (customers redrawn) for the intervals of the summary.
    conf_level, random_state
        As :func:`~churnsurv.value.lifetime_value`.

    Returns
    -------
    WhaleCurve
        ``.curve``, ``.summary`` and ``.total_profit``; the shares and the summary are NaN when the total profit
        is not positive (there is no share of it to accumulate).

    Notes
    -----
    Profits to date are a history, not a forecast: long-tenure customers have had more time to be
    profitable. The literature's figures: 20% of customers make 80% of the profit (the Pareto rule), and the
    most profitable 20% make 150% to 300% of it, the rest destroying value (Kaplan & Cooper, 1998).

    References
    ----------
    .. [1] Kaplan, R. S. & Cooper, R. (1998). *Cost & Effect*. Harvard Business School Press.

    Examples
    --------
    >>> from churnsurv.value import whale_curve
    >>> w = whale_curve([50.0, 30.0, 20.0, -10.0, -40.0], margin=1)
    >>> w.summary.set_index("statistic")["estimate"].round(3).to_dict()
    {'share_for_80pct': 0.2, 'peak': 2.0, 'share_at_peak': 0.6, 'share_unprofitable': 0.4}
    """
    owner = "whale_curve"
    n_boot = _check_bootstrap(n_boot, random_state, False, owner)
    conf_level = check_conf_level(conf_level, owner)
    if isinstance(source, (pd.Series, np.ndarray, list, tuple)):
        profit = np.asarray(source, dtype=float)
        weight = np.ones(len(profit))
        if not np.all(np.isfinite(profit)):
            raise param_error("source", owner, "finite profits", "non-finite values")
    else:
        cost = _check_real(acquisition_cost, "acquisition_cost", owner, expected="a real number")
        p = _check_real(period, "period", owner, low=0.0, low_open=True, expected="a float > 0")
        rate = _check_real(margin_rate, "margin_rate", owner)
        src = _records_source(source, None, owner, frame_kwargs, margin)
        d = src.tenures.data
        if isinstance(margin, str):
            m = rate * _margin_column(src.tenures, margin, owner)
        else:
            m = np.full(len(d), rate * _check_real(margin, "margin", owner, expected="a number or a column name"))
        paid = np.ceil(d["exit"].to_numpy(float) / p - 1e-9)
        profit = m * paid - cost
        weight = d["weight"].to_numpy(float)
    if len(profit) == 0:
        raise param_error("source", owner, "at least one customer", "none")
    order = np.argsort(-profit, kind="stable")
    total = float(np.sum(profit * weight))
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.cumsum(profit[order] * weight[order]) / total if total > 0 else np.full(len(profit), np.nan)
    curve = pd.DataFrame({"customer_share": np.r_[0.0, np.cumsum(weight[order]) / np.sum(weight)],
                          "cumulative_profit_share": np.r_[0.0, cum]})
    stats = _whale_stats(profit, weight)
    se = lo = hi = np.full(4, np.nan)
    if n_boot:
        rng = np.random.default_rng(random_state)
        n = len(profit)
        reps = np.empty((4, n_boot))
        for b in range(n_boot):
            c = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
            reps[:, b] = _whale_stats(profit, weight * c) if c.any() else np.nan
        se, lo, hi = _percentile(reps, conf_level)
    summary = pd.DataFrame({"statistic": ["share_for_80pct", "peak", "share_at_peak", "share_unprofitable"],
                            "estimate": stats, "std_error": se, "ci_lower": lo, "ci_upper": hi})
    return WhaleCurve(curve, summary, total, conf_level, n_boot)


# ============================================================================ sensitivity (tornado)
def value_sensitivity(source, *, margin, discount_rate: float, by=None, horizon: float | None = None,
                      discount_range=(0.5, 2.0), margin_range=(0.9, 1.1), hazard_range=(0.9, 1.1),
                      tail: str = "constant", tail_periods: float = 12, retention=None, timing: str = "start",
                      first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0,
                      **frame_kwargs) -> pd.DataFrame:
    """The lifetime value of a new customer under low and high settings of each input: the tornado's table.

    Parameters
    ----------
    source, margin, discount_rate, by, horizon, tail, tail_periods, retention, timing, first_period, period, \
margin_rate, **frame_kwargs
        As :func:`~churnsurv.value.lifetime_value` (records: the retention row rescales the hazards).
    discount_range, margin_range, hazard_range : (float, float)
        Multipliers of the discount rate, the margin and every hazard (all causes, every tenure, the tail
        refitted) for the low and high rows.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, input): ``[*by, parameter, low_setting, high_setting, low, high, base, swing]``;
        ``low`` and ``high`` are the values at the two settings, ``swing = |high - low|``. The tail row compares a
        hard stop with the highest value over the tails of :func:`~churnsurv.value.lifetime_value_range`.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import value_sensitivity
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6, 6], "churned": [1, 1, 1, 0, 1, 0, 0]})
    >>> t = value_sensitivity(df, duration="tenure", event="churned", margin=10, discount_rate=0.01)
    >>> list(t["parameter"])
    ['discount rate', 'margin', 'tail', 'retention']
    """
    owner = "value_sensitivity"
    ranges = {}
    for name, rng_ in (("discount_range", discount_range), ("margin_range", margin_range),
                       ("hazard_range", hazard_range)):
        ok = isinstance(rng_, (tuple, list)) and len(rng_) == 2 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in rng_)
        if not ok:
            raise param_error(name, owner, "a (low, high) pair of multipliers >= 0", rng_)
        ranges[name] = (float(rng_[0]), float(rng_[1]))
    kw = dict(horizon=horizon, tail=tail, tail_periods=tail_periods, retention=retention, timing=timing,
              first_period=first_period, period=period)
    st = _settings(owner, discount_rate=discount_rate, **kw)
    src = _read_source(source, by, owner, dict(frame_kwargs), value_columns=value_columns(margin))
    margins = _margins(margin, margin_rate, src, owner)
    base = _compute(src, margins, st, owner)["estimate"].to_numpy()
    rows = {}

    def add(param, lo_set, hi_set, lo, hi):
        rows[param] = (lo_set, hi_set, np.asarray(lo, float), np.asarray(hi, float))

    lo_d, hi_d = (_compute(src, margins, _settings(owner, discount_rate=discount_rate * f, **kw), owner,
                           warn=False)["estimate"].to_numpy() for f in ranges["discount_range"])
    add("discount rate", f"{discount_rate * ranges['discount_range'][0]:g}",
        f"{discount_rate * ranges['discount_range'][1]:g}", lo_d, hi_d)
    f_lo, f_hi = ranges["margin_range"]
    add("margin", f"x{f_lo:g}", f"x{f_hi:g}", base * f_lo, base * f_hi)
    rng_tab = lifetime_value_range(source, margin=margin, discount_rate=discount_rate, by=by, horizon=horizon,
                                   tail_periods=tail_periods, retention=retention, timing=timing,
                                   first_period=first_period, period=period, margin_rate=margin_rate, **frame_kwargs)
    nb = len(src.by)
    first = rng_tab.groupby(list(src.by), observed=True, sort=False).head(1) if nb else rng_tab.head(1)
    add("tail", "hard stop", "highest tail", first["range_lower"].to_numpy(), first["range_upper"].to_numpy())
    if src.tenures is not None:
        h_lo, h_hi = ranges["hazard_range"]
        vals = []
        for f in (h_hi, h_lo):  # more hazard = lower value
            spec = _Spec(tuple(range(len(_causes_of(src)))), np.ones(len(src.keys), dtype=bool), (0.0, np.inf),
                         "reduce", 1.0 - f, np.nan, True)
            point, _, _, _ = _run(src, margins, spec, st, replace(st, horizon=1.0, n_periods=1.0), 0.0, "customer",
                                  0, None, False, owner)
            vals.append(point[:, _Q["value_scenario"]])
        add("retention", f"hazard x{h_hi:g}", f"hazard x{h_lo:g}", vals[0], vals[1])
    out = []
    for s, label in enumerate(src.labels()):
        for param, (lo_set, hi_set, lo, hi) in rows.items():
            row = dict(zip(src.by, label, strict=True))
            row.update(parameter=param, low_setting=lo_set, high_setting=hi_set, low=lo[s], high=hi[s],
                       base=base[s], swing=abs(hi[s] - lo[s]))
            out.append(row)
    out = pd.DataFrame(out)
    for b in src.by:
        if isinstance(src.keys[b].dtype, pd.CategoricalDtype):
            out[b] = pd.Categorical(out[b], categories=src.keys[b].cat.categories)
    out.attrs.update(st.attrs(), margin_rate=float(margin_rate), time_unit=src.time_unit)
    return out


def _causes_of(src):
    from churnsurv.value._hazards import _causes

    return _causes(src)


# ============================================================================ the claims
_LITERATURE = {
    "reichheld_points_value": ("A 5-point cut in annual defection raises customer value by 25% to 95%",
                               "+25% to +95% (profit)"),
    "reichheld_points_equity": ("A 5-point cut in annual defection raises the value of the base (equity)",
                                "+25% to +95% (profit)"),
    "reichheld_relative_value": ("A 5% relative cut in defection raises customer value", "not stated"),
    "reichheld_relative_equity": ("A 5% relative cut in defection raises the value of the base (equity)",
                                  "not stated"),
    "elasticity_retention": ("Elasticity of firm value to retention (1% more retention)", "about 5 (3 to 7)"),
    "elasticity_margin": ("Elasticity of firm value to margin (1% more margin)", "about 1"),
    "elasticity_acquisition_cost": ("Elasticity of firm value to acquisition cost (1% lower cost)", "about 0.1"),
    "break_even_retention_spend": ("Retention is cheaper than acquisition ('acquiring costs 5x retaining')",
                                   "retaining costs 1/5 of acquiring (0.2)"),
    "steady_state_base": ("Leaky bucket: the base settles at inflow / churn", "inflow / churn"),
    "whale_share_80": ("The top 20% of customers make 80% of the profit (Pareto)", "0.20"),
    "whale_peak": ("The most profitable customers make 150% to 300% of the profit (whale curve)", "1.5 to 3.0"),
}


def retention_claims(source, *, margin, discount_rate: float, acquisition_cost: float = 0.0,
                     acquisitions: float | None = None, by=None, margin_rate: float = 1.0,
                     tail: str = "constant", tail_periods: float = 12, retention=None, period: float = 1.0,
                     n_boot: int = 200, conf_level: float = 0.95, random_state=None, progress: bool = False,
                     **frame_kwargs) -> pd.DataFrame:
    r"""The retention claims of the literature, tested on these data: one table, claim by claim.

    Parameters
    ----------
    source : Tenures or DataFrame
        Customer records.
    margin, discount_rate, by, margin_rate, tail, tail_periods, retention, period, progress, **frame_kwargs
        As :func:`~churnsurv.value.lifetime_value` (infinite horizon, payment at the start of each period).
    acquisition_cost : float, default 0
        Cost of acquiring one customer (the "5x" row, the acquisition-cost elasticity, the whale curve's profit).
    acquisitions : float, optional
        New customers per period, all segments together (split by the segments' shares of the customers): the
        future cohorts in firm value, and the leaky bucket's inflow. Without it firm value is the equity of the
        current customers, the acquisition-cost elasticity is 0 and the leaky-bucket row is left out.
    n_boot : int, default 200
        Bootstrap replicates for the intervals (customers redrawn within segments; every claim recomputed on the
        same replicates).
    conf_level, random_state
        As :func:`~churnsurv.value.lifetime_value`.

    Returns
    -------
    pandas.DataFrame
        One row per claim: ``[claim, statement, literature, estimate, std_error, ci_lower, ci_upper, unit,
        assumptions, source]``. The elasticities are NaN when firm value is not positive (acquisition costs above
        what the future cohorts bring), the "5x" row is left out without an acquisition cost, the whale rows are
        NaN when the total profit to date is not positive.

    Notes
    -----
    * **Reichheld.** Reichheld & Sasser [1]_ report that a 5-point cut in defection raises profits by 25% to
      85%, Reichheld [2]_ up to 95%; the figure here is the % change in the lifetime value of a new customer and in
      customer equity (value of the current customers) when every segment's annualised defection rate falls by 5
      points (``rate_cut=0.05``) or every hazard by 5% (``reduce=0.05``) — two different cuts.
    * **Elasticities** (Gupta, Lehmann & Stuart [3]_): % change of firm value, the equity of the current
      customers plus the future cohorts :math:`a (V - K)(1+d)/d`, for a 1% rise in annual retention
      (``retention_lift=0.01``), in margin, and a 1% fall in acquisition cost.
    * **"5x".** The value a saved customer brings (the value at risk per defector, all causes: the break-even
      spend per customer saved) divided by the acquisition cost: above 0.2, spending a fifth of the acquisition
      cost to save a customer pays.
    * **Leaky bucket.** The steady-state base :math:`a \sum_k S(kp)`.
    * **Whale curve.** On each customer's profit to date, margin x periods paid - acquisition cost [4]_.

    References
    ----------
    .. [1] Reichheld, F. F. & Sasser, W. E. (1990). Zero defections: quality comes to services. *Harvard
       Business Review* 68(5), 105-111.
    .. [2] Reichheld, F. F. (1996). *The Loyalty Effect*. Harvard Business School Press.
    .. [3] Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing Research*
       41, 7-18.
    .. [4] Kaplan, R. S. & Cooper, R. (1998). *Cost & Effect*. Harvard Business School Press.

    Examples
    --------
    >>> from churnsurv.datasets import load_maven_telco
    >>> from churnsurv.value import retention_claims
    >>> t = load_maven_telco(truncate=True)
    >>> c = retention_claims(t, by="Contract", margin="Monthly Charge", margin_rate=0.3, discount_rate=0.01,
    ...                      acquisition_cost=300, n_boot=0)
    >>> round(float(c.set_index("claim").loc["reichheld_points_value", "estimate"]), 1)
    28.4
    """
    owner = "retention_claims"
    st = _settings(owner, discount_rate=discount_rate, horizon=None, tail=tail, tail_periods=tail_periods,
                   retention=retention, timing="start", first_period=True, period=period)
    if discount_rate <= 0:
        raise param_error("discount_rate", owner, "a float > 0 (firm value sums an infinite horizon)",
                          discount_rate)
    k_cost = _check_real(acquisition_cost, "acquisition_cost", owner, low=0.0, expected="a float >= 0")
    acq = None if acquisitions is None else _check_real(acquisitions, "acquisitions", owner, low=0.0,
                                                        expected="None or a float >= 0 (per period)")
    n_boot = _check_bootstrap(n_boot, random_state, progress, owner)
    conf_level = check_conf_level(conf_level, owner)
    src = _records_source(source, by, owner, frame_kwargs, margin)
    margins = _margins(margin, margin_rate, src, owner)
    shares = np.asarray(src.n_customers, float)
    shares = shares / shares.sum()
    st_profit = replace(st, horizon=12.0, n_periods=12.0)

    def run(**cut):
        spec = _check_spec(src, None, None, None, cut.get("reduce"), None, cut.get("rate_cut"),
                           cut.get("retention_lift"), owner)
        point, reps, _, _ = _run(src, margins, spec, st, st_profit, 0.0, "customer", n_boot, random_state, False,
                                 owner)
        tp, tr = _total(point, reps, shares)
        return tp, tr  # (Q,), (B, Q)

    points, rel, lift = run(rate_cut=0.05), run(reduce=0.05), run(retention_lift=0.01)
    g = (1.0 + st.discount_rate) / st.discount_rate  # cohorts at the start of every period, forever
    a = 0.0 if acq is None else acq

    def both(fn):
        """Point estimate and replicates of a statistic of the three runs."""
        est = fn(points[0], rel[0], lift[0])
        reps = fn(points[1], rel[1], lift[1]) if n_boot else None
        return est, reps

    def firm(t):
        return t[..., _Q["equity_observed"]] + a * (t[..., _Q["value_observed"]] - k_cost) * g

    firm_value = float(firm(lift[0]))
    rows = {}
    rows["reichheld_points_value"] = both(lambda p, r, lf: p[..., _Q["value_gain_pct"]])
    rows["reichheld_points_equity"] = both(lambda p, r, lf: p[..., _Q["equity_gain_pct"]])
    rows["reichheld_relative_value"] = both(lambda p, r, lf: r[..., _Q["value_gain_pct"]])
    rows["reichheld_relative_equity"] = both(lambda p, r, lf: r[..., _Q["equity_gain_pct"]])
    rows["elasticity_retention"] = both(lambda p, r, lf: 100.0 * (
        (lf[..., _Q["equity_scenario"]] + a * (lf[..., _Q["value_scenario"]] - k_cost) * g) / firm(lf) - 1.0))
    rows["elasticity_margin"] = both(lambda p, r, lf: (
        lf[..., _Q["equity_observed"]] + a * lf[..., _Q["value_observed"]] * g) / firm(lf))
    rows["elasticity_acquisition_cost"] = both(lambda p, r, lf: a * k_cost * g / firm(lf))
    if not firm_value > 0:  # acquisition costs exceed what the cohorts bring: a % of a negative value means nothing
        for name in ("elasticity_retention", "elasticity_margin", "elasticity_acquisition_cost"):
            rows[name] = (np.nan, None)

    # break-even spend per saved customer (value at risk per defector, all causes) / acquisition cost
    var_point, var_reps = _at_risk_arrays(src, margins, st, n_boot, random_state, False, owner)

    def per_defector(x):  # x: (S, K, 4[, B])
        v = np.tensordot(shares, x[:, :, 0].sum(axis=1), axes=(0, 0))
        inc = np.tensordot(shares, x[:, :, 3].sum(axis=1), axes=(0, 0))
        return v / inc

    if k_cost > 0:
        est = per_defector(var_point) / k_cost
        rows["break_even_retention_spend"] = (est, per_defector(var_reps) / k_cost if n_boot else None)
    if acq is not None:
        lb = leaky_bucket(src.tenures, inflow={lab[0] if len(lab) == 1 else lab: acq * s_ for lab, s_ in
                                               zip(src.labels(), shares, strict=True)} if src.by else acq,
                          margin=margin, margin_rate=margin_rate, by=list(src.by) or None, periods=1,
                          tail=tail, tail_periods=tail_periods, retention=retention, period=period,
                          n_boot=n_boot, conf_level=conf_level, random_state=random_state, include_current=False)
        rows["steady_state_base"] = (float(lb.steady_state["base"].sum()), (lb.steady_state_replicates.sum(axis=0)
                                                                   if n_boot else None))
    wc = whale_curve(src.tenures, margin=margin, margin_rate=margin_rate, acquisition_cost=k_cost, period=period,
                     n_boot=n_boot, conf_level=conf_level, random_state=random_state)
    ws = wc.summary.set_index("statistic")
    # rows that are identities of the inputs, not findings: say so instead of printing "1.00 (1.00-1.00)"
    identity = {}
    if k_cost == 0 or acq is None:
        why = "no acquisition cost" if k_cost == 0 else "no acquisitions given"
        identity["elasticity_margin"] = (f"not computed: with {why}, firm value is proportional to margin, so the "
                                         "elasticity is 1 by definition; give acquisition_cost and acquisitions")
        identity["elasticity_acquisition_cost"] = (f"not computed: with {why}, acquisition costs do not enter firm "
                                                   "value (elasticity 0 by definition); give acquisition_cost and "
                                                   "acquisitions")
    if float(ws.loc["share_unprofitable", "estimate"]) == 0.0:
        identity["whale_peak"] = ("not computed: no customer has a negative profit to date (acquisition cost "
                                  f"{k_cost:g}), so the curve peaks at 100% of the profit by construction; give "
                                  "acquisition_cost")
    out = []
    for claim, (est, reps) in rows.items():
        if claim in identity:
            row = _claim_row(claim, np.nan, np.nan, np.nan, np.nan, st, k_cost, acq)
            row["assumptions"] = identity[claim]
            out.append(row)
            continue
        se, lo, hi = (_percentile(np.asarray(reps)[None, :], conf_level) if reps is not None
                      else (np.full(1, np.nan),) * 3)
        row = _claim_row(claim, est, se[0], lo[0], hi[0], st, k_cost, acq)
        if claim.startswith("elasticity") and not firm_value > 0:
            row["assumptions"] = (f"not computed: firm value ({firm_value:,.0f}) is not positive, the acquisition "
                                  "cost exceeds what the future cohorts bring")
        out.append(row)
    for claim, stat in (("whale_share_80", "share_for_80pct"), ("whale_peak", "peak")):
        r = ws.loc[stat]
        if claim in identity:
            row = _claim_row(claim, np.nan, np.nan, np.nan, np.nan, st, k_cost, acq)
            row["assumptions"] = identity[claim]
            out.append(row)
            continue
        out.append(_claim_row(claim, r["estimate"], r["std_error"], r["ci_lower"], r["ci_upper"], st, k_cost, acq))
    table = pd.DataFrame(out)
    table.attrs.update(st.attrs(), conf_level=conf_level, n_boot=n_boot, time_unit=src.time_unit,
                       acquisition_cost=k_cost, acquisitions=acq, margin_rate=float(margin_rate))
    return table


_UNITS = {"reichheld_points_value": "%", "reichheld_points_equity": "%", "reichheld_relative_value": "%",
          "reichheld_relative_equity": "%", "elasticity_retention": "% per 1%", "elasticity_margin": "% per 1%",
          "elasticity_acquisition_cost": "% per 1%", "break_even_retention_spend": "x acquisition cost",
          "steady_state_base": "customers", "whale_share_80": "share of customers", "whale_peak": "x total profit"}
_SOURCES = {"reichheld": "Reichheld & Sasser (1990); Reichheld (1996)", "elasticity": "Gupta, Lehmann & Stuart (2004)",
            "break": "Kotler; Reichheld (1996)", "steady": "leaky-bucket arithmetic (Little's law)",
            "whale": "Kaplan & Cooper (1998)"}


def _claim_row(claim, est, se, lo, hi, st, k_cost, acq) -> dict:
    statement, literature = _LITERATURE[claim]
    common = (f"independent causes; saved customers take the survivors' future (upper estimate under "
              f"heterogeneity); discount {st.discount_rate:g} per period; tail {st.tail}")
    assumptions = {
        "reichheld_points_value": "every segment's annualised defection over its observed range cut by 5 points, "
                                  "all causes and tenures; " + common,
        "reichheld_points_equity": "as above, valued on the current customers; " + common,
        "reichheld_relative_value": "every hazard x 0.95 (all causes, tenures and the tail); " + common,
        "reichheld_relative_equity": "as above, valued on the current customers; " + common,
        "elasticity_retention": f"annual retention x 1.01 in every segment; firm value = equity + future cohorts "
                                f"({'none' if acq is None else f'{acq:g} per period'}, cost {k_cost:g}); " + common,
        "elasticity_margin": "every margin x 1.01; firm value as above",
        "elasticity_acquisition_cost": "acquisition cost x 0.99; firm value as above"
                                       + ("; no acquisitions given, so 0" if acq is None else ""),
        "break_even_retention_spend": f"value a saved customer brings (value at risk per defector, all causes) / "
                                      f"acquisition cost {k_cost:g}; >= 0.2 means retaining at 1/5 of the "
                                      "acquisition cost pays; " + common,
        "steady_state_base": f"{acq} new customers per period, split by segment shares, the fitted curves and "
                             "tail: inflow x expected periods (= inflow / churn with a constant churn)",
        "whale_share_80": f"profit to date = margin x periods paid - {k_cost:g}; a history, not a forecast",
        "whale_peak": f"profit to date = margin x periods paid - {k_cost:g}; a history, not a forecast",
    }[claim]
    src = next(v for k, v in _SOURCES.items() if claim.startswith(k))
    return {"claim": claim, "statement": statement, "literature": literature, "estimate": float(est),
            "std_error": float(se), "ci_lower": float(lo), "ci_upper": float(hi), "unit": _UNITS[claim],
            "assumptions": assumptions, "source": src}
