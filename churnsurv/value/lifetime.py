r"""Expected discounted lifetime value of a new customer from any survival curve, with an explicit tail.

:func:`lifetime_value` sums margin x probability still a customer x discount factor over periods, per segment,
from customer records (a Kaplan-Meier curve is fitted), a fitted :class:`~churnsurv.KaplanMeier` or
:class:`~churnsurv.AalenJohansen` (its all-cause survival), a :class:`~churnsurv.LifeTable`, or any survival table
``(time, estimate[, segment...])`` so that model predictions plug in. Beyond the data the tail is a choice, and
:func:`lifetime_value_range` shows the answer under each tail family side by side.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, check_one_of, find_stack_level, param_error
from churnsurv.exceptions import StatisticalWarning
from churnsurv.value._engine import _constant_tail, _Curve, _n_periods, _Tail, _values
from churnsurv.value._sources import (
    _bootstrap_draws,
    _check_bootstrap,
    _check_real,
    _Margin,
    _margin_column,
    _margins,
    _read_source,
    _Source,
    value_columns,
)

__all__ = ["lifetime_value", "lifetime_value_range"]

#: Model families a tail can be fitted from (churnsurv.value._tail_models): value functions that only support the
#: constant and geometric tails refuse them with a named error.
MODEL_TAILS = ("exponential", "weibull", "lognormal", "loglogistic", "sbg", "bdw", "cure")
TAILS = ("constant", "geometric", "none", "stop", *MODEL_TAILS)
TIMINGS = ("start", "end")


@dataclass
class _Settings:
    """Validated conventions shared by every value function."""

    discount_rate: float
    v: float
    delta: int
    u0: int
    horizon: float | None
    n_periods: float
    period: float
    timing: str
    first_period: bool
    tail: str
    tail_periods: float
    retention: object  # float, dict per segment, or None

    def attrs(self) -> dict:
        return {"discount_rate": self.discount_rate, "timing": self.timing, "first_period": self.first_period,
                "horizon": self.horizon, "period": self.period, "tail": self.tail,
                "tail_periods": self.tail_periods if self.tail == "constant" else None,
                "retention": self.retention if self.tail == "geometric" else None}


def _settings(owner, *, discount_rate, horizon, tail, tail_periods, retention, timing, first_period,
              period, model_tails: bool = False) -> _Settings:
    d = _check_real(discount_rate, "discount_rate", owner, low=0.0, expected="a float >= 0 (per period)")
    p = _check_real(period, "period", owner, low=0.0, low_open=True, expected="a float > 0 (in the time unit)")
    if horizon is not None:
        horizon = _check_real(horizon, "horizon", owner, low=0.0, low_open=True,
                              expected="None (infinite) or a float > 0 (in the time unit)")
    check_one_of(tail, "tail", owner, TAILS if model_tails else TAILS[:4])
    check_one_of(timing, "timing", owner, TIMINGS)
    if not isinstance(first_period, (bool, np.bool_)):
        raise param_error("first_period", owner, "a bool", first_period, type_error=True)
    k = _check_real(tail_periods, "tail_periods", owner, low=0.0, low_open=True, expected="a number > 0 of periods")
    if tail == "geometric":
        if retention is None:
            raise param_error("retention", owner, "a float in [0, 1] (or a dict per segment) with tail='geometric'",
                              retention)
        for r in (retention.values() if isinstance(retention, dict) else [retention]):
            if not isinstance(r, numbers.Real) or isinstance(r, bool) or not 0.0 <= float(r) <= 1.0:
                raise param_error("retention", owner, "a float in [0, 1] (or a dict of them per segment)", r,
                                  type_error=not isinstance(r, numbers.Real))
    return _Settings(discount_rate=d, v=1.0 / (1.0 + d), delta=0 if timing == "start" else 1,
                     u0=0 if first_period else 1, horizon=horizon, n_periods=_n_periods(horizon, p), period=p,
                     timing=timing, first_period=bool(first_period), tail="none" if tail == "stop" else tail,
                     tail_periods=k, retention=retention)


def _segment_name(label: tuple) -> str:
    return ", ".join(map(str, label)) if label else "all customers"


def _tail_for(curve: _Curve, st: _Settings, label: tuple, owner: str, warn: bool = True) -> _Tail:
    """The tail of one segment's curve under the settings (warns when a constant tail cannot be trusted)."""
    if st.tail == "none":
        return _Tail("none", 0.0)
    if st.tail == "geometric":
        r = st.retention
        if isinstance(r, dict):
            key = label[0] if len(label) == 1 else label
            if key not in r:
                raise param_error("retention", owner, "a dict with a retention for every segment",
                                  f"a dict without {key!r}")
            r = r[key]
        return _Tail("geometric", float(r))
    if st.tail in MODEL_TAILS:
        return _model_tail(curve, st, label, owner, warn)
    tail = _constant_tail(curve, st.tail_periods, st.period)
    if warn and curve.surv_tau > 0:
        name = _segment_name(label)
        if not np.isfinite(tail.retention):
            warnings.warn(f"{owner}: nobody is at risk in the last {st.tail_periods:g} periods of segment {name}; "
                          "the constant tail cannot be fitted (its value is NaN). Use tail='geometric' or 'none'.",
                          StatisticalWarning, stacklevel=find_stack_level())
        elif tail.method == "counts" and tail.n_events == 0:
            warnings.warn(f"{owner}: no defection in the last {st.tail_periods:g} periods of segment {name}; the "
                          "constant tail keeps every customer (retention 1), so its value rests on the discount "
                          "rate alone. Widen tail_periods or compare tails with lifetime_value_range.",
                          StatisticalWarning, stacklevel=find_stack_level())
    return tail


def _model_tail(curve: _Curve, st: _Settings, label: tuple, owner: str, warn: bool) -> _Tail:
    """A model family fitted to the curve's counts; its mean per-period retention over ``tail_periods`` is
    reported as the tail's retention."""
    from churnsurv.value._tail_models import fit_tail_model

    if curve.n_at_risk is None or curve.n_events is None:
        raise ValueError(f"{owner}: tail={st.tail!r} is fitted to the numbers at risk and defections, which a plain "
                         "survival table does not have. Pass the records, a KaplanMeier or a LifeTable, or add "
                         "n_at_risk and n_events columns.")
    if curve.surv_tau <= 0:  # nobody left at the end of the curve: nothing to continue
        return _Tail("none", 0.0, method=st.tail)
    model = fit_tail_model(curve.time, curve.n_at_risk, curve.n_events, st.tail, st.period)
    if warn and not model.converged:
        warnings.warn(f"{owner}: the {st.tail} tail of segment {_segment_name(label)} did not converge; its value is "
                      "unreliable.", StatisticalWarning, stacklevel=find_stack_level())
    k = st.tail_periods
    tau = curve.tau
    ls = model.log_surv(np.array([tau, tau + k * st.period]))
    retention = float(np.exp((ls[1] - ls[0]) / k))
    return _Tail("model", retention, float(np.sum(curve.n_events)), np.nan, st.tail, model)


def _one_value(curve: _Curve, tail: _Tail, margin: _Margin, st: _Settings) -> tuple[float, float]:
    """(data part, tail part) of the value of a new customer in one segment."""
    data, tl = _values(curve, tail, np.zeros(1), v=st.v, delta=st.delta, u0=st.u0, n_periods=st.n_periods,
                       period=st.period, margin_fn=margin.fn, conditional=False)
    tail_value = tl[0]
    if not np.isfinite(tail.retention) and curve.surv_tau > 0:
        k1 = np.floor(curve.tau / st.period + 1e-9) + 1
        if k1 < st.n_periods:
            tail_value = np.nan
    return margin.scale * float(data[0]), margin.scale * float(tail_value)


def _percentile_ci(reps: np.ndarray, conf_level: float) -> tuple[float, float, float]:
    reps = reps[np.isfinite(reps)]
    if len(reps) < 2:
        return np.nan, np.nan, np.nan
    a = (1.0 - conf_level) / 2.0
    lo, hi = np.quantile(reps, [a, 1.0 - a])
    return float(np.std(reps, ddof=1)), float(lo), float(hi)


def _compute(src: _Source, margins: list, st: _Settings, owner: str, warn: bool = True) -> pd.DataFrame:
    rows = []
    for k, (label, curve) in enumerate(zip(src.labels(), src.curves, strict=True)):
        tail = _tail_for(curve, st, label, owner, warn)
        data, tl = _one_value(curve, tail, margins[k], st)
        total = data + tl
        rows.append({
            "n_customers": src.n_customers[k],
            "margin": margins[k].scale if margins[k].fn is None else np.nan,
            "estimate": total,
            "data_value": data,
            "tail_value": tl,
            "tail_share": tl / total if total != 0 else np.nan,
            "last_time": curve.tau,
            "survival_at_last": curve.surv_tau,
            "tail_retention": tail.retention if st.tail != "none" else np.nan,
            "tail_events": tail.n_events,
            "tail_exposure": tail.exposure,
        })
    out = pd.DataFrame(rows)
    for j, b in enumerate(src.by):
        out.insert(j, b, src.keys[b].array)
    return out


def _bootstrap(src: _Source, margin, margin_rate, st: _Settings, n_boot, conf_level, random_state, progress, owner):
    """Percentile intervals: customers redrawn within segments, curve, tail and mean margins refitted."""
    if src.tenures is None:
        raise param_error("n_boot", owner, f"0 when the source is a {src.kind} (the bootstrap redraws customers: "
                          "pass the records, a Tenures or a DataFrame)", n_boot)
    rng = np.random.default_rng(random_state)
    base = _margins(margin, margin_rate, src, owner)
    columns = {m.column for m in base if m.column is not None}
    values = {c: _margin_column(src.tenures, c, owner) for c in columns}
    reps = np.full((len(src.keys), n_boot), np.nan)
    filled = np.zeros(len(src.keys), dtype=np.int64)
    labels = src.labels()
    for seg, rows, w, curves in _bootstrap_draws(src, n_boot, rng, progress, owner):
        m = base[seg]
        for i, curve in enumerate(curves):
            if m.column is not None:
                mi = _Margin(m.rate * np.sum(values[m.column][rows] * w[i]) / np.sum(w[i]), None, m.column, m.rate)
            else:
                mi = m
            tail = _tail_for(curve, st, labels[seg], owner, warn=False)
            data, tl = _one_value(curve, tail, mi, st)
            reps[seg, filled[seg]] = data + tl
            filled[seg] += 1
    return reps


def lifetime_value(source, *, margin, discount_rate: float, by=None, horizon: float | None = None,
                   tail: str = "constant", tail_periods: float = 12, retention=None, timing: str = "start",
                   first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0, n_boot: int = 0,
                   conf_level: float = 0.95, random_state=None, progress: bool = False,
                   **frame_kwargs) -> pd.DataFrame:
    r"""Expected discounted value of a new customer, per segment, from a survival curve and an explicit tail.

    Parameters
    ----------
    source : Tenures, DataFrame, KaplanMeier, AalenJohansen, LifeTable or survival table
        Customer records (a :class:`~churnsurv.Tenures`, or a DataFrame read with ``frame_kwargs``): a
        Kaplan-Meier curve is fitted per segment. A fitted :class:`~churnsurv.KaplanMeier` or
        :class:`~churnsurv.AalenJohansen` (its all-cause ``survival_``), or a :class:`~churnsurv.LifeTable`.
        Or a survival table: a DataFrame with columns ``time`` and ``estimate`` (the probability of still being a
        customer) and the ``by`` columns, e.g. a model's prediction for a profile; with ``n_at_risk`` and
        ``n_events`` columns the constant tail is fitted from the counts, otherwise from the curve.
    margin : float, str, callable or dict
        Margin per period: a number; a value column of the records (the segment's mean, weighted, is used; e.g.
        ``"Monthly Charge"`` with ``margin_rate=0.3``); a callable of tenure (receives a NumPy array of the
        tenures at the start of each period and returns the margins, for a margin growing with tenure); or a dict
        with one of these per segment (keys: the segment values, tuples with several ``by`` columns).
    discount_rate : float
        Discount rate per period, ``d >= 0``; the discount factor of period ``k`` is :math:`(1+d)^{-(k+\delta)}`.
    by : str or list of str, optional
        Segment columns (records or a survival table; a fitted estimator keeps its own).
    horizon : float, optional
        Count only the periods that start before ``horizon`` (in the time unit); None: infinite horizon.
    tail : {"constant", "geometric", "none", "stop"}, default "constant"
        How survival continues after the last observed time :math:`\tau` of each segment: ``"constant"``, a
        constant per-period hazard fitted to the last ``tail_periods`` periods (defections / customer-periods at
        risk); ``"geometric"``, a given per-period ``retention``; ``"none"`` (alias ``"stop"``), a hard stop (no
        value after :math:`\tau`). Compare them with :func:`lifetime_value_range`.
    tail_periods : float, default 12
        Width of the window (in periods) the constant tail is fitted to.
    retention : float or dict, optional
        Per-period retention of the geometric tail (a dict per segment allowed).
    timing : {"start", "end"}, default "start"
        When a period's margin is received: at its start (:math:`\delta = 0`) or at its end (:math:`\delta = 1`).
        It changes only the discounting, never which periods are paid.
    first_period : bool, default True
        Count the first period (``False``: its margin was collected at acquisition, or is valued elsewhere).
    period : float, default 1.0
        Length of a period in the time unit of the data (1: monthly periods for monthly tenures).
    margin_rate : float, default 1.0
        Multiplier of the margin (e.g. 0.3 to turn a monthly charge into a margin).
    n_boot : int, default 0
        Bootstrap replicates (0: none, else at least 20): customers are redrawn with replacement within each
        segment (stratified, case weights kept), and the curve, the constant tail and a column margin's mean are
        refitted on every replicate. Needs the records.
    conf_level : float, default 0.95
        Level of the bootstrap percentile interval.
    random_state : int, numpy.random.Generator or None
        Seed of the bootstrap.
    progress : bool, default False
        Report the bootstrap's progress on standard error.
    **frame_kwargs
        Column keywords of :meth:`Tenures.from_frame` (``duration``, ``event``, ``entry``...) for a DataFrame of
        records.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``[*by, n_customers, margin, estimate, data_value, tail_value, tail_share,
        last_time, survival_at_last, tail_retention, tail_events, tail_exposure]`` and, with ``n_boot``,
        ``std_error, ci_lower, ci_upper``. ``margin`` is the margin per period used (NaN for a callable),
        ``data_value`` and ``tail_value`` split ``estimate`` at :math:`\tau` (``last_time``), ``tail_share`` is
        their ratio, ``tail_retention`` the per-period retention of the tail, ``tail_events`` and
        ``tail_exposure`` the defections and customer-periods it was fitted to. ``attrs`` holds the conventions
        (``discount_rate``, ``timing``, ``first_period``, ``horizon``, ``period``, ``tail``, ``tail_periods``,
        ``retention``, ``margin_rate``, ``time_unit``, ``source``, and ``conf_level``, ``n_boot``).

    Warns
    -----
    StatisticalWarning
        When a constant tail rests on no defection (retention 1) or cannot be fitted (nobody at risk).

    See Also
    --------
    lifetime_value_range : the value under every tail family, as a range.
    residual_value : the value of current customers from their current tenure.
    customer_equity : residual value summed over the current customers, by segment.

    Notes
    -----
    **Estimand.** With :math:`S(t) = P(T > t)` the probability that a customer's tenure exceeds :math:`t`, a
    period of length :math:`p`, period :math:`k = 0, 1, \dots` covering tenure :math:`(kp, (k+1)p]`, margin
    :math:`m(kp)` earned by the customers still there at the period's start and received at time
    :math:`(k + \delta) p`, and :math:`N` the number of periods starting before the horizon,

    .. math::

        V = \sum_{k = k_0}^{N - 1} m(kp)\, S(kp)\, (1 + d)^{-(k + \delta)},

    with :math:`\delta = 0` for ``timing="start"`` (1 for ``"end"``) and :math:`k_0 = 0` when ``first_period``
    (1 otherwise). With the defaults, :math:`V = \sum_{k \ge 0} m\, S(k) / (1+d)^k`, :math:`S(k)` the probability
    of still being a customer at the start of period :math:`k+1`.

    **Monthly Kaplan-Meier curves.** With tenure counted in whole months (``period=1``), a customer with tenure
    :math:`T` (defected at :math:`T`) was a customer at the start of periods :math:`0, \dots, T-1`: :math:`T`
    margins. The Kaplan-Meier step at time :math:`k` (defections with tenure :math:`k`) first lowers the margin of
    period :math:`k` (tenure :math:`(k, k+1]`), since :math:`S(k)` is read right-continuously; so without
    censoring :math:`V` is the average over customers of :math:`\sum_{k < \lceil T_i \rceil} m v^{k+\delta}`.

    **Geometric closed forms.** With constant retention :math:`S(kp) = r^k` and constant margin :math:`m`:

    * start, first period counted: :math:`m (1+d) / (1+d-r)` (the default);
    * start, first period not counted: :math:`m r / (1+d-r)`;
    * end, first period counted: :math:`m / (1+d-r)`;
    * end, first period not counted: :math:`m r / ((1+d)(1+d-r))`;

    each times :math:`1 - (r/(1+d))^{N - k_0}` with a horizon of :math:`N` periods (the horizon counts time since
    acquisition, so without the first period :math:`N - 1` periods are counted) [1]_.

    **Data and tail.** The curve is used for the periods that start at or before its last time :math:`\tau`
    (the largest tenure observed in the segment); later periods use :math:`S(\tau)\, r^{(kp - \tau)/p}` with the
    tail's retention :math:`r` (0 for ``"none"``). The constant tail's per-period hazard is
    :math:`\hat h = D / E`, :math:`D` the defections at times in :math:`(\tau - Kp, \tau]` and :math:`E` the
    customer-periods at risk there (the integral of the at-risk count over the window divided by :math:`p`; the
    sum of ``n_at_risk`` for whole-period tenures), the maximum-likelihood estimate of a constant per-period
    defection probability; :math:`r = 1 - \hat h`. For a survival table without counts,
    :math:`r = (S(\tau)/S(\tau - Kp))^{1/K}`. The tail often carries much of the value: read ``tail_share`` and
    compare the tails with :func:`lifetime_value_range`.

    **Margins.** A value column enters through its segment mean, which assumes the margin is unrelated to
    lifetime within the segment (segment further when it is not); with a snapshot, the records over-represent
    long-tenure customers, whose charges may differ from a new customer's.

    **Bootstrap.** The customer bootstrap [2]_ redraws customers within each segment and recomputes the whole
    chain (Kaplan-Meier curve on the segment's time grid, constant tail, mean margin, value); ``std_error`` is the
    standard deviation of the replicates and the interval the percentile interval. Replicate curves are counted
    for a block of replicates at once (one weighted count per block).

    References
    ----------
    .. [1] Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of Interactive
       Marketing* 21, 76-90; Fader, P. S. & Hardie, B. G. S. (2012). Reconciling and clarifying CLV formulas.
       http://brucehardie.com/notes/024/.
    .. [2] Efron, B. (1981). Censored data and the bootstrap. *Journal of the American Statistical Association*
       76, 312-319.

    Examples
    --------
    A customer who stays with probability 0.9 each month, margin 10 a month, 1% discount a month:

    >>> import pandas as pd
    >>> from churnsurv.value import lifetime_value
    >>> curve = pd.DataFrame({"time": [0, 1, 2], "estimate": [1.0, 0.9, 0.81]})
    >>> v = lifetime_value(curve, margin=10, discount_rate=0.01, tail="geometric", retention=0.9)
    >>> round(float(v.loc[0, "estimate"]), 6), round(10 * 1.01 / (1.01 - 0.9), 6)
    (91.818182, 91.818182)

    The Maven snapshot read as truncated, margin 30% of the monthly charge, 1% a month:

    >>> from churnsurv.datasets import load_maven_telco
    >>> t = load_maven_telco(truncate=True)
    >>> v = lifetime_value(t, by="Contract", margin="Monthly Charge", margin_rate=0.3, discount_rate=0.01)
    >>> v[["Contract", "margin", "estimate", "tail_share", "tail_retention"]].round(3)
             Contract  margin  estimate  tail_share  tail_retention
    0  Month-to-Month  19.317    68.367       0.000           0.884
    1        One Year  19.321   486.747       0.023           0.954
    2        Two Year  18.422  1163.042       0.242           0.989
    """
    owner = "lifetime_value"
    st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=tail, model_tails=True,
                   tail_periods=tail_periods, retention=retention, timing=timing, first_period=first_period,
                   period=period)
    n_boot = _check_bootstrap(n_boot, random_state, progress, owner)
    conf_level = check_conf_level(conf_level, owner)
    src = _read_source(source, by, owner, dict(frame_kwargs), value_columns=value_columns(margin))
    margins = _margins(margin, margin_rate, src, owner)
    out = _compute(src, margins, st, owner)
    if n_boot:
        reps = _bootstrap(src, margin, margin_rate, st, n_boot, conf_level, random_state, progress, owner)
        stats = np.array([_percentile_ci(r, conf_level) for r in reps])
        out["std_error"], out["ci_lower"], out["ci_upper"] = stats[:, 0], stats[:, 1], stats[:, 2]
    out.attrs.update(st.attrs(), margin_rate=float(margin_rate), time_unit=src.time_unit, source=src.kind,
                     conf_level=conf_level, n_boot=n_boot)
    return out


#: The model families of the default range (the cure model is asked for by name: its share that never leaves can
#: dominate an undiscounted value).
DEFAULT_MODEL_TAILS = ("weibull", "lognormal", "loglogistic", "sbg", "bdw")


def _tail_specs(tails, retention, tail_periods, owner, has_counts=True) -> list[tuple[str, float | None, object]]:
    if tails is None:
        specs = [("none", None, None)] + [("constant", float(k), None) for k in sorted({6.0, 12.0, 24.0,
                                                                                       float(tail_periods)})]
        if has_counts:
            specs += [(name, None, None) for name in DEFAULT_MODEL_TAILS]
        if retention is not None:
            specs.append(("geometric", None, retention))
        return specs
    specs = []
    for spec in tails:
        name, arg = (spec, None) if isinstance(spec, str) else (tuple(spec) + (None,))[:2]
        check_one_of(name, "tails", owner, TAILS)
        if name in ("none", "stop"):
            specs.append(("none", None, None))
        elif name == "constant":
            specs.append(("constant", float(tail_periods if arg is None else arg), None))
        elif name in MODEL_TAILS:
            specs.append((name, None, None))
        else:
            r = retention if arg is None else arg
            if r is None:
                raise param_error("tails", owner, "('geometric', retention) entries, or retention= given", spec)
            specs.append(("geometric", None, r))
    return specs


def lifetime_value_range(source, *, margin, discount_rate: float, by=None, horizon: float | None = None,
                         tails=None, tail_periods: float = 12, retention=None, timing: str = "start",
                         first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0,
                         **frame_kwargs) -> pd.DataFrame:
    r"""The lifetime value under every tail family, side by side, and its range per segment.

    The data fix the value up to the last observed time; beyond it, the tail is an assumption that often
    dominates. This function computes :func:`lifetime_value` under several tails and reports, per segment, the
    lowest and highest answer.

    Parameters
    ----------
    source, margin, discount_rate, by, horizon, timing, first_period, period, margin_rate, **frame_kwargs
        As :func:`lifetime_value`.
    tails : list, optional
        Tails to compare: ``"none"``, ``"constant"`` or ``("constant", k)`` (fitted to the last ``k`` periods),
        ``"geometric"`` (with ``retention``) or ``("geometric", r)``. Default: a hard stop, constant tails fitted
        to the last 6, 12 and 24 periods (and ``tail_periods``), and the geometric tail when ``retention`` is
        given.
    tail_periods : float, default 12
        Window of a plain ``"constant"`` entry.
    retention : float or dict, optional
        Retention of a plain ``"geometric"`` entry.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, tail): ``[*by, tail, tail_periods, tail_retention, estimate, data_value,
        tail_value, tail_share, range_lower, range_upper]``; ``range_lower`` and ``range_upper`` are the lowest and
        highest ``estimate`` of the segment over the tails. ``attrs`` as :func:`lifetime_value`.

    See Also
    --------
    lifetime_value : one tail, with a bootstrap interval.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import lifetime_value_range
    >>> curve = pd.DataFrame({"time": [0, 1, 2, 3], "estimate": [1.0, 0.9, 0.81, 0.729]})
    >>> r = lifetime_value_range(curve, margin=10, discount_rate=0.01, tails=["none", ("geometric", 0.9),
    ...                                                                      ("geometric", 0.95)])
    >>> r[["tail", "tail_retention", "estimate", "range_lower", "range_upper"]].round(2)
            tail  tail_retention  estimate  range_lower  range_upper
    0       none             NaN     33.93        33.93       145.96
    1  geometric            0.90     91.82        33.93       145.96
    2  geometric            0.95    145.96        33.93       145.96
    """
    owner = "lifetime_value_range"
    src = _read_source(source, by, owner, dict(frame_kwargs), value_columns=value_columns(margin))
    margins = _margins(margin, margin_rate, src, owner)
    frames = []
    st = None
    has_counts = all(c.n_at_risk is not None and c.n_events is not None for c in src.curves)
    for name, k, r in _tail_specs(tails, retention, tail_periods, owner, has_counts):
        st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=name, model_tails=True,
                       tail_periods=k if k is not None else tail_periods, retention=r, timing=timing,
                       first_period=first_period, period=period)
        f = _compute(src, margins, st, owner)
        f.insert(len(src.by), "tail", name)
        f.insert(len(src.by) + 1, "tail_periods", k if k is not None else np.nan)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    if src.by:
        order = np.lexsort((np.repeat(np.arange(len(frames)), len(src.keys)),
                            np.tile(np.arange(len(src.keys)), len(frames))))
        out = out.iloc[order].reset_index(drop=True)
        g = out.groupby(list(src.by), observed=True, sort=False)["estimate"]
        out["range_lower"], out["range_upper"] = g.transform("min"), g.transform("max")
    else:
        out["range_lower"], out["range_upper"] = out["estimate"].min(), out["estimate"].max()
    keep = [*src.by, "tail", "tail_periods", "tail_retention", "estimate", "data_value", "tail_value", "tail_share",
            "range_lower", "range_upper"]
    out = out[keep]
    attrs = st.attrs()
    attrs.update(tail=None, tail_periods=None, retention=None, margin_rate=float(margin_rate),
                 time_unit=src.time_unit, source=src.kind)
    out.attrs.update(attrs)
    return out
