r"""Value at risk by cause: the expected value lost to each cause of defection, ranked, by segment.

:func:`value_at_risk` combines the cumulative incidence of each cause (Aalen-Johansen) with the value the
customers who leave would have had, had they stayed like the customers who did (their residual value), and gives
the break-even spend to remove a share of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnsurv._validation import check_conf_level, param_error
from churnsurv.value._engine import _Curve, _Tail, _values
from churnsurv.value._hazards import (
    _causes,
    _counts,
    _curve,
    _incidence,
    _percentile,
    _replicate_weights,
    _segments,
    _surv_at,
    _survival,
)
from churnsurv.value._sources import _check_bootstrap, _check_real, _Margin, _margins
from churnsurv.value.lifetime import _Settings, _settings, _tail_for
from churnsurv.value.residual import _records_source
from churnsurv.value.scenarios import _bases

__all__ = ["value_at_risk"]

_MAX_TAIL = 100_000  # periods of the tail summed at most


def _lost_value(curve: _Curve, tail: _Tail, n: np.ndarray, margin: _Margin, st: _Settings) -> np.ndarray:
    """Value, discounted to acquisition, of the periods ``n, n+1, ...`` for a customer still there at period n:
    ``v^n R(np)`` with ``R`` the residual value (survival conditional on reaching ``np``)."""
    n = np.asarray(n, dtype=np.int64)
    out = np.zeros(len(n), dtype=float)
    u0 = np.where(n == 0, st.u0, 0)
    if np.isfinite(st.n_periods):
        for k in np.unique(n):
            left = st.n_periods - k
            if left <= 0:
                continue
            m = n == k
            du, tu = _values(curve, tail, np.array([k * st.period]), v=st.v, delta=st.delta, u0=int(u0[m][0]),
                             n_periods=left, period=st.period, margin_fn=margin.fn, conditional=True)
            out[m] = st.v ** k * (du[0] + tu[0])
        return margin.scale * out
    for u in np.unique(u0):
        m = u0 == u
        du, tu = _values(curve, tail, n[m] * st.period, v=st.v, delta=st.delta, u0=int(u), n_periods=np.inf,
                         period=st.period, margin_fn=margin.fn, conditional=True)
        out[m] = st.v ** n[m] * (du + tu)
    return margin.scale * out


def _at_risk_one(grid, n_at_risk, d, margin: _Margin, st: _Settings, label, owner, warn) -> np.ndarray:
    """``(K, 4)``: value at risk, its data and tail parts, and the incidence of each cause."""
    k = d.shape[-1]
    surv = _survival(n_at_risk, d)
    curve = _curve(grid, n_at_risk, d, surv)
    tail = _tail_for(curve, st, label, owner, warn=warn)
    last = len(curve.time)
    f = _incidence(n_at_risk, d, surv)[:last]  # (G, K)
    df = np.diff(np.vstack([np.zeros((1, k)), f]), axis=0)
    t = curve.time
    n_next = np.ceil(t / st.period - 1e-9).astype(np.int64)  # first period not paid by a defector at t
    keep = n_next < st.n_periods
    lost = np.zeros(len(t))
    if keep.any():
        lost[keep] = _lost_value(curve, tail, n_next[keep], margin, st)
    # where the curve has fallen to 0 (the last customer left) no survivor shows a future: counted as 0
    gone = curve.at(n_next * st.period) <= 0
    lost[gone & np.isnan(lost)] = 0.0
    data = (df * lost[:, None]).sum(axis=0)
    inc = f[-1].copy()
    tail_part = np.zeros(k)
    r = tail.retention
    if tail.kind != "none" and curve.surv_tau > 0 and np.isfinite(r) and r < 1:
        # tail defections per period, split by cause as the defections of the tail's fitting window
        k1 = int(np.floor(curve.tau / st.period + 1e-9)) + 1
        rv = r * st.v
        n_max = _MAX_TAIL if rv >= 1 else min(_MAX_TAIL, int(np.ceil(np.log(1e-16) / np.log(rv))) + k1 + 1)
        n_max = int(min(n_max, st.n_periods)) if np.isfinite(st.n_periods) else n_max
        if n_max >= k1:
            ns = np.arange(k1, n_max + 1)
            s_prev = _surv_at(curve, r, np.maximum((ns - 1) * st.period, curve.tau), st.period)
            mass = s_prev - _surv_at(curve, r, ns * st.period, st.period)
            keep_t = ns < st.n_periods
            lost_t = np.zeros(len(ns))
            if keep_t.any():
                lost_t[keep_t] = _lost_value(curve, tail, ns[keep_t], margin, st)
            win = (grid > curve.tau - st.tail_periods * st.period) & (grid <= curve.tau)
            by_cause = d[: len(grid)][win].sum(axis=0)
            if by_cause.sum() <= 0:
                by_cause = d.sum(axis=0)
            share = by_cause / by_cause.sum() if by_cause.sum() > 0 else np.full(k, 1.0 / k)
            tail_part = share * float(np.sum(mass * lost_t))
            inc = inc + share * float(np.sum(mass[ns - 1 < st.n_periods]))
    elif tail.kind != "none" and curve.surv_tau > 0 and not np.isfinite(r):
        tail_part = np.full(k, np.nan)
    return np.column_stack([data + tail_part, data, tail_part, inc])


def _at_risk_arrays(src, margins, st, n_boot, random_state, progress, owner):
    """Point estimates ``(S, K, 4)`` (value at risk, data part, tail part, incidence) and replicates
    ``(S, K, 4, B)`` (None without a bootstrap)."""
    k = len(_causes(src))
    segs = _segments(src)
    bases = _bases(src, margins, owner)
    point = np.empty((len(segs), k, 4))
    for s, (seg, base) in enumerate(zip(segs, bases, strict=True)):
        n, d = _counts(seg, seg.weight[None, :], k)
        point[s] = _at_risk_one(seg.grid, n[0], d[0], base.margin, st, base.label, owner, warn=True)
    reps = None
    if n_boot:
        rng = np.random.default_rng(random_state)
        reps = np.full((len(segs), k, 4, n_boot), np.nan)
        for s, b0, w in _replicate_weights(src, segs, n_boot, rng, progress, owner):
            n, d = _counts(segs[s], w, k)
            base = bases[s]
            for i in range(len(w)):
                m = base.margin
                if base.margin_values is not None:
                    m = _Margin(m.rate * float(np.sum(base.margin_values * w[i]) / np.sum(w[i])), None, m.column,
                                m.rate)
                reps[s, :, :, b0 + i] = _at_risk_one(segs[s].grid, n[i], d[i], m, st, base.label, owner, False)
    return point, reps


def value_at_risk(source, *, margin, discount_rate: float, by=None, horizon: float | None = None,
                  remove_share: float = 0.1, tail: str = "constant", tail_periods: float = 12, retention=None,
                  timing: str = "start", first_period: bool = True, period: float = 1.0, margin_rate: float = 1.0,
                  n_boot: int = 0, conf_level: float = 0.95, random_state=None, progress: bool = False,
                  **frame_kwargs) -> pd.DataFrame:
    r"""Expected value lost to each cause of defection, per new customer, ranked within each segment.

    **Assumption.** A customer who leaves at tenure :math:`t` would otherwise have had the future of the
    customers still there at :math:`t` (their residual value, all causes included). Under heterogeneity the
    customers who leave are the less loyal, so this overstates what they would have brought (see
    :data:`churnsurv.value.scenarios.HETEROGENEITY_CAVEAT`).

    Parameters
    ----------
    source : Tenures or DataFrame
        Customer records with causes (records without causes give one cause, ``"any"``).
    margin, discount_rate, by, tail, tail_periods, retention, timing, first_period, period, margin_rate, \
n_boot, conf_level, random_state, progress, **frame_kwargs
        As :func:`~churnsurv.value.lifetime_value` (the margin may not be a callable of tenure).
    horizon : float, optional
        Count only the periods that start before ``horizon`` (time since acquisition); None: infinite.
    remove_share : float, default 0.1
        Share of each cause's defections a programme would remove, for the break-even spend.

    Returns
    -------
    pandas.DataFrame
        One row per (segment, cause), causes ranked by value at risk within each segment: ``[*by, cause, rank,
        estimate, share, data_value, tail_value, incidence, value_per_defector, break_even_spend]`` and with
        ``n_boot`` ``std_error, ci_lower, ci_upper`` (and ``break_even_ci_lower``, ``break_even_ci_upper``).
        ``estimate`` is the value at risk per new customer, ``share`` its share of the segment's total,
        ``incidence`` the probability of leaving for the cause (within the horizon, tail included),
        ``value_per_defector`` = estimate / incidence (the break-even spend per customer saved from that cause),
        ``break_even_spend`` = ``remove_share`` x estimate (the most a programme removing that share of the
        cause's defections can cost per new customer). ``attrs`` as :func:`~churnsurv.value.lifetime_value`.

    See Also
    --------
    retention_scenario : the value of cutting a cause's hazard, with bounds.
    churnsurv.AalenJohansen : the cumulative incidences.

    Notes
    -----
    With :math:`F_k` the cumulative incidence of cause :math:`k`, a defection at :math:`t` leaves the periods
    :math:`n(t) = \lceil t/p \rceil, n(t)+1, \dots` unpaid, and

    .. math::

        \mathrm{VaR}_k = \sum_j \Delta F_k(t_j)\, v^{n(t_j)}\, R(n(t_j)\,p), \qquad
        R(s) = \sum_{u \ge 0} m\, \frac{S(s + up)}{S(s)}\, v^{u + \delta},

    with :math:`v = 1/(1+d)`. Beyond the last time :math:`\tau` the tail's defections (per period
    :math:`S(\tau) r^{j}(1-r)`) are split between the causes as the defections of the tail's fitting window.
    Where the curve falls to 0 (the last customer of a segment left) no survivor shows a future, and the
    defections there count as losing nothing more. Removing a share :math:`q` of cause :math:`k`'s defections,
    each saved customer taking the survivors' future,
    adds exactly :math:`q\, \mathrm{VaR}_k` to the value of a new customer: the break-even spend.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.value import value_at_risk
    >>> df = pd.DataFrame({"tenure": [1, 2, 3, 4, 5, 6, 6], "churned": [1, 1, 1, 0, 1, 0, 0],
    ...                    "reason": ["price", "service", "price", None, "price", None, None]})
    >>> var = value_at_risk(df, duration="tenure", event="churned", cause="reason", margin=10, discount_rate=0.01,
    ...                     tail="none")
    >>> print(var[["cause", "rank", "estimate", "incidence"]].round(3).to_string(index=False))
      cause  rank  estimate  incidence
      price     1    13.793      0.476
    service     2     5.051      0.143
    """
    owner = "value_at_risk"
    st = _settings(owner, discount_rate=discount_rate, horizon=horizon, tail=tail, tail_periods=tail_periods,
                   retention=retention, timing=timing, first_period=first_period, period=period)
    q = _check_real(remove_share, "remove_share", owner, low=0.0, expected="a share in [0, 1]")
    if q > 1:
        raise param_error("remove_share", owner, "a share in [0, 1]", q)
    n_boot = _check_bootstrap(n_boot, random_state, progress, owner)
    conf_level = check_conf_level(conf_level, owner)
    src = _records_source(source, by, owner, frame_kwargs, margin)
    margins = _margins(margin, margin_rate, src, owner)
    if any(m.fn is not None for m in margins):
        raise param_error("margin", owner, "a number, a column name or a dict of these (not a callable of "
                          "tenure)", margin)
    causes = _causes(src)
    point, reps = _at_risk_arrays(src, margins, st, n_boot, random_state, progress, owner)
    k = len(causes)
    segs = src.labels()
    if reps is not None:
        reps = reps[:, :, 0, :]
    rows = []
    for s, label in enumerate(src.labels()):
        total = float(np.nansum(point[s, :, 0]))
        for j, cause in enumerate(causes):
            est, data, tl, inc = point[s, j]
            row = dict(zip(src.by, label, strict=True))
            row.update(cause=cause, estimate=est, share=est / total if total > 0 else np.nan, data_value=data,
                       tail_value=tl, incidence=inc, value_per_defector=est / inc if inc > 0 else np.nan,
                       break_even_spend=q * est)
            rows.append(row)
    out = pd.DataFrame(rows)
    if reps is not None:
        se, lo, hi = _percentile(reps, conf_level)
        out["std_error"], out["ci_lower"], out["ci_upper"] = se.ravel(), lo.ravel(), hi.ravel()
        out["break_even_ci_lower"], out["break_even_ci_upper"] = q * lo.ravel(), q * hi.ravel()
    by = list(src.by)
    for b in by:
        if isinstance(src.keys[b].dtype, pd.CategoricalDtype):
            out[b] = pd.Categorical(out[b], categories=src.keys[b].cat.categories)
    seg_index = np.repeat(np.arange(len(segs)), k)
    out["_seg"] = seg_index
    out = out.sort_values(["_seg", "estimate"], ascending=[True, False], kind="stable").drop(columns="_seg")
    out.insert(len(by) + 1, "rank", out.groupby(seg_index[out.index], sort=False).cumcount().to_numpy() + 1)
    out = out.reset_index(drop=True)
    out.attrs.update(st.attrs(), margin_rate=float(margin_rate), time_unit=src.time_unit, remove_share=q,
                     conf_level=conf_level, n_boot=n_boot)
    return out
