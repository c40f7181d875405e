"""The arithmetic of retention value: discounted margin sums over a survival curve and its tail.

Pure NumPy, no pandas, no validation (the public functions of :mod:`churnsurv.value.lifetime` and
:mod:`churnsurv.value.residual` validate first). One survival curve is a :class:`_Curve` (a right-continuous
step function known up to its last time ``tau``); beyond ``tau`` a :class:`_Tail` continues it. :func:`_values`
returns, for a vector of starting tenures, the discounted sum over the data and over the tail separately.

Conventions (see the Notes of :func:`churnsurv.value.lifetime_value`): period ``k`` (``k = 0, 1, ...``) is the
tenure interval ``(k p, (k + 1) p]``; its margin is received at time ``(k + delta) p`` (``delta`` 0 with payment at
the start, 1 at the end) by customers whose tenure exceeds ``k p``, and is discounted by ``v ** (k + delta)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Relative tolerance on times (period starts computed as ``t0 + u * p`` in floating point).
_TIME_EPS = 1e-9
#: Terms of a numerically summed infinite tail are added until the geometric factor falls below this.
_TAIL_EPS = 1e-17
#: At most this many terms in a numerically summed tail (a growing margin with little discounting).
_MAX_TAIL_TERMS = 2_000_000


@dataclass
class _Curve:
    """One survival curve: ``surv[j]`` holds on ``[time[j], time[j + 1])``; 1 before ``time[0]``."""

    time: np.ndarray
    surv: np.ndarray
    n_at_risk: np.ndarray | None = None
    n_events: np.ndarray | None = None

    @property
    def tau(self) -> float:
        return float(self.time[-1])

    @property
    def surv_tau(self) -> float:
        return float(self.surv[-1])

    def at(self, t: np.ndarray) -> np.ndarray:
        """S(t), right-continuous; only meaningful for t <= tau."""
        t = np.asarray(t, dtype=float)
        idx = np.searchsorted(self.time, t + _TIME_EPS * np.maximum(1.0, np.abs(t)), side="right") - 1
        return np.where(idx < 0, 1.0, self.surv[np.clip(idx, 0, None)])


@dataclass
class _Tail:
    """How the curve continues beyond ``tau``: ``S(tau + x) = S(tau) * retention ** (x / p)`` (0 when stopped)."""

    kind: str  # "none", "constant", "geometric" or "model"
    retention: float  # per period; 0.0 for "none"; a model's mean retention over its first tail_periods
    n_events: float = np.nan  # "constant": defections in the fitting window
    exposure: float = np.nan  # "constant": customer-periods at risk in the window
    method: str = ""  # "counts" (events / exposure), "curve" (the curve's average over the window), or the family
    model: object = None  # "model": a fitted TailModel (churnsurv.value._tail_models), S(tau) S_m(t) / S_m(tau)


def _constant_tail(curve: _Curve, tail_periods: float, period: float) -> _Tail:
    """A constant per-period hazard fitted to the last ``tail_periods`` periods before ``tau``.

    With counts: ``h = D / E``, ``D`` the defections at times in ``(tau - k p, tau]`` and ``E`` the customer-periods
    at risk over that window (the integral of the at-risk count, divided by ``p``; for whole-period tenures with a
    life-table row per period it is the sum of ``n_at_risk``): the maximum-likelihood estimate of a constant
    per-period defection probability (binomial per period). Without counts (a plain survival table):
    ``r = (S(tau) / S(tau - k p)) ** (1 / k)``, the curve's geometric-mean retention over the window.
    """
    tau = curve.tau
    lo = max(tau - tail_periods * period, 0.0)
    if curve.n_at_risk is not None and curve.n_events is not None:
        t = curve.time
        prev = np.r_[min(t[0], 0.0), t[:-1]]
        overlap = np.clip(np.minimum(t, tau) - np.maximum(prev, lo), 0.0, None)
        exposure = float(np.sum(curve.n_at_risk * overlap)) / period
        in_window = (t > lo + _TIME_EPS * max(1.0, lo)) & (t <= tau)
        events = float(np.sum(curve.n_events[in_window]))
        if exposure <= 0:
            return _Tail("constant", np.nan, events, exposure, "counts")
        hazard = min(events / exposure, 1.0)
        return _Tail("constant", 1.0 - hazard, events, exposure, "counts")
    k = (tau - lo) / period
    if k <= 0:
        return _Tail("constant", np.nan, method="curve")
    s_lo = float(curve.at(np.array([lo]))[0])
    r = 0.0 if s_lo <= 0 else (curve.surv_tau / s_lo) ** (1.0 / k)
    return _Tail("constant", float(r), method="curve")


def _n_periods(horizon: float | None, period: float) -> float:
    """Number of periods that start before ``horizon`` (inf for an infinite horizon)."""
    if horizon is None:
        return np.inf
    return float(np.ceil(horizon / period - _TIME_EPS))


def _values(curve: _Curve, tail: _Tail, t0: np.ndarray, *, v: float, delta: int, u0: int, n_periods: float,
            period: float, margin_fn=None, conditional: bool) -> tuple[np.ndarray, np.ndarray]:
    r"""Discounted sums over the data and over the tail, per starting tenure ``t0``.

    .. math::

        \sum_{u = u_0}^{N - 1} g(t_0 + u p)\, \frac{S(t_0 + u p)}{S(t_0)^{c}}\, v^{u + \delta},

    split at the first ``u`` with ``t_0 + u p > \tau`` (the data part uses the curve, the tail part the tail);
    ``g`` is ``margin_fn`` (1 when None), ``c`` is 1 when ``conditional``. Returns ``(data, tail)``.
    """
    t0 = np.asarray(t0, dtype=float)
    tau = curve.tau
    # first period (u) that starts beyond tau
    k1 = np.floor((tau - t0) / period + _TIME_EPS).astype(np.int64) + 1
    k1 = np.maximum(k1, u0)
    beyond = t0 > tau * (1 + _TIME_EPS) + _TIME_EPS
    den = np.ones_like(t0)
    if conditional:
        # S(t0); beyond tau (a bootstrap replicate ending early) the tail's S(tau) r^((t0 - tau)/p)
        r_tail = tail.retention if tail.kind != "none" and np.isfinite(tail.retention) else 0.0
        with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
            if tail.kind == "model":
                ls = tail.model.log_surv
                far = curve.surv_tau * np.exp(ls(np.maximum(t0, tau)) - ls(np.array([tau]))[0])
            else:
                far = curve.surv_tau * r_tail ** np.maximum((t0 - tau) / period, 0.0)
            den = np.where(beyond, far, curve.at(t0))
    with np.errstate(invalid="ignore", divide="ignore"):
        # nothing left to value beyond the end of a stopped curve: 0, not 0/0
        scale = np.where(den > 0, 1.0 / den, np.where(beyond, 0.0, np.nan))

    # data part: u in [u0, min(k1, N))
    n_data = int(np.max(np.minimum(k1, n_periods))) if len(t0) else 0
    data = np.zeros(len(t0))
    if n_data > u0:
        u = np.arange(u0, n_data)
        keep = (u[None, :] < k1[:, None]) & (u[None, :] < n_periods)
        times = t0[:, None] + u[None, :] * period
        terms = curve.at(times) * v ** (u + delta)[None, :]
        if margin_fn is not None:
            terms = terms * margin_fn(times)
        data = np.where(keep, terms, 0.0).sum(axis=1)

    # tail part: u in [k1, N)
    tail_sum = np.zeros(len(t0))
    r = tail.retention
    if tail.kind == "model":
        from churnsurv.value._tail_models import model_tail_sum

        n_left = (n_periods - k1).astype(float) if np.isfinite(n_periods) else np.full(len(t0), np.inf)
        tail_sum = model_tail_sum(tail.model.log_surv, curve.surv_tau, tau, t0, k1, n_left, v, delta, period,
                                  margin_fn, _MAX_TAIL_TERMS)
    elif tail.kind != "none" and curve.surv_tau > 0 and r > 0:
        rv = r * v
        n_terms = n_periods - k1  # per t0, may be inf
        # first tail term: S(tau) r^((t0 + k1 p - tau)/p) v^(k1 + delta)
        first = curve.surv_tau * r ** ((t0 + k1 * period - tau) / period) * v ** (k1 + delta)
        if margin_fn is None:
            if rv < 1:
                geo = np.where(np.isinf(n_terms), 1.0 / (1.0 - rv), (1.0 - rv ** np.maximum(n_terms, 0)) / (1.0 - rv))
            else:
                if np.isinf(n_terms).any():
                    raise ValueError("The value is infinite: the tail keeps every customer (retention 1) and the "
                                     "discount rate is 0. Pass a horizon, a discount rate > 0 or another tail.")
                geo = np.maximum(n_terms, 0).astype(float)
            tail_sum = first * np.where(n_terms > 0, geo, 0.0)
        else:
            tail_sum = _numeric_tail(first, rv, k1, n_terms, t0, period, margin_fn)
    data, tail_sum = data * scale, tail_sum * scale
    if conditional and curve.n_at_risk is not None and curve.n_events is not None:
        # S(t0) = 0 inside the data: the curve reached 0 (everyone at risk left at once) before customers who
        # entered later (left truncation). The ratio S(t0 + u) / S(t0) is 0/0 there, but the hazards after t0 are
        # estimated: restart the product limit after t0, prod_{t0 < s <= t0 + u} (1 - d(s) / n(s)).
        # Only where the curve was already 0 just before t0: a curve that falls to 0 at t0 itself (the last
        # customers at risk all leave then) leaves no survivor's future, as before.
        before = np.searchsorted(curve.time, t0 * (1 - _TIME_EPS) - _TIME_EPS, side="left") - 1
        s_before = np.where(before < 0, 1.0, curve.surv[np.clip(before, 0, None)])
        for t in np.unique(t0[(den <= 0) & (s_before <= 0) & ~beyond]):
            rows = t0 == t
            after = curve.time > t * (1 + _TIME_EPS) + _TIME_EPS
            n, d = curve.n_at_risk[after], curve.n_events[after]
            with np.errstate(invalid="ignore", divide="ignore"):
                h = np.where(n > 0, d / n, 0.0)
            if after.any():
                restarted = _Curve(time=curve.time[after], surv=np.cumprod(1.0 - h), n_at_risk=n, n_events=d)
            else:  # at the last time: only the tail is left, from S = 1 at t0
                restarted = _Curve(time=np.array([t]), surv=np.array([1.0]))
            dr, tr = _values(restarted, tail, t0[rows], v=v, delta=delta, u0=u0, n_periods=n_periods, period=period,
                             margin_fn=margin_fn, conditional=False)
            data[rows], tail_sum[rows] = dr, tr
    return data, tail_sum


def _numeric_tail(first, rv, k1, n_terms, t0, period, margin_fn) -> np.ndarray:
    """Tail sum with a margin that varies with tenure: summed term by term until the terms vanish."""
    finite = np.where(np.isinf(n_terms), 0, n_terms).astype(np.int64)
    if np.isinf(n_terms).any():
        if rv >= 1:
            raise ValueError("The value is infinite: the tail keeps every customer (retention 1) and the discount "
                             "rate is 0. Pass a horizon, a discount rate > 0 or another tail.")
        need = int(np.ceil(np.log(_TAIL_EPS) / np.log(rv))) + 1
        n_max = max(need, int(finite.max(initial=0)))
    else:
        n_max = int(finite.max(initial=0))
    if n_max <= 0:
        return np.zeros(len(t0))
    if n_max > _MAX_TAIL_TERMS:
        raise ValueError(f"The tail needs more than {_MAX_TAIL_TERMS:,} periods to converge (retention x discount "
                         f"factor = {rv:.8f}); pass a horizon.")
    j = np.arange(n_max)
    use = np.where(np.isinf(n_terms)[:, None], True, j[None, :] < finite[:, None])
    tenure = t0[:, None] + (k1[:, None] + j[None, :]) * period
    terms = np.where(use, margin_fn(tenure) * rv ** j[None, :], 0.0)
    total = terms.sum(axis=1)
    if np.isinf(n_terms).any():
        last = np.abs(terms[:, -1])
        if np.any(last > 1e-12 * np.maximum(np.abs(total), 1e-300)):
            raise ValueError("The tail sum does not converge: the margin grows faster than retention x discount "
                             "shrinks. Pass a horizon.")
    return first * total
