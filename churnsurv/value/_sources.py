"""Where the survival curve of a value calculation comes from, the margins, and the customer bootstrap.

:func:`_read_source` turns any accepted source (customer records, a fitted :class:`~churnsurv.KaplanMeier` or
:class:`~churnsurv.AalenJohansen`, a :class:`~churnsurv.LifeTable`, or a plain survival table) into one
:class:`~churnsurv.value._engine._Curve` per segment. :func:`_margins` resolves the ``margin`` argument per
segment. :func:`_bootstrap_curves` redraws customers within each segment and recounts the Kaplan-Meier curve of
every replicate at once (weighted counts on the segment's time grid, one ``bincount`` per block of replicates).
"""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import check_columns, data_error, find_stack_level, param_error
from churnsurv.competing.aalen_johansen import AalenJohansen
from churnsurv.data.tenures import Tenures
from churnsurv.exceptions import TenureDataError
from churnsurv.lifetable.table import LifeTable, life_table
from churnsurv.nonparametric.survival import KaplanMeier
from churnsurv.value._engine import _Curve

_SURVIVAL_TABLE = ("time", "estimate")
#: Customers x replicates drawn per block of the bootstrap (memory bound, not part of the random stream).
_BLOCK = 2_000_000


@dataclass
class _Source:
    by: tuple
    keys: pd.DataFrame  # one row per segment, the segment columns
    curves: list
    n_customers: np.ndarray  # per segment (NaN when unknown)
    time_unit: str
    kind: str
    tenures: Tenures | None = None
    seg_code: np.ndarray | None = None  # per row of tenures.data: the segment's position in keys

    def labels(self) -> list:
        if not self.by:
            return [()]
        return [tuple(row) for row in self.keys[list(self.by)].itertuples(index=False)]


def _as_by(by) -> list:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def _curves_from_table(table: pd.DataFrame, by: list, owner: str) -> tuple[pd.DataFrame, list]:
    """Split a tidy survival table into one curve per segment (rows sorted by time within segment)."""
    check_columns(table, [*by, *_SURVIVAL_TABLE], what="survival table")
    has_counts = "n_at_risk" in table.columns and "n_events" in table.columns
    t = pd.to_numeric(table["time"], errors="coerce").to_numpy(float)
    s = pd.to_numeric(table["estimate"], errors="coerce").to_numpy(float)
    rows = np.arange(len(table))
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        raise data_error("time", "missing or negative times", bad, rows, "A survival table needs times >= 0.")
    bad = ~np.isfinite(s) | (s < 0) | (s > 1 + 1e-12)
    if bad.any():
        raise data_error("estimate", "survival estimates missing or outside [0, 1]", bad, rows,
                         "Pass the survival probability (still a customer) in 'estimate'.")
    if len(table) == 0:
        raise TenureDataError(f"The survival table passed to {owner} is empty.")
    if by:
        g = table.groupby(by, observed=True, sort=True)
        codes = g.ngroup().to_numpy()
        keys = g.size().index.to_frame(index=False)
    else:
        codes = np.zeros(len(table), dtype=np.int64)
        keys = pd.DataFrame(index=pd.RangeIndex(1))
    curves = []
    for k in range(len(keys)):
        m = codes == k
        order = np.argsort(t[m], kind="stable")
        tt, ss = t[m][order], s[m][order]
        if np.any(np.diff(tt) == 0):
            raise TenureDataError(f"The survival table passed to {owner} repeats a time within a segment; "
                                  "give one row per (segment, time).")
        if np.any(np.diff(ss) > 1e-12):
            raise TenureDataError(f"The survival table passed to {owner} increases over time within a segment; "
                                  "'estimate' must be the probability of still being a customer (non-increasing).")
        n = d = None
        if has_counts:
            n = table["n_at_risk"].to_numpy(float)[m][order]
            d = table["n_events"].to_numpy(float)[m][order]
        curves.append(_Curve(tt, np.minimum(ss, 1.0), n, d))
    return keys, curves


def _n_customers_of(keys: pd.DataFrame, by: list, series: pd.Series | None) -> np.ndarray:
    """Customers per segment, in the order of ``keys`` (NaN when unknown)."""
    if series is None:
        return np.full(len(keys), np.nan)
    if not by:
        return np.array([float(np.sum(series.to_numpy(float)))])
    lookup = {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in series.items()}
    return np.array([lookup.get(tuple(row), np.nan) for row in keys[by].itertuples(index=False)])


def _read_source(source, by, owner: str, frame_kwargs: dict, value_columns=()) -> _Source:
    """Any accepted source -> one survival curve per segment (and the records when there are any)."""
    by = _as_by(by)
    if isinstance(source, pd.DataFrame) and not frame_kwargs and all(c in source.columns for c in _SURVIVAL_TABLE):
        keys, curves = _curves_from_table(source, by, owner)
        return _Source(tuple(by), keys, curves, np.full(len(keys), np.nan), "period", "survival table")
    if isinstance(source, pd.DataFrame):
        values = list(dict.fromkeys(_as_by(frame_kwargs.pop("values", ())) + list(value_columns)))
        segs = list(dict.fromkeys(_as_by(frame_kwargs.pop("segments", ())) + by))
        source = Tenures.from_frame(source, segments=segs, values=values, **frame_kwargs)
    elif frame_kwargs:
        raise TypeError(f"{owner}: column keywords {sorted(frame_kwargs)} only apply to a DataFrame of records.")
    if isinstance(source, Tenures):
        lt = life_table(source, by)
        km = _kaplan_meier(lt)
        keys, curves = _curves_from_table(km.survival_, by, owner)
        out = _Source(tuple(by), keys, curves, _n_customers_of(keys, by, lt.n_customers), source.time_unit,
                      "records", tenures=source)
        out.seg_code = _row_segments(source.data, keys, by)
        return out
    if isinstance(source, LifeTable):
        if by and tuple(by) != source.by:
            raise ValueError(f"The life table is grouped by {list(source.by)}; cannot regroup it by {by}.")
        km = _kaplan_meier(source)
        by = list(source.by)
        keys, curves = _curves_from_table(km.survival_, by, owner)
        return _Source(tuple(by), keys, curves, _n_customers_of(keys, by, source.n_customers), source.time_unit,
                       "LifeTable")
    if isinstance(source, (KaplanMeier, AalenJohansen)):
        if not hasattr(source, "survival_"):
            raise param_error("source", owner, "a fitted KaplanMeier or AalenJohansen (call fit first)",
                              type(source).__name__ + " (not fitted)", type_error=False)
        fitted_by = list(source.by_)
        if by and by != fitted_by:
            raise ValueError(f"The {type(source).__name__} was fitted by {fitted_by}; cannot regroup it by {by}. "
                             "Refit it with the segments you want, or pass the records.")
        keys, curves = _curves_from_table(source.survival_, fitted_by, owner)
        counts = source.life_table_.n_customers if isinstance(source, KaplanMeier) else source.n_customers_
        return _Source(tuple(fitted_by), keys, curves, _n_customers_of(keys, fitted_by, counts), source.time_unit_,
                       type(source).__name__)
    raise param_error("source", owner, "a Tenures, a DataFrame of records (with duration=/event=), a fitted "
                      "KaplanMeier or AalenJohansen, a LifeTable, or a survival table with columns 'time' and "
                      "'estimate'", type(source).__name__, type_error=True)


def _kaplan_meier(lt: LifeTable) -> KaplanMeier:
    """The Kaplan-Meier fit of a life table; its warnings (left truncation) point at the user's call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        km = KaplanMeier(min_at_risk=None).fit(lt)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=find_stack_level())
    return km


def value_columns(margin) -> tuple:
    """The value columns a ``margin`` argument names (a column, or columns in a dict per segment)."""
    if isinstance(margin, str):
        return (margin,)
    if isinstance(margin, Mapping):
        return tuple(m for m in margin.values() if isinstance(m, str))
    return ()


def _row_segments(data: pd.DataFrame, keys: pd.DataFrame, by: list) -> np.ndarray:
    if not by:
        return np.zeros(len(data), dtype=np.int64)
    if len(by) == 1:
        index = pd.Index(keys[by[0]].astype(object))
        return index.get_indexer(data[by[0]].astype(object))
    index = pd.MultiIndex.from_frame(keys[by].astype(object))
    return index.get_indexer(pd.MultiIndex.from_frame(data[by].astype(object)))


# ---------------------------------------------------------------------- margins
@dataclass
class _Margin:
    """The margin of one segment: ``scale * fn(tenure)`` per period, or ``scale`` when ``fn`` is None;
    ``column`` names a per-customer column (then ``scale`` is the segment mean, times the rate)."""

    scale: float
    fn: Callable | None = None
    column: str | None = None
    rate: float = 1.0


def _check_real(x, name: str, owner: str, *, low=None, low_open=False, expected: str = "a real number") -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(float(x)):
        raise param_error(name, owner, expected, x, type_error=not isinstance(x, numbers.Real) or isinstance(x, bool))
    x = float(x)
    if low is not None and (x < low or (low_open and x == low)):
        raise param_error(name, owner, expected, x)
    return x


def _wrap_callable(fn, owner: str) -> Callable:
    def wrapped(tenure: np.ndarray) -> np.ndarray:
        out = np.asarray(fn(tenure), dtype=float)
        if out.shape != np.shape(tenure):
            out = np.broadcast_to(out, np.shape(tenure)).astype(float)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"The 'margin' callable passed to {owner} returned non-finite values.")
        return out
    return wrapped


def _margins(margin, margin_rate: float, src: _Source, owner: str) -> list[_Margin]:
    """Resolve ``margin`` (scalar, callable of tenure, column name, or a dict of these per segment) per segment."""
    rate = _check_real(margin_rate, "margin_rate", owner)
    labels = src.labels()
    if isinstance(margin, Mapping):
        if not src.by:
            raise param_error("margin", owner, "a number, a column name or a callable when there are no segments "
                              "(a dict gives one margin per segment)", margin)
        found = []
        for lab in labels:
            key = lab[0] if len(lab) == 1 else lab
            if key in margin:
                found.append(margin[key])
            elif len(lab) == 1 and str(lab[0]) in margin:
                found.append(margin[str(lab[0])])
            else:
                listed = ", ".join(repr(k[0] if len(k) == 1 else k) for k in labels)
                raise param_error("margin", owner, f"a dict with a margin for every segment ({listed})",
                                  f"a dict without {key!r}")
        return [_one_margin(m, rate, src, owner, k) for k, m in enumerate(found)]
    return [_one_margin(margin, rate, src, owner, k) for k in range(len(labels))]


def _one_margin(m, rate: float, src: _Source, owner: str, seg: int) -> _Margin:
    if callable(m):
        return _Margin(rate, _wrap_callable(m, owner))
    if isinstance(m, str):
        if src.tenures is None:
            raise param_error("margin", owner, "a number, a dict or a callable when the source is a fitted "
                              f"estimator or a survival table (a column name needs the customer records; the "
                              f"source is a {src.kind})", m)
        values = _margin_column(src.tenures, m, owner)
        w = src.tenures.data["weight"].to_numpy(float)
        rows = src.seg_code == seg
        return _Margin(rate * float(np.sum(values[rows] * w[rows]) / np.sum(w[rows])), None, m, rate)
    return _Margin(rate * _check_real(m, "margin", owner, expected="a finite number, a column name, a callable of "
                                      "tenure, or a dict of these per segment"))


def _margin_column(tenures: Tenures, column: str, owner: str) -> np.ndarray:
    check_columns(tenures.data, [column], what="customer records")
    col = pd.to_numeric(tenures.data[column], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(col)
    if bad.any():
        raise data_error(column, "missing or non-numeric margins", bad, tenures.data["id"].to_numpy(),
                         f"{owner} needs a margin for every customer; fill them or drop those rows.")
    return col


# ---------------------------------------------------------------------- bootstrap
def _check_bootstrap(n_boot, random_state, progress, owner: str) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 0:
        raise param_error("n_boot", owner, "an int >= 0 (0: no bootstrap)", n_boot,
                          type_error=not isinstance(n_boot, numbers.Integral))
    if n_boot and 0 < n_boot < 20:
        raise param_error("n_boot", owner, "0 or an int >= 20 (a percentile interval needs replicates)", n_boot)
    if not isinstance(progress, (bool, np.bool_)):
        raise param_error("progress", owner, "a bool", progress, type_error=True)
    return int(n_boot)


def _progress(message: str) -> None:
    print(f"[churnsurv] {message}", file=sys.stderr, flush=True)


def _segment_arrays(tenures: Tenures, rows: np.ndarray):
    """Time grid of one segment and each row's positions on it (entry counted from, exit counted to)."""
    d = tenures.data
    entry = d["entry"].to_numpy(float)[rows]
    exit_ = d["exit"].to_numpy(float)[rows]
    event = d["event"].to_numpy(bool)[rows]
    weight = d["weight"].to_numpy(float)[rows]
    grid = np.unique(np.r_[0.0, exit_, entry[entry > 0]])
    # at risk at grid[j] when entry < grid[j] <= exit (entry 0: from before the origin, so also at time 0)
    e_idx = np.where(entry > 0, np.searchsorted(grid, entry, side="right"), 0)
    x_idx = np.searchsorted(grid, exit_, side="right")
    d_idx = np.searchsorted(grid, exit_, side="left")
    return grid, e_idx, x_idx, d_idx, event, weight


def _weighted_km(grid, e_idx, x_idx, d_idx, event, w: np.ndarray):
    """Kaplan-Meier of each row of weights ``w`` (replicates x customers): (surv, n_at_risk, n_events, last)."""
    n_rep, n = w.shape
    size = len(grid) + 1
    offset = (np.arange(n_rep) * size)[:, None]

    def count(idx, weights):
        flat = np.bincount((offset + idx[None, :]).ravel(), weights=weights.ravel(), minlength=n_rep * size)
        return flat.reshape(n_rep, size)

    entered = np.cumsum(count(e_idx, w), axis=1)[:, :-1]
    left = np.cumsum(count(x_idx, w), axis=1)[:, :-1]
    n_at_risk = entered - left
    n_events = count(d_idx, w * event[None, :])[:, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rem = n_at_risk - n_events
        rem = np.where(rem <= 1e-12 * n_at_risk, 0.0, rem)
        factor = np.where(n_at_risk > 0, rem / n_at_risk, 1.0)
    surv = np.cumprod(factor, axis=1)
    # last grid time with anyone at risk: the replicate's largest exit
    last = size - 2 - np.argmax((n_at_risk > 0)[:, ::-1], axis=1)
    return surv, n_at_risk, n_events, last


def _bootstrap_draws(src: _Source, n_boot: int, rng: np.random.Generator, progress: bool, owner: str):
    """Yield ``(segment, replicate block, weights, replicate curves)``: customers redrawn within each segment."""
    d = src.tenures.data
    weight = d["weight"].to_numpy(float)
    for seg in range(len(src.keys)):
        rows = np.flatnonzero(src.seg_code == seg)
        n = len(rows)
        grid, e_idx, x_idx, d_idx, event, w0 = _segment_arrays(src.tenures, rows)
        block = max(1, min(n_boot, _BLOCK // max(n, 1)))
        done = 0
        while done < n_boot:
            b = min(block, n_boot - done)
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(float)
            w = counts * w0[None, :]
            surv, n_at_risk, n_events, last = _weighted_km(grid, e_idx, x_idx, d_idx, event, w)
            curves = [_Curve(grid[: last[i] + 1], surv[i, : last[i] + 1], n_at_risk[i, : last[i] + 1],
                             n_events[i, : last[i] + 1]) for i in range(b)]
            yield seg, rows, counts * weight[rows][None, :], curves
            done += b
            if progress:
                label = ", ".join(map(str, src.labels()[seg])) or "all customers"
                _progress(f"{owner}: bootstrap {done}/{n_boot} replicates of segment {seg + 1}/{len(src.keys)} "
                          f"({label})")
