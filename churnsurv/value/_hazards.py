"""Cause-specific counts per segment, the curves they give when cause hazards are scaled, and the replicates.

The second part of the value layer (scenarios, value at risk, the leaky bucket, the claims) needs more than the
all-cause Kaplan-Meier curve of :mod:`churnsurv.value._sources`: the defections of each cause at each time, so
that the hazard of chosen causes can be cut in a tenure window, and the cumulative incidence of each cause. One
:class:`_Seg` holds a segment's rows on its time grid; :func:`_counts` counts the weighted number at risk and the
defections by cause for a block of weight vectors at once (the point estimate is the block of the original
weights, a bootstrap block holds multinomial redraws of the rows, as :func:`~churnsurv.value._sources.
_bootstrap_draws` does); :func:`_survival` and :func:`_incidence` turn the counts into curves.

Discrete-time conventions of :func:`churnsurv.competing.cause_reduction`: with :math:`h_k(t_j) = d_{kj}/n_j` and
multipliers :math:`c_{kj}`, :math:`S^*(t) = \\prod_{t_j \\le t}(1 - \\sum_k c_{kj} h_k(t_j))` and
:math:`F_k(t) = \\sum_{t_j \\le t} S(t_{j-1})\\, h_k(t_j)`; with every multiplier 1 they are the Kaplan-Meier and
Aalen-Johansen estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from churnsurv.value._engine import _Curve
from churnsurv.value._sources import _BLOCK, _progress, _segment_arrays, _Source


@dataclass
class _Seg:
    """One segment's rows on its time grid (see :func:`~churnsurv.value._sources._segment_arrays`)."""

    rows: np.ndarray
    grid: np.ndarray
    e_idx: np.ndarray
    x_idx: np.ndarray
    d_idx: np.ndarray
    status: np.ndarray  # 0 censored, k + 1 a defection of cause k
    weight: np.ndarray


def _causes(src: _Source) -> tuple:
    """The causes of the records; ``("any",)`` when the records have none (every defection one cause)."""
    d = src.tenures.data
    if "cause" in d.columns and len(src.tenures.causes):
        return tuple(src.tenures.causes)
    return ("any",)


def _segments(src: _Source) -> list[_Seg]:
    d = src.tenures.data
    event = d["event"].to_numpy(bool)
    if "cause" in d.columns and len(src.tenures.causes):
        codes = d["cause"].cat.codes.to_numpy(np.int64)
        status = np.where(event & (codes >= 0), codes + 1, np.where(event, 1, 0))
    else:
        status = event.astype(np.int64)
    out = []
    for seg in range(len(src.keys)):
        rows = np.flatnonzero(src.seg_code == seg)
        grid, e_idx, x_idx, d_idx, _event, weight = _segment_arrays(src.tenures, rows)
        out.append(_Seg(rows, grid, e_idx, x_idx, d_idx, status[rows], weight))
    return out


def _counts(seg: _Seg, w: np.ndarray, n_causes: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted number at risk ``(B, G)`` and defections by cause ``(B, G, K)`` for each row of weights ``w``."""
    n_rep = w.shape[0]
    size = len(seg.grid) + 1
    offset = (np.arange(n_rep) * size)[:, None]

    def count(idx, weights):
        flat = np.bincount((offset + idx[None, :]).ravel(), weights=weights.ravel(), minlength=n_rep * size)
        return flat.reshape(n_rep, size)

    n_at_risk = (np.cumsum(count(seg.e_idx, w), axis=1) - np.cumsum(count(seg.x_idx, w), axis=1))[:, :-1]
    d = np.empty((n_rep, size - 1, n_causes))
    for k in range(n_causes):
        d[:, :, k] = count(seg.d_idx, w * (seg.status == k + 1)[None, :])[:, :-1]
    return n_at_risk, d


def _survival(n_at_risk: np.ndarray, d: np.ndarray, mult: np.ndarray | None = None) -> np.ndarray:
    """Product-limit survival with the cause hazards multiplied by ``mult`` (broadcast against ``d``)."""
    dd = (d if mult is None else d * mult).sum(axis=-1)
    pos = n_at_risk > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(pos, 1.0 - dd / np.where(pos, n_at_risk, 1.0), 1.0)
    factor = np.where(pos & (n_at_risk - dd <= 1e-12 * n_at_risk), 0.0, factor)
    return np.cumprod(factor, axis=-1)


def _incidence(n_at_risk: np.ndarray, d: np.ndarray, surv: np.ndarray) -> np.ndarray:
    """Aalen-Johansen cumulative incidence by cause, ``(..., G, K)``, from the counts and their survival."""
    prev = np.concatenate([np.ones(surv.shape[:-1] + (1,)), surv[..., :-1]], axis=-1)
    pos = n_at_risk > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(pos[..., None], d / np.where(pos, n_at_risk, 1.0)[..., None], 0.0)
    return np.cumsum(prev[..., None] * h, axis=-2)


def _last(n_at_risk: np.ndarray) -> int:
    """Index of the last grid time with anyone at risk (the curve's last time)."""
    pos = np.flatnonzero(n_at_risk > 0)
    return int(pos[-1]) if len(pos) else 0


def _curve(grid, n_at_risk, d, surv, mult=None) -> _Curve:
    """The curve up to its last time, with the (expected, under ``mult``) defections for the constant tail."""
    last = _last(n_at_risk)
    events = (d if mult is None else d * mult).sum(axis=-1)
    return _Curve(grid[: last + 1], surv[: last + 1], n_at_risk[: last + 1], events[: last + 1])


def _replicate_weights(src: _Source, segs: list[_Seg], n_boot: int, rng, progress: bool, owner: str):
    """Yield ``(segment, first replicate, weights (b, n))``: the rows redrawn with replacement within segments."""
    for s, seg in enumerate(segs):
        n = len(seg.rows)
        block = max(1, min(n_boot, _BLOCK // max(n, 1)))
        done = 0
        while done < n_boot:
            b = min(block, n_boot - done)
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(float)
            yield s, done, counts * seg.weight[None, :]
            done += b
            if progress:
                label = ", ".join(map(str, src.labels()[s])) or "all customers"
                _progress(f"{owner}: bootstrap {done}/{n_boot} replicates of segment {s + 1}/{len(segs)} ({label})")


def _surv_at(curve: _Curve, retention: float, t: np.ndarray, period: float) -> np.ndarray:
    """S(t) from the curve up to its last time, then its tail ``S(tau) r^((t - tau)/p)`` (0 for a hard stop)."""
    t = np.asarray(t, dtype=float)
    r = retention if np.isfinite(retention) else np.nan
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        beyond = curve.surv_tau * np.power(r, np.maximum(t - curve.tau, 0.0) / period)
    return np.where(t <= curve.tau * (1 + 1e-12) + 1e-12, curve.at(t), beyond)


def _percentile(reps: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard error and percentile interval along the last axis (NaN replicates dropped)."""
    a = (1.0 - conf_level) / 2.0
    reps = np.asarray(reps, dtype=float)
    flat = reps.reshape(-1, reps.shape[-1])
    se, lo, hi = (np.full(flat.shape[0], np.nan) for _ in range(3))
    for i, r in enumerate(flat):
        r = r[np.isfinite(r)]
        if len(r) >= 2:
            se[i] = np.std(r, ddof=1)
            lo[i], hi[i] = np.quantile(r, [a, 1.0 - a])
    shape = reps.shape[:-1]
    return se.reshape(shape), lo.reshape(shape), hi.reshape(shape)


def _year_length(time_unit: str) -> float:
    """Length of a year in the time unit (for annual defection rates)."""
    unit = str(time_unit).strip().lower().rstrip("s")
    return {"month": 12.0, "day": 365.25, "week": 365.25 / 7, "quarter": 4.0, "year": 1.0}.get(unit, np.nan)
