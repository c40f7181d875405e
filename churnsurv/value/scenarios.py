r"""Retention scenarios: what cutting the hazard of defection would be worth.

:func:`retention_scenario` cuts the hazard of all causes or of chosen causes, in chosen segments, optionally only
in a tenure window, by a relative fraction or to an annual defection rate, and reports the change in expected
tenure, in the lifetime value of a new customer, in customer equity and in the profit from the current customers
over a horizon, net of a programme cost; with a customer bootstrap interval on every number and, for a cut aimed
at some causes, the assumption-free bounds beside the independence answer. :func:`scenario_grid` traces value
against the size of the cut, one line per cause.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, find_stack_level, param_error
from churnsurv.exceptions import StatisticalWarning
from churnsurv.value._engine import _n_periods, _Tail
from churnsurv.value._hazards import (
    _causes,
    _counts,
    _curve,
    _incidence,
    _percentile,
    _replicate_weights,
    _Seg,
    _segments,
    _surv_at,
    _survival,
    _year_length,
)
from churnsurv.value._sources import _check_bootstrap, _check_real, _Margin, _margin_column, _margins
from churnsurv.value.lifetime import _one_value, _Settings, _settings, _tail_for
from churnsurv.value.residual import _customer_margins, _records_source, _unit_values

__all__ = ["RetentionScenario", "retention_scenario", "scenario_grid"]

#: The caveat every scenario carries (issue 12: the sBG argument; the sBG models are not in churnsurv yet).
HETEROGENEITY_CAVEAT = (
    "Under heterogeneity the customers a programme saves are not like the average survivor: the customers "
    "who would have left are the less loyal ones, so once saved they keep leaving faster than the customers "
    "who stayed anyway, and the gain computed here (which gives them the survivors' future) is an upper "
    "estimate. The shifted-beta-geometric argument of Fader & Hardie (2007) makes this precise; churnsurv does "
    "not fit sBG models yet, so the size of this bias is not estimated.")

COST_PER = ("customer", "saved")
_QUANTITIES = (
    "expected_tenure_observed", "expected_tenure_scenario", "expected_tenure_gain",
    "value_observed", "value_scenario", "value_gain", "value_gain_pct",
    "equity_observed", "equity_scenario", "equity_gain", "equity_gain_pct",
    "profit_observed", "profit_scenario", "profit_gain", "customers_saved", "programme_cost", "net_profit_gain",
    "annual_defection_observed", "annual_defection_scenario", "hazard_multiplier",
    "value_gain_within_data", "value_gain_upper_bound",
)
_Q = {name: i for i, name in enumerate(_QUANTITIES)}
# extensive quantities add up over segments; intensive ones are averaged with the segments' customer shares
_SUMMED = ("equity_observed", "equity_scenario", "equity_gain", "profit_observed", "profit_scenario", "profit_gain",
           "customers_saved", "programme_cost", "net_profit_gain")
_AVERAGED = ("expected_tenure_observed", "expected_tenure_scenario", "expected_tenure_gain", "value_observed",
             "value_scenario", "value_gain", "value_gain_within_data", "value_gain_upper_bound")


# ============================================================================ the scenario
@dataclass
class _Spec:
    """A validated scenario: which hazards are cut, where, when and how much."""

    causes: tuple  # indices of the causes cut
    segments: np.ndarray  # bool per segment: cut there
    window: tuple  # (lo, hi) tenure window of the cut; hazards at times in (lo, hi] are scaled
    mode: str  # "reduce", "to_rate", "rate_cut", "retention_lift"
    amount: object  # float, or dict per segment for "to_rate"
    year: float
    all_causes: bool
    words: str = ""

    def target(self, observed: float, label) -> float:
        """The annual defection rate aimed at, given the observed one."""
        if self.mode == "to_rate":
            a = self.amount
            if isinstance(a, dict):
                a = a[label[0] if len(label) == 1 else label]
            return float(a)
        if self.mode == "rate_cut":
            return max(observed - self.amount, 0.0)
        return max(1.0 - (1.0 + self.amount) * (1.0 - observed), 0.0)  # retention_lift


def _check_spec(src, causes, segments, window, reduce, to_rate, rate_cut, retention_lift, owner) -> _Spec:
    all_causes = _causes(src)
    given = {k: v for k, v in dict(reduce=reduce, to_rate=to_rate, rate_cut=rate_cut,
                                   retention_lift=retention_lift).items() if v is not None}
    if len(given) != 1:
        raise param_error("reduce", owner, "given alone, or replaced by exactly one of to_rate, rate_cut and "
                          "retention_lift", f"{len(given)} of them ({', '.join(given) or 'none'})")
    mode, amount = next(iter(given.items()))
    if mode == "reduce":
        amount = _check_real(amount, "reduce", owner, low=0.0, expected="a fraction in [0, 1] of the hazard cut")
        if amount > 1:
            raise param_error("reduce", owner, "a fraction in [0, 1] of the hazard cut", amount)
    elif mode == "to_rate":
        values = amount.values() if isinstance(amount, dict) else [amount]
        for a in values:
            a = _check_real(a, "to_rate", owner, low=0.0, expected="an annual defection rate in [0, 1) (or a dict "
                            "of them per segment)")
            if a >= 1:
                raise param_error("to_rate", owner, "an annual defection rate in [0, 1)", a)
        if isinstance(amount, dict):
            for lab in src.labels():
                key = lab[0] if len(lab) == 1 else lab
                if key not in amount:
                    raise param_error("to_rate", owner, "a dict with a rate for every segment",
                                      f"a dict without {key!r}")
    elif mode == "rate_cut":
        amount = _check_real(amount, "rate_cut", owner, low=0.0, low_open=True,
                             expected="a cut in (0, 1) of the annual defection rate, in points (0.05: 5 points)")
        if amount >= 1:
            raise param_error("rate_cut", owner, "a cut in (0, 1) of the annual defection rate", amount)
    else:
        amount = _check_real(amount, "retention_lift", owner, low=0.0, low_open=True,
                             expected="a relative increase > 0 of the annual retention rate (0.01: 1%)")
    if causes is None:
        idx = tuple(range(len(all_causes)))
    else:
        names = [causes] if isinstance(causes, str) else list(causes)
        bad = [c for c in names if c not in all_causes]
        if bad or not names:
            raise param_error("causes", owner, f"None (all causes) or causes among {list(all_causes)}", causes)
        idx = tuple(sorted({all_causes.index(c) for c in names}))
    labels = src.labels()
    if segments is None:
        seg_mask = np.ones(len(labels), dtype=bool)
    else:
        if not src.by:
            raise param_error("segments", owner, "None when there are no segments (by=None)", segments)
        wanted = [segments] if isinstance(segments, (str, tuple)) else list(segments)
        keys = [lab[0] if len(lab) == 1 else lab for lab in labels]
        missing = [s for s in wanted if s not in keys and str(s) not in map(str, keys)]
        if missing:
            raise param_error("segments", owner, f"segment values among {keys}", segments)
        seg_mask = np.array([k in wanted or str(k) in map(str, wanted) for k in keys])
    if window is None:
        win = (0.0, np.inf)
    else:
        ok = isinstance(window, (tuple, list)) and len(window) == 2 and all(
            isinstance(w, numbers.Real) and not isinstance(w, bool) for w in window)
        if not ok or not (0 <= float(window[0]) < float(window[1])):
            raise param_error("window", owner, "None or a (start, end) pair of tenures with 0 <= start < end",
                              window)
        win = (float(window[0]), float(window[1]))
    year = _year_length(src.time_unit)
    if mode != "reduce" and not np.isfinite(year):
        raise param_error("time_unit", owner, "day, week, month, quarter or year for an annual defection rate",
                          src.time_unit)
    what = "all causes" if len(idx) == len(all_causes) else ", ".join(f"'{all_causes[i]}'" for i in idx)
    how = {"reduce": f"cut by {amount:.0%}" if mode == "reduce" else "",
           "to_rate": f"cut to an annual defection rate of {amount:.1%}" if not isinstance(amount, dict)
           else "cut to the given annual defection rates",
           "rate_cut": f"cut by {100 * amount:g} points of annual defection",
           "retention_lift": f"cut so that annual retention rises by {amount:.1%}"}[mode]
    when = "" if window is None else f" between tenures {win[0]:g} and {win[1]:g}"
    words = f"the hazard of {what} {how}{when}"
    return _Spec(idx, seg_mask, win, mode, amount, year, len(idx) == len(all_causes), words)


# ============================================================================ one segment, one set of counts
@dataclass
class _Base:
    """What does not change between replicates of one segment: its label, margins and current customers."""

    label: tuple
    margin: _Margin
    rows: np.ndarray  # the segment's rows (positions in the records)
    current_exit: np.ndarray
    current_value: np.ndarray  # margin x case weight of each current customer
    current_weight: np.ndarray  # case weight of each current customer
    margin_values: np.ndarray | None  # the margin column over the segment's rows (refitted per replicate)


def _window_mask(grid: np.ndarray, window: tuple) -> np.ndarray:
    return (grid > window[0]) & (grid <= window[1])


def _annual(surv_fn, lo: float, hi: float, year: float) -> float:
    """Annualised defection rate over (lo, hi]: 1 - (S(hi)/S(lo))^(year/(hi - lo))."""
    if not hi > lo:
        return np.nan
    s_lo, s_hi = surv_fn(lo), surv_fn(hi)
    if s_lo <= 0:
        return np.nan
    return float(1.0 - (s_hi / s_lo) ** (year / (hi - lo)))


def _solve_multiplier(n, d, in_win, cause_mask, lo, hi, year, target) -> tuple[float, bool]:
    """The multiplier c of the targeted hazards that makes the annualised defection over (lo, hi] ``target``."""
    pos = in_win & (n > 0)
    h = np.where(pos[:, None], d / np.where(n > 0, n, 1.0)[:, None], 0.0)[pos]
    h_cut, h_rest = h[:, cause_mask].sum(axis=1), h[:, ~cause_mask].sum(axis=1)
    expo = year / (hi - lo)

    def rate(c):
        return 1.0 - np.prod(np.clip(1.0 - h_rest - c * h_cut, 0.0, None)) ** expo

    if rate(1.0) <= target:
        return 1.0, True
    if rate(0.0) > target:
        return 0.0, False
    a, b = 0.0, 1.0
    for _ in range(60):
        m = 0.5 * (a + b)
        if rate(m) > target:
            b = m
        else:
            a = m
    return 0.5 * (a + b), True


def _cut_tail(tail: _Tail, grid, d, tau, st: _Settings, spec: _Spec, cause_mask, c) -> _Tail:
    """The tail under the cut: the tail's hazard is cut only when the window reaches beyond the last time, on the
    share of the causes cut among the defections of the tail's fitting window (all defections when it has none)."""
    if tail.kind == "none" or c == 1.0 or not spec.window[1] > tau or not np.isfinite(tail.retention):
        return tail
    win = (grid > tau - st.tail_periods * st.period) & (grid <= tau)
    by_cause = d[win].sum(axis=0)
    if by_cause.sum() <= 0:
        by_cause = d.sum(axis=0)
    share = by_cause / by_cause.sum() if by_cause.sum() > 0 else np.full(len(by_cause), 1.0 / len(by_cause))
    ratio = float(np.sum(share * np.where(cause_mask, c, 1.0)))
    return _Tail(tail.kind, 1.0 - (1.0 - tail.retention) * ratio, tail.n_events, tail.exposure, tail.method)


def _evaluate(seg: _Seg, base: _Base, n, d, weights, spec: _Spec, targeted: bool, st: _Settings,
              st_profit: _Settings, programme_cost: float, cost_per: str, owner: str, warn: bool):
    """Every quantity of :data:`_QUANTITIES` for one segment and one set of counts; and whether a target was met."""
    grid = seg.grid
    k = d.shape[-1]
    s_obs = _survival(n, d)
    curve_obs = _curve(grid, n, d, s_obs)
    tau = curve_obs.tau
    cause_mask = np.zeros(k, dtype=bool)
    cause_mask[list(spec.causes)] = True
    in_win = _window_mask(grid, spec.window)
    lo, hi = spec.window[0], min(spec.window[1], tau)
    a_obs = _annual(lambda t: float(curve_obs.at(np.array([t]))[0]), lo, hi, spec.year)
    reached = True
    if not targeted:
        c = 1.0
    elif spec.mode == "reduce":
        c = 1.0 - spec.amount
    else:
        target = spec.target(a_obs, base.label) if np.isfinite(a_obs) else np.nan
        if not np.isfinite(target):
            c, reached = 1.0, False
        else:
            c, reached = _solve_multiplier(n, d, in_win, cause_mask, lo, hi, spec.year, target)
    mult = np.where(in_win[:, None] & cause_mask[None, :], c, 1.0)
    s_cf = _survival(n, d, mult)
    curve_cf = _curve(grid, n, d, s_cf, mult)

    # margin of a new customer: a column's mean is refitted on the replicate
    margin = base.margin
    if base.margin_values is not None:
        w = weights
        margin = _Margin(margin.rate * float(np.sum(base.margin_values * w) / np.sum(w)), None, margin.column,
                         margin.rate)
    tail_obs = _tail_for(curve_obs, st, base.label, owner, warn=warn)
    tail_cf = _cut_tail(tail_obs, grid, d, tau, st, spec, cause_mask, c)
    out = np.full(len(_QUANTITIES), np.nan)
    v_obs = _one_value(curve_obs, tail_obs, margin, st)
    v_cf = _one_value(curve_cf, tail_cf, margin, st)
    out[_Q["value_observed"]], out[_Q["value_scenario"]] = sum(v_obs), sum(v_cf)
    out[_Q["value_gain_within_data"]] = v_cf[0] - v_obs[0]

    st_tenure = replace(st, discount_rate=0.0, v=1.0, delta=0, u0=0)
    one = _Margin(1.0)
    for name, curve, tail in (("expected_tenure_observed", curve_obs, tail_obs),
                              ("expected_tenure_scenario", curve_cf, tail_cf)):
        try:
            out[_Q[name]] = st.period * sum(_one_value(curve, tail, one, st_tenure))
        except ValueError:  # a tail that keeps everybody: infinite without a horizon
            out[_Q[name]] = np.inf

    # current customers: equity (infinite horizon or the value horizon) and profit over the profit horizon
    exits, cv = base.current_exit, base.current_value
    for prefix, curve, tail in (("observed", curve_obs, tail_obs), ("scenario", curve_cf, tail_cf)):
        if len(exits):
            du, tu = _unit_values(curve, tail, exits, base.margin, st)
            pu, pt = _unit_values(curve, tail, exits, base.margin, st_profit)
            out[_Q[f"equity_{prefix}"]] = float(np.sum(cv * (du + tu)))
            out[_Q[f"profit_{prefix}"]] = float(np.sum(cv * (pu + pt)))
        else:
            out[_Q[f"equity_{prefix}"]] = out[_Q[f"profit_{prefix}"]] = 0.0
    if len(exits):
        h = st_profit.horizon
        t_end = exits + h
        with np.errstate(invalid="ignore", divide="ignore"):  # a replicate ending before a tenure: 0 / 0
            r_obs = _surv_at(curve_obs, tail_obs.retention, t_end, st.period) / _surv_at(
                curve_obs, tail_obs.retention, exits, st.period)
            r_cf = _surv_at(curve_cf, tail_cf.retention, t_end, st.period) / _surv_at(
                curve_cf, tail_cf.retention, exits, st.period)
        out[_Q["customers_saved"]] = float(np.nansum(base.current_weight * (r_cf - r_obs)))
    else:
        out[_Q["customers_saved"]] = 0.0
    n_current = float(np.sum(base.current_weight))
    if not targeted:
        cost = 0.0
    elif cost_per == "customer":
        cost = programme_cost * n_current
    else:
        cost = programme_cost * out[_Q["customers_saved"]]
    out[_Q["programme_cost"]] = cost

    # gains
    out[_Q["expected_tenure_gain"]] = out[_Q["expected_tenure_scenario"]] - out[_Q["expected_tenure_observed"]]
    out[_Q["value_gain"]] = out[_Q["value_scenario"]] - out[_Q["value_observed"]]
    out[_Q["equity_gain"]] = out[_Q["equity_scenario"]] - out[_Q["equity_observed"]]
    out[_Q["profit_gain"]] = out[_Q["profit_scenario"]] - out[_Q["profit_observed"]]
    out[_Q["net_profit_gain"]] = out[_Q["profit_gain"]] - cost
    with np.errstate(invalid="ignore", divide="ignore"):
        out[_Q["value_gain_pct"]] = 100.0 * out[_Q["value_gain"]] / out[_Q["value_observed"]]
        out[_Q["equity_gain_pct"]] = 100.0 * out[_Q["equity_gain"]] / out[_Q["equity_observed"]]
    out[_Q["annual_defection_observed"]] = a_obs
    out[_Q["annual_defection_scenario"]] = _annual(lambda t: float(curve_cf.at(np.array([t]))[0]), lo, hi,
                                                   spec.year)
    out[_Q["hazard_multiplier"]] = c

    # Peterson's bound on the gain in value up to the last time (cause-targeted cuts only)
    if targeted and not spec.all_causes:
        f = _incidence(n, d, s_obs)  # (G, K)
        r = np.where(cause_mask, 1.0 - c, 0.0)
        k1 = int(np.floor(tau / st.period + 1e-9)) + 1
        n_per = int(min(k1, st.n_periods))
        u = np.arange(st.u0, n_per)
        t = u * st.period

        def f_at(x):
            idx = np.searchsorted(grid, x + 1e-9 * np.maximum(1.0, np.abs(x)), side="right") - 1
            return np.where(idx[:, None] < 0, 0.0, f[np.clip(idx, 0, None)])

        gain = np.clip(f_at(np.minimum(t, spec.window[1])) - f_at(np.full(len(t), spec.window[0])), 0.0, None) @ r
        gain = np.where(t > spec.window[0], gain, 0.0)
        m = margin.scale * (margin.fn(t) if margin.fn is not None else 1.0)
        out[_Q["value_gain_upper_bound"]] = float(np.sum(m * gain * st.v ** (u + st.delta)))
    return out, reached


# ============================================================================ result
@dataclass(frozen=True)
class RetentionScenario:
    """Result of :func:`retention_scenario`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per segment: ``[*by, targeted, *quantities]`` with, for every gain (``expected_tenure_gain``,
        ``value_gain``, ``value_gain_pct``, ``equity_gain``, ``equity_gain_pct``, ``profit_gain``,
        ``net_profit_gain``, ``customers_saved``), its bootstrap interval ``<gain>_ci_lower`` and
        ``<gain>_ci_upper`` (NaN without a bootstrap). Quantities: expected tenure of a new customer (time units)
        and lifetime value, observed and under the scenario; customer equity of the current customers;
        ``profit_*`` their discounted margin over ``profit_horizon``; ``customers_saved`` the expected current
        customers still there at ``profit_horizon`` who would otherwise have left; ``programme_cost`` and
        ``net_profit_gain`` (profit gain minus cost); ``annual_defection_*`` the annualised defection rate over
        the window; ``hazard_multiplier`` the factor applied to the hazards cut; ``value_gain_within_data``
        the value gain up to the segment's last time and ``value_gain_lower_bound`` /
        ``value_gain_upper_bound`` Peterson's assumption-free bounds on it (cause-targeted cuts only).
    total : pandas.DataFrame
        One row per quantity for all segments together, ``[quantity, estimate, std_error, ci_lower, ci_upper]``:
        equity, profit, customers saved and costs summed; expected tenure and value averaged with the segments'
        shares of the customers; percentages recomputed from the totals.
    estimates : pandas.DataFrame
        ``[*by, quantity, estimate, std_error, ci_lower, ci_upper]``: every quantity of every segment.
    survival : pandas.DataFrame
        ``[*by, scenario, time, estimate]``, ``scenario`` "observed" or "scenario": the curves, to feed
        :func:`~churnsurv.value.lifetime_value` as a survival table.
    description : str
        The scenario in words.
    caveat : str
        Why the gain is an upper estimate under heterogeneity (the sBG argument).
    conf_level, n_boot, time_unit
    """

    summary: pd.DataFrame
    total: pd.DataFrame
    estimates: pd.DataFrame
    survival: pd.DataFrame
    description: str
    caveat: str = HETEROGENEITY_CAVEAT
    conf_level: float = 0.95
    n_boot: int = 0
    time_unit: str = "month"
    attrs: dict = field(default_factory=dict)

    def describe(self) -> str:
        """The result in words: the scenario, the gains with their intervals, the bounds and the caveat."""
        t = self.total.set_index("quantity")

        def fmt(q, unit="", pct=False):
            row = t.loc[q]
            f = (lambda x: f"{x:.1f}%") if pct else (lambda x: f"{x:,.2f}{unit}")
            text = f(row["estimate"])
            if np.isfinite(row["ci_lower"]):
                text += f" ({self.conf_level:.0%} interval {f(row['ci_lower'])} to {f(row['ci_upper'])})"
            return text

        lines = [f"Scenario: {self.description}.",
                 f"Lifetime value of a new customer: +{fmt('value_gain')}, {fmt('value_gain_pct', pct=True)}.",
                 f"Customer equity: +{fmt('equity_gain')}, {fmt('equity_gain_pct', pct=True)}.",
                 f"Profit from current customers over {self.attrs.get('profit_horizon'):g} {self.time_unit}s: "
                 f"+{fmt('profit_gain')}, minus a programme cost of {fmt('programme_cost')}: net "
                 f"{fmt('net_profit_gain')}."]
        b = self.summary
        if "value_gain_upper_bound" in b and b["value_gain_upper_bound"].notna().any():
            lines.append("The cut targets some causes only: under independent causes the gain in value within the "
                         "data is as above; without that assumption it lies between 0 and the bound "
                         "value_gain_upper_bound of each segment (Peterson 1976).")
        lines.append(self.caveat)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"RetentionScenario({self.description}; {len(self.summary)} segment(s), {self.n_boot} replicates)"


_GAINS = ("expected_tenure_gain", "value_gain", "value_gain_pct", "equity_gain", "equity_gain_pct", "profit_gain",
          "net_profit_gain", "customers_saved")


def _total(point: np.ndarray, reps: np.ndarray | None, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Totals over segments of the point estimates ``(S, Q)`` and of the replicates ``(S, B, Q)``."""
    def combine(x):  # x: (S, ..., Q)
        out = np.full(x.shape[1:], np.nan)
        for q in _SUMMED:
            out[..., _Q[q]] = np.sum(x[..., _Q[q]], axis=0)
        for q in _AVERAGED:
            out[..., _Q[q]] = np.tensordot(shares, x[..., _Q[q]], axes=(0, 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[..., _Q["value_gain_pct"]] = 100 * out[..., _Q["value_gain"]] / out[..., _Q["value_observed"]]
            out[..., _Q["equity_gain_pct"]] = 100 * out[..., _Q["equity_gain"]] / out[..., _Q["equity_observed"]]
        return out
    return combine(point), (combine(reps) if reps is not None else None)


def retention_scenario(source, *, margin, discount_rate: float, reduce: float | None = None, to_rate=None,
                       rate_cut: float | None = None, retention_lift: float | None = None, causes=None,
                       segments=None, window=None, by=None, horizon: float | None = None,
                       profit_horizon: float = 12, programme_cost: float = 0.0, cost_per: str = "customer",
                       tail: str = "constant", tail_periods: float = 12, retention=None, timing: str = "start",
                       first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0, n_boot: int = 0,
                       conf_level: float = 0.95, random_state=None, progress: bool = False,
                       **frame_kwargs) -> RetentionScenario:
    r"""What cutting the hazard of defection would be worth: tenure, value, equity and profit, with intervals.

    **Assumptions.** A cut aimed at some causes leaves the other causes' hazards unchanged (independent causes;
    the assumption-free bounds are reported beside it). The customers saved are given the future of the average
    survivor of their tenure, which overstates the gain under heterogeneity (see ``caveat``). Margins do not
    change with the cut.

    Parameters
    ----------
    source : Tenures or DataFrame
        Customer records (with causes to cut chosen causes); the bootstrap redraws customers within segments.
    margin, discount_rate, by, horizon, tail, tail_periods, retention, timing, first_period, period, \
margin_rate, conf_level, random_state, progress, **frame_kwargs
        As :func:`~churnsurv.value.lifetime_value`.
    reduce : float, optional
        Relative cut of the hazard, in [0, 1]: 0.2 multiplies the hazards cut by 0.8, 1 removes them.
    to_rate : float or dict, optional
        Instead: cut the hazards (one relative factor per segment) until the annualised defection rate over the
        window (or the observed range) is ``to_rate``; a dict gives one per segment. A rate above the observed one
        leaves the segment as it is; one out of reach (the hazards cut are not enough) removes them, with a
        warning.
    rate_cut : float, optional
        Instead: cut the annual defection rate by this many points (0.05: from 20% to 15%).
    retention_lift : float, optional
        Instead: raise the annual retention rate by this fraction (0.01: from 80% to 80.8%), the "1% improvement
        in retention" of Gupta, Lehmann & Stuart (2004).
    causes : str or list of str, optional
        Causes whose hazard is cut (default all). Records without causes have one cause, ``"any"``.
    segments : list, optional
        Segment values in which the hazard is cut (default all segments; the others are reported unchanged).
    window : (float, float), optional
        Tenure window ``(start, end]`` of the cut in the time unit, e.g. ``(0, 6)`` for the first six months or
        ``(11, 13)`` around a yearly renewal; default every tenure, the tail included.
    profit_horizon : float, default 12
        Horizon (time units) of the profit from the current customers and of the customers saved.
    programme_cost : float, default 0
        Cost of the programme per customer (``cost_per="customer"``: every current customer of the targeted
        segments) or per saved customer (``cost_per="saved"``), in the units of the margin.
    cost_per : {"customer", "saved"}, default "customer"
    n_boot : int, default 0
        Bootstrap replicates (0 or at least 20): customers redrawn within each segment, every curve, tail, mean
        margin, multiplier (for a target rate) and value refitted; the current customers valued are the actual
        ones.

    Returns
    -------
    RetentionScenario
        ``.summary`` (one row per segment), ``.total``, ``.estimates``, ``.survival``, ``.describe()``.

    Warns
    -----
    StatisticalWarning
        When a target rate is out of reach in a segment.

    See Also
    --------
    churnsurv.competing.cause_reduction : the same cut on expected tenure, with its bounds.
    scenario_grid : value against the size of the cut, per cause.

    Notes
    -----
    With discrete cause-specific hazards :math:`h_k(t_j) = d_{kj}/n_j` and the multiplier :math:`c` applied to
    the causes :math:`k \in C` at tenures in the window :math:`W`,

    .. math::

        S^*(t) = \prod_{t_j \le t}\Big(1 - \sum_k c_{kj}\, h_k(t_j)\Big), \qquad
        c_{kj} = c \text{ if } k \in C,\ t_j \in W, \text{ else } 1,

    and every value of :func:`~churnsurv.value.lifetime_value` and :func:`~churnsurv.value.customer_equity` is
    recomputed with :math:`S^*` (the constant tail refitted to the expected defections :math:`\sum_k c_{kj}
    d_{kj}`). The annualised defection rate over :math:`W = (a, b]` (``b`` capped at the last time) is
    :math:`1 - (S(b)/S(a))^{Y/(b-a)}`, :math:`Y` the length of a year in the time unit; ``to_rate``,
    ``rate_cut`` and ``retention_lift`` find :math:`c` by bisection. Customers saved within the horizon
    :math:`H`: :math:`\sum_i w_i\,[S^*(t_i+H)/S^*(t_i) - S(t_i+H)/S(t_i)]` over current customers at tenure
    :math:`t_i`.

    **Bounds.** For causes :math:`C` cut by :math:`r = 1 - c`, whatever the dependence between causes, the
    survival gain at :math:`t` lies in :math:`[0, r \sum_{k\in C} (F_k(\min(t, b)) - F_k(a))^+]` [1]_ (a share
    :math:`r` of the customers who would have left for those causes in the window kept), so the gain in value up
    to the last time lies in :math:`[0, \sum_u m\, v^{u+\delta}\, r\sum_{k \in C}(\cdot)]`; the independence
    answer ``value_gain_within_data`` lies inside.

    **Heterogeneity.** If customers differ in their propensity to leave, those who would have left are the
    least loyal; kept, they do not acquire the survivors' hazard [2]_. The sBG model quantifies this; it is not
    in churnsurv yet, so the gains here are upper estimates in that sense.

    References
    ----------
    .. [1] Peterson, A. V. (1976). Bounds for a joint distribution function with fixed sub-distribution
       functions: application to competing risks. *PNAS* 73, 11-13.
    .. [2] Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of Interactive
       Marketing* 21, 76-90.
    .. [3] Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing Research*
       41, 7-18.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import retention_scenario
    >>> df = pd.DataFrame({"tenure": [1, 2, 2, 3, 4, 4, 5, 6, 6, 6],
    ...                    "churned": [1, 1, 0, 1, 1, 0, 1, 0, 0, 0]})
    >>> res = retention_scenario(df, duration="tenure", event="churned", margin=10, discount_rate=0.01,
    ...                          reduce=0.5, tail="none")
    >>> s = res.summary
    >>> round(float(s["value_observed"].iloc[0]), 2), round(float(s["value_scenario"].iloc[0]), 2)
    (47.02, 56.28)
    """
    owner = "retention_scenario"
    st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=tail, tail_periods=tail_periods,
                   retention=retention, timing=timing, first_period=first_period, period=period)
    ph = _check_real(profit_horizon, "profit_horizon", owner, low=0.0, low_open=True,
                     expected="a float > 0 (in the time unit)")
    st_profit = replace(st, horizon=ph, n_periods=_n_periods(ph, st.period))
    cost = _check_real(programme_cost, "programme_cost", owner, low=0.0, expected="a float >= 0")
    check_one_of(cost_per, "cost_per", owner, COST_PER)
    n_boot = _check_bootstrap(n_boot, random_state, progress, owner)
    conf_level = check_conf_level(conf_level, owner)
    src = _records_source(source, by, owner, frame_kwargs, margin)
    margins = _margins(margin, margin_rate, src, owner)
    spec = _check_spec(src, causes, segments, window, reduce, to_rate, rate_cut, retention_lift, owner)
    point, reps, curves, reached = _run(src, margins, spec, st, st_profit, cost, cost_per, n_boot, random_state,
                                        progress, owner)
    for s, ok in enumerate(reached):
        if not ok:
            name = ", ".join(map(str, src.labels()[s])) or "all customers"
            warnings.warn(f"{owner}: the target defection rate is out of reach in segment {name}, or its window "
                          "holds no data: the hazards chosen were removed (or left) there, not cut to the target.",
                          StatisticalWarning, stacklevel=find_stack_level())
    return _result(src, spec, point, reps, curves, st, ph, conf_level, n_boot, margin_rate, owner)


def _bases(src, margins, owner) -> list[_Base]:
    d = src.tenures.data
    current = ~d["event"].to_numpy(bool)
    exit_ = d["exit"].to_numpy(float)
    weight = d["weight"].to_numpy(float)
    columns = {m.column for m in margins if m.column is not None}
    values = {c: _margin_column(src.tenures, c, owner) for c in columns}
    out = []
    for s, label in enumerate(src.labels()):
        rows = np.flatnonzero(src.seg_code == s)
        cur = np.flatnonzero(current & (src.seg_code == s))
        m = margins[s]
        cv = _customer_margins(src, margins, s, cur, values) * weight[cur]
        out.append(_Base(label, m, rows, exit_[cur], cv, weight[cur],
                         values[m.column][rows] if m.column is not None else None))
    return out


def _run(src, margins, spec, st, st_profit, cost, cost_per, n_boot, random_state, progress, owner):
    segs = _segments(src)
    bases = _bases(src, margins, owner)
    k = len(_causes(src))
    point = np.full((len(segs), len(_QUANTITIES)), np.nan)
    reached = []
    curves = []
    for s, (seg, base) in enumerate(zip(segs, bases, strict=True)):
        n, d = _counts(seg, seg.weight[None, :], k)
        point[s], ok = _evaluate(seg, base, n[0], d[0], seg.weight, spec, bool(spec.segments[s]), st, st_profit,
                                 cost, cost_per, owner, warn=True)
        reached.append(ok)
        s_obs = _survival(n[0], d[0])
        c = point[s, _Q["hazard_multiplier"]]
        cause_mask = np.zeros(k, dtype=bool)
        cause_mask[list(spec.causes)] = True
        mult = np.where(_window_mask(seg.grid, spec.window)[:, None] & cause_mask[None, :], c, 1.0)
        last = int(np.flatnonzero(n[0] > 0)[-1]) if (n[0] > 0).any() else 0
        curves.append((seg.grid[: last + 1], s_obs[: last + 1], _survival(n[0], d[0], mult)[: last + 1]))
    reps = None
    if n_boot:
        rng = np.random.default_rng(random_state)
        reps = np.full((len(segs), n_boot, len(_QUANTITIES)), np.nan)
        for s, b0, w in _replicate_weights(src, segs, n_boot, rng, progress, owner):
            n, d = _counts(segs[s], w, k)
            for i in range(len(w)):
                reps[s, b0 + i], _ = _evaluate(segs[s], bases[s], n[i], d[i], w[i], spec, bool(spec.segments[s]),
                                               st, st_profit, cost, cost_per, owner, warn=False)
    return point, reps, curves, reached


def _result(src, spec, point, reps, curves, st, ph, conf_level, n_boot, margin_rate, owner) -> RetentionScenario:
    by = list(src.by)
    n_seg = len(src.keys)
    if reps is not None:
        se, lo, hi = _percentile(np.moveaxis(reps, 1, 2), conf_level)  # (S, Q)
    else:
        se = lo = hi = np.full_like(point, np.nan)
    summary = src.keys[by].reset_index(drop=True).copy() if by else pd.DataFrame(index=range(1))
    summary["targeted"] = spec.segments
    summary["n_current"] = [float(np.sum(b)) for b in _current_weights(src)]
    for name in _QUANTITIES:
        summary[name] = point[:, _Q[name]]
        if name == "value_gain_upper_bound":
            summary.insert(len(summary.columns) - 1, "value_gain_lower_bound",
                           np.where(np.isfinite(point[:, _Q[name]]), 0.0, np.nan))
        if name in _GAINS:
            summary[f"{name}_ci_lower"] = lo[:, _Q[name]]
            summary[f"{name}_ci_upper"] = hi[:, _Q[name]]
    est = (src.keys[by].iloc[np.repeat(np.arange(n_seg), len(_QUANTITIES))].reset_index(drop=True) if by
           else pd.DataFrame(index=range(len(_QUANTITIES))))
    est["quantity"] = pd.Categorical(np.tile(_QUANTITIES, n_seg), categories=list(_QUANTITIES))
    est["estimate"] = point.ravel()
    est["std_error"], est["ci_lower"], est["ci_upper"] = se.ravel(), lo.ravel(), hi.ravel()

    shares = np.asarray(src.n_customers, float)
    shares = shares / shares.sum()
    tp, tr = _total(point, reps, shares)
    if tr is not None:
        tse, tlo, thi = _percentile(tr.T, conf_level)
    else:
        tse = tlo = thi = np.full(len(_QUANTITIES), np.nan)
    keep = [q for q in _QUANTITIES if q in _SUMMED + _AVERAGED + ("value_gain_pct", "equity_gain_pct")]
    idx = [_Q[q] for q in keep]
    total = pd.DataFrame({"quantity": keep, "estimate": tp[idx], "std_error": tse[idx], "ci_lower": tlo[idx],
                          "ci_upper": thi[idx]})

    frames = []
    for s, (grid, s_obs, s_cf) in enumerate(curves):
        for name, sv in (("observed", s_obs), ("scenario", s_cf)):
            f = pd.DataFrame({"scenario": name, "time": grid, "estimate": sv})
            for b in by:
                f.insert(0 if b == by[0] else by.index(b), b, src.keys[b].iloc[s])
            frames.append(f)
    surv = pd.concat(frames, ignore_index=True)
    for b in by:
        if isinstance(src.keys[b].dtype, pd.CategoricalDtype):
            surv[b] = pd.Categorical(surv[b], categories=src.keys[b].cat.categories)
    surv["scenario"] = pd.Categorical(surv["scenario"], categories=["observed", "scenario"])
    surv.attrs["time_unit"] = src.time_unit
    attrs = dict(st.attrs(), profit_horizon=ph, margin_rate=float(margin_rate), time_unit=src.time_unit,
                 window=spec.window, mode=spec.mode)
    summary.attrs.update(attrs, conf_level=conf_level, n_boot=n_boot)
    return RetentionScenario(summary=summary, total=total, estimates=est, survival=surv, description=spec.words,
                             conf_level=conf_level, n_boot=n_boot, time_unit=src.time_unit, attrs=attrs)


def _current_weights(src):
    d = src.tenures.data
    current = ~d["event"].to_numpy(bool)
    w = d["weight"].to_numpy(float)
    return [w[current & (src.seg_code == s)] for s in range(len(src.keys))]


def scenario_grid(source, *, margin, discount_rate: float, reductions=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                  0.9, 1.0), causes="each", by=None, window=None, horizon: float | None = None,
                  tail: str = "constant", tail_periods: float = 12, retention=None, timing: str = "start",
                  first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0,
                  **frame_kwargs) -> pd.DataFrame:
    """Lifetime value and equity against the size of a hazard cut: one line per cause (point estimates).

    Parameters
    ----------
    source, margin, discount_rate, by, window, horizon, tail, tail_periods, retention, timing, first_period, \
period, margin_rate, **frame_kwargs
        As :func:`retention_scenario`.
    reductions : sequence of float
        Relative cuts of the hazard, in [0, 1].
    causes : "each", "all" or list of str, default "each"
        ``"each"``: one line per cause and one for all causes together; ``"all"``: all causes together; a list:
        those causes, one line each.

    Returns
    -------
    pandas.DataFrame
        ``[*by, cause, reduction, value, value_gain, equity, equity_gain, expected_tenure]``; ``cause`` is
        ``"all causes"`` for the line that cuts every cause.

    See Also
    --------
    retention_scenario : one cut, with intervals and bounds.
    churnsurv.plotting.plot_value_by_reduction : its figure.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import scenario_grid
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6, 6], "churned": [1, 1, 1, 0, 1, 0, 0],
    ...                    "reason": ["price", "service", "price", None, "price", None, None]})
    >>> g = scenario_grid(df, duration="tenure", event="churned", cause="reason", margin=10, discount_rate=0.01,
    ...                   reductions=[0, 1], tail="none")
    >>> print(g[["cause", "reduction", "value"]].round(2).to_string(index=False))
         cause  reduction  value
    all causes        0.0  43.74
    all causes        1.0  67.95
         price        0.0  43.74
         price        1.0  59.95
       service        0.0  43.74
       service        1.0  48.79
    """
    owner = "scenario_grid"
    st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=tail, tail_periods=tail_periods,
                   retention=retention, timing=timing, first_period=first_period, period=period)
    src = _records_source(source, by, owner, frame_kwargs, margin)
    margins = _margins(margin, margin_rate, src, owner)
    all_causes = _causes(src)
    try:
        reductions = [float(r) for r in reductions]
    except (TypeError, ValueError) as err:
        raise param_error("reductions", owner, "a sequence of fractions in [0, 1]", reductions, type_error=True) \
            from err
    if not reductions or any(not 0 <= r <= 1 for r in reductions):
        raise param_error("reductions", owner, "a non-empty sequence of fractions in [0, 1]", reductions)
    if isinstance(causes, str) and causes == "each":
        lines = [("all causes", None)] + ([(c, [c]) for c in all_causes] if len(all_causes) > 1 else [])
    elif isinstance(causes, str) and causes == "all":
        lines = [("all causes", None)]
    else:
        names = [causes] if isinstance(causes, str) else list(causes)
        lines = [(c, [c]) for c in names]
    segs = _segments(src)
    bases = _bases(src, margins, owner)
    st_profit = replace(st, horizon=1.0, n_periods=_n_periods(1.0, st.period))
    rows = []
    counts = [_counts(seg, seg.weight[None, :], len(all_causes)) for seg in segs]
    for name, cs_ in lines:
        for r in reductions:
            spec = _check_spec(src, cs_, None, window, r, None, None, None, owner)
            for s, (seg, base) in enumerate(zip(segs, bases, strict=True)):
                n, d = counts[s]
                q, _ = _evaluate(seg, base, n[0], d[0], seg.weight, spec, True, st, st_profit, 0.0, "customer",
                                 owner, warn=False)
                row = dict(zip(src.by, src.labels()[s], strict=True))
                row.update(cause=name, reduction=r, value=q[_Q["value_scenario"]], value_gain=q[_Q["value_gain"]],
                           equity=q[_Q["equity_scenario"]], equity_gain=q[_Q["equity_gain"]],
                           expected_tenure=q[_Q["expected_tenure_scenario"]])
                rows.append(row)
    out = pd.DataFrame(rows)
    by = list(src.by)
    for b in by:
        if isinstance(src.keys[b].dtype, pd.CategoricalDtype):
            out[b] = pd.Categorical(out[b], categories=src.keys[b].cat.categories)
    out = out.sort_values([*by, "cause", "reduction"], kind="stable").reset_index(drop=True)
    out.attrs.update(st.attrs(), margin_rate=float(margin_rate), time_unit=src.time_unit)
    return out
