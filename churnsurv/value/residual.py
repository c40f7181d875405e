r"""The value of the customers a business already has, and of the cohorts it will acquire.

:func:`residual_value` values each current (censored) customer from the tenure reached, with the conditional
survival :math:`S(t+u)/S(t)` (the natural estimand of a snapshot); :func:`customer_equity` sums it by segment,
with a customer bootstrap; :func:`future_cohorts_value` adds the cohorts still to come from an acquisition rate
and cost.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, param_error
from churnsurv.value._engine import _values
from churnsurv.value._sources import (
    _bootstrap_draws,
    _check_bootstrap,
    _check_real,
    _margin_column,
    _margins,
    _read_source,
    value_columns,
)
from churnsurv.value.lifetime import _percentile_ci, _Settings, _settings, _tail_for

__all__ = ["customer_equity", "future_cohorts_value", "residual_value"]


def _records_source(source, by, owner, frame_kwargs, margin):
    src = _read_source(source, by, owner, dict(frame_kwargs), value_columns=value_columns(margin))
    if src.tenures is None:
        raise param_error("source", owner, "customer records (a Tenures or a DataFrame with duration=/event=): the "
                          "current customers and their tenures come from them", src.kind, type_error=True)
    return src


def _unit_values(curve, tail, tenure: np.ndarray, margin, st: _Settings):
    """(data, tail) per customer for a margin of 1 per period (times ``margin.fn`` when it is a callable)."""
    uniq, inverse = np.unique(tenure, return_inverse=True)
    data, tl = _values(curve, tail, uniq, v=st.v, delta=st.delta, u0=st.u0, n_periods=st.n_periods,
                       period=st.period, margin_fn=margin.fn, conditional=True)
    if not np.isfinite(tail.retention) and curve.surv_tau > 0:
        tl = np.full(len(uniq), np.nan)
    return data[inverse], tl[inverse]


def _customer_margins(src, margins, seg: int, rows: np.ndarray, values: dict) -> np.ndarray:
    m = margins[seg]
    if m.column is not None:
        return m.rate * values[m.column][rows]
    return np.full(len(rows), m.scale)


def _residual_table(src, margins, st: _Settings, owner: str, warn: bool = True) -> pd.DataFrame:
    d = src.tenures.data
    current = ~d["event"].to_numpy(bool)
    exit_ = d["exit"].to_numpy(float)
    columns = {m.column for m in margins if m.column is not None}
    values = {c: _margin_column(src.tenures, c, owner) for c in columns}
    est = np.full(len(d), np.nan)
    data_part = np.full(len(d), np.nan)
    tail_part = np.full(len(d), np.nan)
    margin = np.full(len(d), np.nan)
    for seg, (label, curve) in enumerate(zip(src.labels(), src.curves, strict=True)):
        rows = np.flatnonzero(current & (src.seg_code == seg))
        if not len(rows):
            continue
        tail = _tail_for(curve, st, label, owner, warn)
        du, tu = _unit_values(curve, tail, exit_[rows], margins[seg], st)
        c = _customer_margins(src, margins, seg, rows, values)
        margin[rows] = c if margins[seg].fn is None else np.nan
        data_part[rows], tail_part[rows] = c * du, c * tu
        est[rows] = data_part[rows] + tail_part[rows]
    keep = current
    out = pd.DataFrame({"id": d["id"].to_numpy()[keep]})
    for b in src.by:
        out[b] = d[b].to_numpy()[keep] if not isinstance(d[b].dtype, pd.CategoricalDtype) else d[b].array[keep]
    out["tenure"] = exit_[keep]
    out["weight"] = d["weight"].to_numpy(float)[keep]
    out["margin"] = margin[keep]
    out["estimate"] = est[keep]
    out["data_value"] = data_part[keep]
    out["tail_value"] = tail_part[keep]
    return out


def residual_value(source, *, margin, discount_rate: float, by=None, horizon: float | None = None,
                   tail: str = "constant", tail_periods: float = 12, retention=None, timing: str = "start",
                   first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0,
                   **frame_kwargs) -> pd.DataFrame:
    r"""Expected discounted future margin of each current customer, from the tenure reached.

    Parameters
    ----------
    source : Tenures or DataFrame
        Customer records; the current customers are the censored rows (still a customer at ``exit``), and the
        Kaplan-Meier curve of their segment (fitted on all rows, left truncation respected) gives their future.
    margin : float, str, callable or dict
        As :func:`lifetime_value`; a value column gives each customer their own margin, a callable of tenure is
        evaluated at the tenure at the start of each future period.
    discount_rate, by, tail, tail_periods, retention, timing, period, margin_rate, **frame_kwargs
        As :func:`lifetime_value`.
    horizon : float, optional
        Count only the future periods that start within ``horizon`` of now (in the time unit); None: infinite.
    first_period : bool, default True
        Count the period that starts now, at the tenure reached (``False``: it has already been paid).

    Returns
    -------
    pandas.DataFrame
        One row per current customer: ``[id, *by, tenure, weight, margin, estimate, data_value, tail_value]``;
        ``estimate`` is the residual value, split at the segment's last observed time into ``data_value`` and
        ``tail_value``. ``attrs`` as :func:`lifetime_value`.

    See Also
    --------
    customer_equity : the sum by segment, with a bootstrap interval.
    lifetime_value : the value of a new customer (the residual value at tenure 0).

    Notes
    -----
    A customer still there at tenure :math:`t` (censored at :math:`t`, so :math:`T > t`) is worth

    .. math::

        R(t) = \sum_{u = u_0}^{N - 1} m(t + up)\, \frac{S(t + up)}{S(t)}\, (1 + d)^{-(u + \delta)},

    the conventions of :func:`lifetime_value` counted from now: period :math:`u` covers tenure
    :math:`(t + up, t + (u+1)p]`, :math:`u_0 = 0` when ``first_period`` (the period starting now is counted, and
    with ``timing="start"`` it is received now, undiscounted, with probability 1), and :math:`N` is the number of
    periods starting within the horizon. Beyond the segment's last observed time :math:`\tau` the tail of
    :func:`lifetime_value` continues :math:`S`. :math:`R(0)` equals the lifetime value when nobody defects at
    time 0. The conditional survival :math:`S(t+u)/S(t)` is what a snapshot (left-truncated records) estimates
    best: it needs no knowledge of the early tenure of the customers who left before the snapshot.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import residual_value
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6], "churned": [1, 1, 0, 1, 0, 0]})
    >>> residual_value(df, duration="tenure", event="churned", margin=10, discount_rate=0.01,
    ...                tail="none")[["id", "tenure", "estimate"]].round(3)
       id  tenure  estimate
    0   2     3.0    29.607
    1   4     5.0    19.901
    2   5     6.0    10.000
    """
    owner = "residual_value"
    st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=tail, model_tails=True,
                   tail_periods=tail_periods, retention=retention, timing=timing, first_period=first_period,
                   period=period)
    src = _records_source(source, by, owner, frame_kwargs, margin)
    margins = _margins(margin, margin_rate, src, owner)
    out = _residual_table(src, margins, st, owner)
    out.attrs.update(st.attrs(), margin_rate=float(margin_rate), time_unit=src.time_unit, source=src.kind)
    return out


def customer_equity(source, *, margin, discount_rate: float, by=None, horizon: float | None = None,
                    tail: str = "constant", tail_periods: float = 12, retention=None, timing: str = "start",
                    first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0, n_boot: int = 0,
                    conf_level: float = 0.95, random_state=None, progress: bool = False,
                    **frame_kwargs) -> pd.DataFrame:
    r"""Customer equity: the residual value of the current customers, summed by segment.

    Parameters
    ----------
    source, margin, discount_rate, by, horizon, tail, tail_periods, retention, timing, first_period, period, \
margin_rate, **frame_kwargs
        As :func:`residual_value`.
    n_boot : int, default 0
        Bootstrap replicates (0: none, else at least 20). Customers are redrawn within each segment to refit the
        curve and its tail; the equity of each replicate is evaluated on the actual current customers (the base
        is what it is; the uncertainty is in its future). Segments are independent, so the variance of a total
        over segments is the sum of their variances.
    conf_level, random_state, progress
        As :func:`lifetime_value`.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``[*by, n_current, estimate, mean_value, data_value, tail_value, tail_share,
        tail_retention]`` and with ``n_boot`` ``std_error, ci_lower, ci_upper``; ``n_current`` is the (weighted)
        number of current customers, ``mean_value`` the equity per current customer. ``attrs`` as
        :func:`lifetime_value`.

    See Also
    --------
    residual_value : the value of each current customer.
    future_cohorts_value : the value of the customers still to be acquired.

    Notes
    -----
    .. math::

        \mathrm{CE}_s = \sum_{i \in s,\ \text{current}} w_i\, R_i(t_i),

    :math:`R_i` the residual value of :func:`residual_value`, :math:`w_i` the case weight [1]_.

    References
    ----------
    .. [1] Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing
       Research* 41, 7-18.

    Examples
    --------
    >>> from churnsurv.datasets import load_maven_telco
    >>> from churnsurv.value import customer_equity
    >>> t = load_maven_telco(truncate=True)
    >>> ce = customer_equity(t, by="Contract", margin="Monthly Charge", margin_rate=0.3, discount_rate=0.01)
    >>> ce[["Contract", "n_current", "mean_value", "tail_share"]].round(3)
             Contract  n_current  mean_value  tail_share
    0  Month-to-Month     1955.0     109.244       0.032
    1        One Year     1384.0     351.747       0.293
    2        Two Year     1835.0     904.757       0.757
    """
    owner = "customer_equity"
    st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=tail, model_tails=True,
                   tail_periods=tail_periods, retention=retention, timing=timing, first_period=first_period,
                   period=period)
    n_boot = _check_bootstrap(n_boot, random_state, progress, owner)
    conf_level = check_conf_level(conf_level, owner)
    src = _records_source(source, by, owner, frame_kwargs, margin)
    margins = _margins(margin, margin_rate, src, owner)
    per = _residual_table(src, margins, st, owner)
    code = src.seg_code[~src.tenures.data["event"].to_numpy(bool)]
    rows = []
    for seg, (label, curve) in enumerate(zip(src.labels(), src.curves, strict=True)):
        m = code == seg
        w = per["weight"].to_numpy()[m]
        total = float(np.sum(w * per["estimate"].to_numpy()[m]))
        tl = float(np.sum(w * per["tail_value"].to_numpy()[m]))
        tail = _tail_for(curve, st, label, owner, warn=False)
        rows.append({"n_current": float(np.sum(w)), "estimate": total,
                     "mean_value": total / np.sum(w) if np.sum(w) > 0 else np.nan,
                     "data_value": total - tl, "tail_value": tl, "tail_share": tl / total if total else np.nan,
                     "tail_retention": tail.retention if st.tail != "none" else np.nan})
    out = pd.DataFrame(rows)
    for j, b in enumerate(src.by):
        out.insert(j, b, src.keys[b].array)
    if n_boot:
        reps = _equity_bootstrap(src, margins, st, n_boot, random_state, progress, owner)
        stats = np.array([_percentile_ci(r, conf_level) for r in reps])
        out["std_error"], out["ci_lower"], out["ci_upper"] = stats[:, 0], stats[:, 1], stats[:, 2]
    out.attrs.update(st.attrs(), margin_rate=float(margin_rate), time_unit=src.time_unit, source=src.kind,
                     conf_level=conf_level, n_boot=n_boot)
    return out


def _equity_bootstrap(src, margins, st, n_boot, random_state, progress, owner) -> np.ndarray:
    rng = np.random.default_rng(random_state)
    d = src.tenures.data
    current = ~d["event"].to_numpy(bool)
    exit_ = d["exit"].to_numpy(float)
    weight = d["weight"].to_numpy(float)
    columns = {m.column for m in margins if m.column is not None}
    values = {c: _margin_column(src.tenures, c, owner) for c in columns}
    labels = src.labels()
    reps = np.full((len(src.keys), n_boot), np.nan)
    filled = np.zeros(len(src.keys), dtype=np.int64)
    for seg, _rows, _w, curves in _bootstrap_draws(src, n_boot, rng, progress, owner):
        base = np.flatnonzero(current & (src.seg_code == seg))
        c = _customer_margins(src, margins, seg, base, values) * weight[base]
        for curve in curves:
            tail = _tail_for(curve, st, labels[seg], owner, warn=False)
            # a replicate may end before a current customer's tenure: its tail continues the curve there
            du, tu = _unit_values(curve, tail, exit_[base], margins[seg], st)
            reps[seg, filled[seg]] = float(np.sum(c * (du + tu)))
            filled[seg] += 1
    return reps


def future_cohorts_value(value, *, acquisitions, discount_rate: float, acquisition_cost=0.0,
                         horizon: float | None = None, timing: str = "start") -> pd.DataFrame:
    r"""Value of the cohorts still to be acquired: acquisitions per period x (lifetime value - cost), discounted.

    Parameters
    ----------
    value : float or pandas.DataFrame
        Lifetime value of a new customer at acquisition: a number, or the table of :func:`lifetime_value` (its
        ``estimate`` per segment; its ``attrs`` give the defaults of ``horizon``'s unit and ``timing``).
    acquisitions : float or dict
        New customers per period (a dict per segment allowed).
    discount_rate : float
        Discount rate per period (> 0 for an infinite horizon).
    acquisition_cost : float or dict, default 0
        Cost of acquiring one customer, paid at acquisition.
    horizon : float, optional
        Count the cohorts acquired in the first ``horizon`` periods; None: forever.
    timing : {"start", "end"}, default "start"
        Cohort :math:`c = 0, 1, \dots` is acquired at the start (time :math:`c`) or end (time :math:`c+1`) of
        period :math:`c`.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``[*by, acquisitions, acquisition_cost, lifetime_value, estimate]``.

    Notes
    -----
    .. math::

        \sum_{c=0}^{C-1} a\,(V - K)\,(1+d)^{-(c + \delta)}
            = a\,(V - K)\,(1+d)^{-\delta}\,\frac{1 - (1+d)^{-C}}{1 - (1+d)^{-1}},

    which is :math:`a (V - K)(1+d)/d` for :math:`C = \infty` with ``timing="start"`` [1]_.

    References
    ----------
    .. [1] Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing
       Research* 41, 7-18.

    Examples
    --------
    >>> from churnsurv.value import future_cohorts_value
    >>> future_cohorts_value(100.0, acquisitions=50, acquisition_cost=40, discount_rate=0.01)["estimate"].round(2)
    0    303000.0
    Name: estimate, dtype: float64
    """
    owner = "future_cohorts_value"
    d = _check_real(discount_rate, "discount_rate", owner, low=0.0, expected="a float >= 0 (per period)")
    if timing not in ("start", "end"):
        raise param_error("timing", owner, "one of {'start', 'end'}", timing)
    if horizon is None:
        if d == 0:
            raise param_error("discount_rate", owner, "a float > 0 with an infinite horizon", discount_rate)
        n = np.inf
    else:
        n = float(np.ceil(_check_real(horizon, "horizon", owner, low=0.0, low_open=True,
                                      expected="None or a float > 0") - 1e-9))
    if isinstance(value, pd.DataFrame):
        if "estimate" not in value.columns:
            raise param_error("value", owner, "a number or the table of lifetime_value", "a DataFrame without "
                              "'estimate'")
        by = [c for c in value.columns if c not in _VALUE_COLUMNS]
        frame = value[by].copy().reset_index(drop=True)
        lv = value["estimate"].to_numpy(float)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        by, frame, lv = [], pd.DataFrame(index=pd.RangeIndex(1)), np.array([float(value)])
    else:
        raise param_error("value", owner, "a number or the table of lifetime_value", value, type_error=True)
    labels = [tuple(r) for r in frame[by].itertuples(index=False)] if by else [()]

    def per_segment(x, name):
        out = []
        for lab in labels:
            if isinstance(x, dict):
                key = lab[0] if len(lab) == 1 else lab
                if key not in x:
                    raise param_error(name, owner, "a number or a dict with every segment", f"a dict without {key!r}")
                out.append(_check_real(x[key], name, owner, low=0.0, expected="a float >= 0"))
            else:
                out.append(_check_real(x, name, owner, low=0.0, expected="a float >= 0"))
        return np.array(out)

    a = per_segment(acquisitions, "acquisitions")
    k = per_segment(acquisition_cost, "acquisition_cost")
    v = 1.0 / (1.0 + d)
    delta = 0 if timing == "start" else 1
    geo = n if d == 0 else ((1.0 - v ** n) / (1.0 - v) if np.isfinite(n) else 1.0 / (1.0 - v))
    frame["acquisitions"] = a
    frame["acquisition_cost"] = k
    frame["lifetime_value"] = lv
    frame["estimate"] = a * (lv - k) * v ** delta * geo
    frame.attrs.update(discount_rate=d, horizon=horizon, timing=timing)
    return frame


_VALUE_COLUMNS = {"n_customers", "margin", "estimate", "data_value", "tail_value", "tail_share", "last_time",
                  "survival_at_last", "tail_retention", "tail_events", "tail_exposure", "std_error", "ci_lower",
                  "ci_upper"}
