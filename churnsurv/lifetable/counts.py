"""Life-table plumbing of the nonparametric estimators (:mod:`churnsurv.nonparametric`).

:class:`_Counts` is a private, contiguous NumPy copy of a :class:`~churnsurv.LifeTable` with a code per segment;
the helpers here accumulate within segments, look up requested times, find a segment by its value and describe
stretches where the risk set is empty. They are shared by every estimator of that module.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnsurv._validation import param_error
from churnsurv.exceptions import StatisticalWarning, TenureDataError
from churnsurv.lifetable.table import LifeTable, as_life_table


@dataclass
class _Counts:
    """Private, contiguous NumPy copy of a life table, with segment codes and bounds."""

    by: tuple
    keys: pd.DataFrame  # one row per segment, the segment columns (dtypes kept)
    gcode: np.ndarray  # segment code per row (rows sorted by segment then time)
    starts: np.ndarray  # first row of each segment
    stops: np.ndarray  # one past the last row of each segment
    time: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    n_entered: np.ndarray
    time_unit: str

    @property
    def n_groups(self) -> int:
        return len(self.starts)

    def segment_columns(self, codes: np.ndarray) -> dict:
        """The segment columns for the given segment codes (categorical dtypes kept)."""
        return {b: self.keys[b].array.take(codes) for b in self.by}

    def frame(self, codes: np.ndarray, columns: dict) -> pd.DataFrame:
        """A new tidy frame: the segment columns for ``codes`` then ``columns``.

        A segment named like one of ``columns`` would be overwritten by it: that is refused, never silent.
        """
        clash = [b for b in self.by if b in columns]
        if clash:
            raise TenureDataError(
                f"The segment column {clash[0]!r} has the name of a result column ({', '.join(map(repr, columns))}), "
                f"so the result would lose it. Rename the segment, e.g. Tenures.from_frame(..., "
                f"rename={{{clash[0]!r}: {str(clash[0]) + '_segment'!r}}}).", column=clash[0])
        return pd.DataFrame({**self.segment_columns(codes), **columns}, index=pd.RangeIndex(len(codes)))

    def labels(self) -> list[str]:
        """A readable label per segment, e.g. ``"contract='One year'"``."""
        if not self.by:
            return ["all customers"]
        return [", ".join(f"{b}={v!r}" for b, v in zip(self.by, row, strict=True))
                for row in self.keys[list(self.by)].itertuples(index=False)]


def _counts(lt: LifeTable, owner: str) -> _Counts:
    table = lt.table
    if len(table) == 0:
        raise TenureDataError("The life table is empty: there is nothing to estimate.")
    by = tuple(lt.by)
    gcode, keys = _segment_codes(table, by)
    arrays = {c: table[c].to_numpy(dtype=float, copy=True) for c in
              ("time", "n_at_risk", "n_events", "n_censored", "n_entered")}
    t = arrays["time"]
    ordered = bool(np.all(np.diff(gcode) >= 0)) and bool(
        np.all((np.diff(t) > 0) | (np.diff(gcode) > 0)))
    if not ordered:  # a hand-made table: sort it (the contract says rows come sorted)
        order = np.lexsort((t, gcode))
        gcode = gcode[order]
        arrays = {k: v[order] for k, v in arrays.items()}
        dup = (np.diff(gcode) == 0) & (np.diff(arrays["time"]) == 0)
        if dup.any():
            raise TenureDataError(f"The life table passed to {owner} has {int(dup.sum())} repeated "
                                  "(segment, time) rows; aggregate it with LifeTable.from_counts.")
    for c in ("n_at_risk", "n_events", "n_censored", "n_entered"):
        v = arrays[c]
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            raise TenureDataError(f"Column {c!r} of the life table has {int(bad.sum())} missing or negative "
                                  f"counts; {owner} needs counts >= 0.", column=c, n_rows=int(bad.sum()))
    n, d = arrays["n_at_risk"], arrays["n_events"]
    bad = d > n * (1 + 1e-12) + 1e-12
    if bad.any():
        times = ", ".join(f"{x:g}" for x in arrays["time"][bad][:5])
        raise TenureDataError(f"The life table has {int(bad.sum())} rows with more events than customers at "
                              f"risk (times {times}); check n_at_risk and n_entered of the counts.",
                              column="n_events", n_rows=int(bad.sum()))
    starts = np.flatnonzero(np.r_[True, gcode[1:] != gcode[:-1]])
    observed = np.add.reduceat(arrays["n_at_risk"], starts) > 0
    if not observed.all():  # segments where nobody is ever at risk (zero weights): no curve, never S = 1
        gcode, keys, arrays, starts = _drop_unobserved(owner, by, gcode, keys, arrays, starts, observed)
    stops = np.r_[starts[1:], len(gcode)]
    return _Counts(by=by, keys=keys, gcode=gcode, starts=starts, stops=stops, time_unit=lt.time_unit, **arrays)


def _drop_unobserved(owner, by, gcode, keys, arrays, starts, observed):
    """Drop the segments with nobody at risk at any time, with a warning; refuse a table with none left."""
    labels = (["all customers"] if not by else
              [", ".join(f"{b}={v!r}" for b, v in zip(by, row, strict=True))
               for row in keys.loc[~observed, list(by)].itertuples(index=False)])
    if not observed.any():
        raise TenureDataError(f"{owner}: nobody is at risk at any time (every weight is 0?): there is nothing to "
                              "estimate.", column="n_at_risk")
    warnings.warn(f"{owner}: {int((~observed).sum())} segment(s) have nobody at risk at any time (their weights are "
                  f"all 0): {'; '.join(labels[:5])}. They get no curve.", StatisticalWarning, stacklevel=3)
    keep_rows = observed[gcode]
    new_code = np.cumsum(observed) - 1
    gcode = new_code[gcode[keep_rows]]
    arrays = {k: v[keep_rows] for k, v in arrays.items()}
    keys = keys.loc[observed].reset_index(drop=True)
    starts = np.flatnonzero(np.r_[True, gcode[1:] != gcode[:-1]])
    return gcode, keys, arrays, starts


def _segment_codes(table: pd.DataFrame, by: tuple) -> tuple[np.ndarray, pd.DataFrame]:
    """Segment code per row and the segment keys, from runs of equal segment values (the rows are sorted by
    segment); falls back to a groupby when a segment appears in several runs."""
    n = len(table)
    if not by:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    change = np.zeros(n, dtype=bool)
    change[0] = True
    all_codes = []
    for b in by:
        col = table[b]
        codes = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else pd.factorize(col)[0]
        change[1:] |= codes[1:] != codes[:-1]
        all_codes.append(codes)
    starts = np.flatnonzero(change)
    run_keys = np.column_stack([codes[starts] for codes in all_codes])
    if len(np.unique(run_keys, axis=0)) == len(starts):  # every segment is one run of rows
        keys = pd.DataFrame({b: table[b].array.take(starts) for b in by})
        return np.cumsum(change) - 1, keys
    g = table.groupby(list(by), observed=True, sort=True)
    return g.ngroup().to_numpy(dtype=np.int64), g.size().index.to_frame(index=False)


def _copy_life_table(lt: LifeTable) -> LifeTable:
    n_cust = lt.n_customers.copy() if lt.n_customers is not None else None
    return LifeTable(lt.table.copy(), lt.cause_events.copy(), by=lt.by, causes=lt.causes,
                     time_unit=lt.time_unit, n_customers=n_cust)


_FEW_SEGMENTS = 256  # below this, a NumPy call per segment beats a pandas groupby


def _group_accumulate(values: np.ndarray, c: _Counts, ufunc, how: str, reverse: bool = False) -> np.ndarray:
    """Sequential cumulative sum/product within segments (exact per segment, like R's loops)."""
    if reverse:
        return _group_accumulate(values[::-1], _reversed(c), ufunc, how)[::-1]
    if c.n_groups <= _FEW_SEGMENTS:
        out = np.empty_like(values)
        for a, b in zip(c.starts, c.stops, strict=True):
            ufunc.accumulate(values[a:b], out=out[a:b])
        return out
    return getattr(pd.Series(values).groupby(c.gcode, sort=False), how)().to_numpy()


def _reversed(c: _Counts) -> _Counts:
    n = len(c.gcode)
    return _Counts(by=c.by, keys=c.keys, gcode=c.gcode[::-1], starts=n - c.stops, stops=n - c.starts,
                   time=c.time[::-1], n_at_risk=c.n_at_risk, n_events=c.n_events, n_censored=c.n_censored,
                   n_entered=c.n_entered, time_unit=c.time_unit)


def _group_cumsum(values: np.ndarray, c: _Counts, reverse: bool = False) -> np.ndarray:
    """Cumulative sum within segments (sequential, exact per segment)."""
    return _group_accumulate(np.asarray(values, dtype=float), c, np.add, "cumsum", reverse)


def _group_cumprod(values: np.ndarray, c: _Counts) -> np.ndarray:
    """Cumulative product within segments."""
    return _group_accumulate(np.asarray(values, dtype=float), c, np.multiply, "cumprod")


def _group_sum(values: np.ndarray, c: _Counts) -> np.ndarray:
    return np.bincount(c.gcode, weights=values, minlength=c.n_groups)


def _pool_periods(gcode, t, n, d, width: float):
    """Pool life-table rows into the periods ``[0, w], (w, 2w], ...`` (``w = width``) of their segment, summing the
    at-risk and event counts: ``(gcode, period start, period end, n, d)``, one entry per (segment, period) with rows."""
    k = np.maximum(np.ceil(t / width) - 1.0, 0.0).astype(np.int64)
    n_bins = int(k.max()) + 1 if len(k) else 1
    key = gcode * n_bins + k
    cells, inv = np.unique(key, return_inverse=True)
    n = np.bincount(inv, weights=n, minlength=len(cells))
    d = np.bincount(inv, weights=d, minlength=len(cells))
    kb = cells % n_bins
    return cells // n_bins, kb * width, (kb + 1) * width, n, d


def _as_times(times, owner: str, name: str = "times") -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(times, dtype=float)).ravel()
    except (TypeError, ValueError) as err:
        raise param_error(name, owner, "an array-like of non-negative numbers", times, type_error=True) from err
    if arr.size == 0 or np.isnan(arr).any() or (arr < 0).any():
        raise param_error(name, owner, "an array-like of non-negative numbers", times)
    return arr


def _locate(c: _Counts, times: np.ndarray):
    """For every (segment, requested time), segment-major: the row of the last table time <= t (-1 when t
    precedes the segment's first row) and the row of the first table time >= t (-1 when beyond the end)."""
    G, m = c.n_groups, len(times)
    uniq = np.unique(c.time)
    width = len(uniq) + 1
    row_key = c.gcode * width + np.searchsorted(uniq, c.time)
    q_group = np.repeat(np.arange(G, dtype=np.int64), m)
    q_time = np.tile(times, G)
    q_key = q_group * width + (np.searchsorted(uniq, q_time, side="right") - 1)
    last = np.searchsorted(row_key, q_key, side="right") - 1
    valid = (last >= 0) & (c.gcode[np.maximum(last, 0)] == q_group)
    last = np.where(valid, last, -1)
    exact = valid & (c.time[np.maximum(last, 0)] == q_time)
    nxt = np.where(exact, last, np.where(valid, last + 1, c.starts[q_group]))
    nxt = np.where(nxt < c.stops[q_group], nxt, -1)
    return q_group, q_time, last, nxt


def _curve_frame(c: _Counts, estimate, std_error, ci_lower, ci_upper) -> pd.DataFrame:
    """The fitted table of a curve: one row per life-table row, its counts then the estimate and its interval."""
    return c.frame(c.gcode, {
        "time": c.time,
        "n_at_risk": c.n_at_risk,
        "n_events": c.n_events,
        "n_censored": c.n_censored,
        "estimate": estimate,
        "std_error": std_error,
        "ci_lower": ci_lower,
        "ci_upper": ci_upper,
    })


def _step_frame(c: _Counts, times: np.ndarray, est, se, lower, upper, *, start: float) -> pd.DataFrame:
    """A curve read as a right-continuous step function at ``times``, per segment (segment-major).

    The value at ``t`` is the one at the last life-table time ``<= t``, carried forward beyond the last time (R's
    ``summary(fit, times=, extend=TRUE)``); before a segment's first row the curve is ``start`` (1 for survival, 0
    for a cumulative hazard), with standard error 0.
    """
    g, t, last, nxt = _locate(c, times)
    has = last >= 0
    li = np.maximum(last, 0)
    return c.frame(g, {
        "time": t,
        "n_at_risk": np.where(nxt >= 0, c.n_at_risk[np.maximum(nxt, 0)], 0.0),
        "estimate": np.where(has, est[li], start),
        "std_error": np.where(has, se[li], 0.0),
        "ci_lower": np.where(has, lower[li], start),
        "ci_upper": np.where(has, upper[li], start),
    })


def _risk_set_notes(c: _Counts, surv: np.ndarray | None = None) -> dict[int, list[str]]:
    """Per segment, notes about stretches where nobody is at risk before the end of follow-up.

    * leading: nobody is observed from time 0 (every entry is later), so estimates are conditional;
    * gap: the risk set empties and later entries restart it; the estimate is carried across the gap;
    * zero: the survival estimate reaches 0 while later entries are still at risk (it stays 0).
    """
    n = c.n_at_risk
    idx = np.arange(len(n))
    pos = n > 0
    last_pos = np.full(c.n_groups, -1, dtype=np.int64)
    np.maximum.at(last_pos, c.gcode[pos], idx[pos])
    notes: dict[int, list[str]] = {}
    empty = (~pos) & (idx < last_pos[c.gcode])
    for g in np.unique(c.gcode[empty]):
        rows = idx[empty & (c.gcode == g)]
        # runs of consecutive empty rows
        breaks = np.flatnonzero(np.diff(rows) > 1)
        run_starts = np.r_[rows[0], rows[breaks + 1]]
        run_ends = np.r_[rows[breaks], rows[-1]]
        for a, b in zip(run_starts, run_ends, strict=True):
            if a == c.starts[g]:
                notes.setdefault(int(g), []).append(
                    f"nobody is observed from time 0 (the first customers enter at {c.time[b]:g}): the estimates "
                    f"are conditional on survival to {c.time[b]:g}")
            else:
                notes.setdefault(int(g), []).append(
                    f"the risk set is empty from {c.time[a - 1]:g} to {c.time[b]:g}: the estimate is carried "
                    f"across the gap (as R's survfit does), so later values assume no defections in it")
    if surv is not None:
        first_zero = (surv == 0) & (idx < last_pos[c.gcode])
        first_zero &= np.r_[True, c.gcode[1:] != c.gcode[:-1]] | (np.r_[1.0, surv[:-1]] > 0)
        for i in np.flatnonzero(first_zero):
            g = int(c.gcode[i])
            notes.setdefault(g, []).append(
                f"the survival estimate reaches 0 at {c.time[i]:g} while customers entering later are still at "
                f"risk; as in R's survfit it stays 0")
    return notes


def _warn_notes(owner: str, c: _Counts, notes: dict[int, list[str]], stacklevel: int) -> None:
    if not notes:
        return
    labels = c.labels()
    parts = [f"{labels[g]}: {'; '.join(msgs)}" for g, msgs in sorted(notes.items())]
    warnings.warn(
        f"{owner}: the risk set empties before the end of follow-up in {len(notes)} segment(s) "
        f"({' | '.join(parts)}). This happens with left-truncated data; read those curves as conditional.",
        StatisticalWarning, stacklevel=stacklevel + 1)


def _fit_life_table(data, by, frame_kwargs) -> LifeTable:
    lt = as_life_table(data, by, **frame_kwargs)
    return _copy_life_table(lt) if lt is data else lt  # never keep the caller's object


def _n_obs(c: _Counts) -> int | float:
    total = float(c.n_entered.sum())
    return int(round(total)) if abs(total - round(total)) < 1e-9 else total


def _segment_code(c: _Counts, reference, owner: str) -> int:
    """The code of the segment ``reference`` (a value, or a tuple with several ``by`` columns); 0 when None."""
    if reference is None:
        return 0
    key = reference if isinstance(reference, tuple) else (reference,)
    if len(key) != len(c.by):
        raise param_error("reference", owner, f"a segment given as {len(c.by)} value(s) of {list(c.by)}",
                          reference)
    match = np.ones(c.n_groups, dtype=bool)
    for b, v in zip(c.by, key, strict=True):
        match &= (c.keys[b].astype(object) == v).to_numpy() | (c.keys[b].astype(str) == str(v)).to_numpy()
    if not match.any():
        levels = [", ".join(map(str, row)) for row in c.keys.itertuples(index=False)]
        raise param_error("reference", owner, f"one of the segments {levels}", reference)
    return int(np.flatnonzero(match)[0])
